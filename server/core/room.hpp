#pragma once
// The room as a pure, deterministic state machine: decide() checks a command against the state
// and returns events or an error; evolve() applies an event and never fails. No I/O, no clock,
// no randomness: time and fresh secrets come in as arguments.
#include "core/error_code.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace colloquy {

enum class Role { facilitator, participant };
enum class Presence { online, away, left };

std::string_view to_string(Role role);
std::string_view to_string(Presence presence);
std::optional<Role> role_from_string(std::string_view text);

struct Member {
  std::string id;   // "m1", "m2", … in join order; not secret
  std::string name;
  Role role = Role::participant;
  Presence presence = Presence::online;
  std::string token_hash; // SHA-256 hex of the resume token; the token itself is never kept
};

struct RoomState {
  std::string id;
  std::string title;
  std::string key_hash;  // facilitator key, hashed
  std::string code_hash; // participant join code, hashed
  std::uint64_t seq = 0; // the last event applied; 0 = the room does not exist yet
  std::int64_t created_at_ms = 0;
  std::vector<Member> members;

  const Member* find_member(std::string_view member_id) const;
  Member* find_member(std::string_view member_id);
  bool exists() const { return seq > 0; }
};

// Who may see an event. Fan-out filters by it; private data never reaches another connection.
struct Audience {
  enum class Kind { everyone, member, facilitators };
  Kind kind = Kind::everyone;
  std::string member_id; // for Kind::member
};

// ---- Events: what happened. Stored in the room log; hashes never leave the server.
struct RoomCreated { std::string title; std::string key_hash; std::string code_hash; };
struct MemberJoined { std::string member_id; std::string name; Role role; std::string token_hash; };
struct MemberLeft { std::string member_id; };
struct MemberConnectionLost { std::string member_id; };
struct MemberBack { std::string member_id; };

using EventBody = std::variant<RoomCreated, MemberJoined, MemberLeft, MemberConnectionLost, MemberBack>;

struct Event {
  std::uint64_t seq = 0;
  std::int64_t time_ms = 0;
  EventBody body;
  Audience audience;
};

// ---- Commands: what someone asks for. Already decoded and shape-checked by the protocol layer.
struct CreateRoom { std::string title; std::string key_hash; std::string code_hash; };
enum class Credential { facilitator_key, join_code, resume_token };
struct Join {
  Credential credential = Credential::join_code;
  std::string secret;         // as presented; only its hash is compared or kept
  std::string name;           // already cleaned; empty with resume_token
  std::string new_token_hash; // hash of a fresh resume token, used if a new member is made
};
struct Leave { std::string member_id; };
struct LoseConnection { std::string member_id; };

using Command = std::variant<CreateRoom, Join, Leave, LoseConnection>;

struct Limits {
  std::size_t max_members = 50;
};

struct Decision {
  std::vector<Event> events;  // seq and time already assigned
  std::string member_id;      // for Join: the member it resolved to
};

using DecideResult = std::variant<Decision, Error>;

DecideResult decide(const RoomState& state, const Command& command, std::int64_t now_ms,
                    const Limits& limits = {});

// Applies one event; events must arrive in seq order (state.seq + 1).
void evolve(RoomState& state, const Event& event);

} // namespace colloquy
