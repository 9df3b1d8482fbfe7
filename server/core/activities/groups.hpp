#pragma once
// Breakout groups: the facilitator splits the room's members into groups (pairs, triads, n) at
// random, as fresh groups (fewest repeat pairings with this room's earlier groups: the room
// remembers who has been grouped with whom, across its sessions), or by hand; moves members,
// messages every group, extends their time, recalls everyone with a warning and a grace, or closes
// them at once. A group raises flags (done, more time, help) that only it and the facilitators see.
// Split rules: core/activities/grouping.hpp. Each group's own go-round, floor and timers are the
// next step (see server/README.md, Breakout groups).
#include "core/decision.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace colloquy {

struct RoomState;

namespace groups {

// Two members (by the number in their id, a < b) and how many times they were in a group together.
struct Pairing {
  std::uint32_t a = 0;
  std::uint32_t b = 0;
  std::uint32_t count = 0;
  bool operator==(const Pairing&) const = default;
};

struct Open {
  std::vector<BreakoutGroup> groups;
  GroupMethod method = GroupMethod::random;
  std::optional<std::int64_t> ends_at_ms;
  std::optional<std::int64_t> recall_ends_at_ms; // while recalled
  std::optional<std::int64_t> closes_at_ms;      // while recalled
  std::optional<std::string> message;
  bool operator==(const Open&) const = default;
};

struct State {
  std::uint64_t groups_made = 0; // groups opened so far: the next is "g<groups_made + 1>"
  std::optional<Open> open;
  std::vector<Pairing> pairings; // sorted by (a, b); bounded by max_pairings

  const BreakoutGroup* find(std::string_view group_id) const;
  // The open group a member is in, if any.
  const BreakoutGroup* group_of(std::string_view member_id) const;
  std::uint32_t times_together(std::string_view a, std::string_view b) const;
};

// The groups' next deadline: the recall's close, else the planned end (which starts the recall).
std::optional<std::int64_t> deadline(const State& s);

// Server-initiated (the ticker) when deadline() passes: the planned end starts the recall with
// the default warning; the recall's end closes the groups. Lands once.
struct ExpireGroups { std::int64_t at_ms = 0; };

DecideResult decide(const RoomState& room, const OpenGroups& c, const Context& ctx);
DecideResult decide(const RoomState& room, const MoveToGroup& c, const Context& ctx);
DecideResult decide(const RoomState& room, const ExtendGroups& c, const Context& ctx);
DecideResult decide(const RoomState& room, const RecallGroups& c, const Context& ctx);
DecideResult decide(const RoomState& room, const CloseGroups& c, const Context& ctx);
DecideResult decide(const RoomState& room, const MessageGroups& c, const Context& ctx);
DecideResult decide(const RoomState& room, const FlagGroup& c, const Context& ctx);
DecideResult decide(const RoomState& room, const ExpireGroups& c, const Context& ctx);

void evolve(RoomState& room, const GroupsOpened& e, std::int64_t time_ms);
void evolve(State& s, const GroupMemberMoved& e, std::int64_t time_ms);
void evolve(State& s, const GroupsExtended& e, std::int64_t time_ms);
void evolve(State& s, const GroupsRecalled& e, std::int64_t time_ms);
void evolve(State& s, const GroupsClosed& e, std::int64_t time_ms);
void evolve(State& s, const GroupsMessage& e, std::int64_t time_ms);
void evolve(State& s, const GroupFlagChanged& e, std::int64_t time_ms);

} // namespace groups
} // namespace colloquy
