#pragma once
// Anonymous prompts, once released: the released list (looked up by id through an index), votes
// and posing. Pending prompts live outside the log, without authors (the hub's store); the core
// only checks who may submit or manage them, and releases the batches the hub hands it.
#include "core/decision.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace colloquy {

struct RoomState;

// An anonymous prompt once released to the group (protocol 1.3). Nothing in it names its author.
struct ReleasedPrompt {
  std::string id;
  std::string text;
  std::int64_t votes = 0;
  bool posed = false;
  std::optional<std::string> posed_to; // with posed: nothing = to the group
};

enum class PromptAction { submit, manage };
// Submitting and managing pending prompts change no room state; the core only checks who may.
struct CheckPrompt { std::string actor; PromptAction action; };
// The batch, already taken from the pending set and shuffled by the caller. `actor` empty: the server.
struct ReleasePrompts { std::string actor; std::vector<PromptText> batch; };

namespace prompts {

class State {
public:
  const std::vector<ReleasedPrompt>& released() const { return released_; }
  const ReleasedPrompt* find(std::string_view id) const;
  ReleasedPrompt* find(std::string_view id);
  void add(ReleasedPrompt prompt);
  // The released prompts' bytes in a snapshot (core/state_bytes.hpp).
  std::size_t bytes() const { return bytes_; }

private:
  std::size_t bytes_ = 0;
  std::vector<ReleasedPrompt> released_;               // in the order they were released
  std::unordered_map<std::string, std::size_t> index_; // id -> position
};

DecideResult decide(const RoomState& room, const CheckPrompt& c, const Context& ctx);
DecideResult decide(const RoomState& room, const ReleasePrompts& c, const Context& ctx);
DecideResult decide(const RoomState& room, const UpvotePrompt& c, const Context& ctx);
DecideResult decide(const RoomState& room, const PosePrompt& c, const Context& ctx);

void evolve(State& s, const PromptsReleased& e, std::int64_t time_ms);
void evolve(State& s, const PromptUpvoted& e, std::int64_t time_ms);
void evolve(State& s, const PromptPosed& e, std::int64_t time_ms);

} // namespace prompts
} // namespace colloquy
