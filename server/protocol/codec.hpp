#pragma once
// Wire protocol v1 (protocol/README.md): strict decoding of client commands and encoding of
// replies, errors and pushes. No I/O.
#include "core/error_code.hpp"
#include "core/room.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace colloquy::protocol {

inline constexpr int version = 1;
inline constexpr std::size_t max_id_chars = 64;
inline constexpr std::size_t max_room_chars = 64;
inline constexpr std::size_t max_secret_chars = 128;
inline constexpr std::uint64_t max_seq = (std::uint64_t{1} << 53) - 1; // the largest integer JavaScript holds exactly

struct JoinCommand {
  std::string room;
  Credential credential = Credential::join_code;
  std::string secret;
  std::string name; // cleaned (trimmed, checked); empty for resume
  std::optional<std::uint64_t> after; // resume only: the last seq the client applied (catch up from there)
};
struct LeaveCommand {};
struct PingCommand {};

// A live-round command (1.2), decoded into the core's command with `actor` left empty: the hub
// fills in the sending member.
using RoomCommand = std::variant<SetRole, HandOver, ClaimFacilitation, ChangeSettings, StartRound, FinishTurn, SkipTurn,
                                 MoveLater, EndRound, RaiseHand, LowerHand, GiveFloor, ReleaseFloor, SetFloor, TimerCommand,
                                 UpvotePrompt, PosePrompt, AddCard, RemoveCard, DrawCard>;

// The core command of a room command from member `actor`; `seed` is a fresh random number the
// hub draws for every command (used by those that make a random choice, recorded in their events).
Command to_core(RoomCommand command, std::string actor, std::uint64_t seed);

// Anonymous prompts handled by the hub with the pending set (1.3).
struct PromptCommand {
  enum class Kind { submit, release, hold, discard } kind = Kind::submit;
  std::string text;                 // submit: cleaned
  std::vector<std::string> prompts; // release: chosen ids; empty = every pending prompt not held
  std::string prompt;               // hold, discard
};

// The climate-for-learning audit (1.3): answers are stored by the hub, never in the room log.
struct AuditCommand {
  enum class Kind { open, answer, close } kind = Kind::open;
  std::int64_t k = 5;
  std::vector<std::pair<std::string, std::int64_t>> answers;
  std::string comment; // cleaned; empty = none
};

// The ephemeral channel (1.4): never logged; the hub coalesces and relays it.
inline constexpr double max_ephemeral_coordinate = 1e6;
struct EphemeralCommand {
  std::string kind;    // "cursor"
  nlohmann::json data; // checked: {x, y}
};

using ClientCommand =
    std::variant<JoinCommand, LeaveCommand, PingCommand, RoomCommand, PromptCommand, AuditCommand, EphemeralCommand>;

struct DecodedCommand {
  std::string id;
  ClientCommand command;
};

struct DecodeError {
  ErrorCode code;
  std::optional<std::string> id; // the command's id when it could be read
  std::string message;
};

std::variant<DecodedCommand, DecodeError> decode_command(std::string_view frame);

// The wire `type` of a decoded command ("join", "round_pass", …).
std::string_view command_name(const ClientCommand& command);

std::string encode_reply(std::string_view id, const nlohmann::json& result);
std::string encode_error(const std::optional<std::string>& id, ErrorCode code, std::string_view message);
// {"type":"prompts_pending","room":…,"prompts":[{"id","text","held"}]} (1.3).
struct PendingView { std::string id; std::string text; bool held = false; };
std::string encode_prompts_pending(std::string_view room_id, const std::vector<PendingView>& prompts);

// {"type":"ephemeral","room","from","kind","data"} (1.4).
std::string encode_ephemeral(std::string_view room_id, std::string_view from, std::string_view kind,
                             const nlohmann::json& data);

std::string encode_welcome(std::string_view server, std::int64_t server_time_ms, std::size_t max_frame_bytes);

// The wire form of an event body: never includes hashes of secrets.
nlohmann::json event_to_wire(const EventBody& body);
// Reads the wire form back (for conformance tests and clients of the log); nothing if malformed.
std::optional<EventBody> event_from_wire(const nlohmann::json& json);
std::string encode_event_push(std::string_view room_id, const Event& event);

nlohmann::json member_to_wire(const Member& member, bool with_presence);
nlohmann::json snapshot_to_wire(const RoomState& state);

// The live-round parts of a room (settings, round, floor, turn, timers) as in the snapshot, and
// back (also used by the storage codec). from_wire returns false if malformed.
nlohmann::json live_state_to_wire(const RoomState& state);
bool live_state_from_wire(const nlohmann::json& json, RoomState& state);
nlohmann::json timer_to_wire(const Timer& timer);
std::optional<Timer> timer_from_wire(const nlohmann::json& json);

} // namespace colloquy::protocol
