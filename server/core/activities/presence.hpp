#pragma once
// Presence and roles: who is in the room (the roster, RoomState::members), joining, leaving and
// coming back, roles and handing over the facilitation, and the room's settings.
#include "core/decision.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace colloquy {

struct RoomState;

// The number in a member id ("m12" → 12); 0 if it is not a member id.
std::uint32_t member_number(std::string_view member_id);

// Facilitators and co-facilitators run rounds, the floor and timers.
inline bool leads(Role role) { return role == Role::facilitator || role == Role::co_facilitator; }

inline constexpr std::int64_t facilitator_grace_ms = facilitator_grace_seconds * 1000;

struct Member {
  std::string id; // "m1", "m2", … in join order; not secret (RoomState::find_member reads the number)
  std::string name;
  Role role = Role::participant;
  Presence presence = Presence::online;
  std::string token_hash;         // SHA-256 hex of the resume token; the token itself is never kept
  std::int64_t airtime_ms = 0;    // time holding the floor, this session (kept by the speaking module)
  std::int64_t away_since_ms = 0; // when presence last stopped being online
};

// The hub's commands of presence (the room commands are generated: SetRole, HandOver, …).
struct Join {
  Credential credential = Credential::join_code;
  std::string secret;         // as presented; only its hash is compared or kept
  std::string name;           // already cleaned; empty with resume_token
  std::string new_token_hash; // hash of a fresh resume token, used if a new member is made
};
struct Leave { std::string member_id; };
struct LoseConnection { std::string member_id; };

namespace presence {

struct State {
  AirtimeVisibility airtime_visibility = AirtimeVisibility::everyone;
};

// The sender, who must be a member of the room and not have left; else nullptr.
const Member* actor(const RoomState& room, const std::string& id);
// The sender if they lead (facilitator or co-facilitator); else nullptr.
const Member* lead(const RoomState& room, const std::string& id);

// Whether a facilitator key or join code lets one into the room, before a name is asked
// (HTTP invite-check): room_not_found, or bad_credentials (constant-time, one code for either
// secret), exactly as `join` would answer. Nothing else of the room is looked at.
std::optional<Error> check_invitation(const RoomState& room, Credential credential, std::string_view secret);

DecideResult decide(const RoomState& room, const Join& c, const Context& ctx);
DecideResult decide(const RoomState& room, const Leave& c, const Context& ctx);
DecideResult decide(const RoomState& room, const LoseConnection& c, const Context& ctx);
DecideResult decide(const RoomState& room, const SetRole& c, const Context& ctx);
DecideResult decide(const RoomState& room, const HandOver& c, const Context& ctx);
DecideResult decide(const RoomState& room, const ClaimFacilitation& c, const Context& ctx);
DecideResult decide(const RoomState& room, const RemoveMember& c, const Context& ctx);
DecideResult decide(const RoomState& room, const CloseRoom& c, const Context& ctx);
DecideResult decide(const RoomState& room, const ChangeSettings& c, const Context& ctx);
// Members holding a place: online or away (not left, not removed).
std::size_t present(const RoomState& room);

void evolve(RoomState& room, const MemberJoined& e, std::int64_t time_ms);
void evolve(RoomState& room, const MemberLeft& e, std::int64_t time_ms);
void evolve(RoomState& room, const MemberConnectionLost& e, std::int64_t time_ms);
void evolve(RoomState& room, const MemberBack& e, std::int64_t time_ms);
void evolve(RoomState& room, const MemberRemoved& e, std::int64_t time_ms);
void evolve(RoomState& room, const RoomClosed& e, std::int64_t time_ms);
void evolve(RoomState& room, const RoleChanged& e, std::int64_t time_ms);
void evolve(RoomState& room, const SettingsChanged& e, std::int64_t time_ms);

} // namespace presence
} // namespace colloquy
