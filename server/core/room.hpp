#pragma once
// The room as a pure, deterministic state machine: decide() checks a command against the committed
// state and returns events or an error; evolve() applies an event in place and never fails. No
// I/O, no clock, no randomness: time, fresh secrets and random seeds come in as arguments.
//
// The room composes one module per activity (core/activities/): presence and roles, speaking
// (go-rounds, the floor, turns), timers, prompts, audit, deck, breakout groups. Each has its state, its commands'
// decide, its events' evolve and its rules; room.cpp registers each command and event to its module.
#include "core/activities/audit.hpp"
#include "core/activities/deck.hpp"
#include "core/activities/groups.hpp"
#include "core/activities/presence.hpp"
#include "core/activities/prompts.hpp"
#include "core/activities/speaking.hpp"
#include "core/activities/timers.hpp"
#include "core/decision.hpp"
#include "core/error_code.hpp"
#include "core/event.hpp"
#include "core/generated/messages.hpp"
#include "core/templates.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace colloquy {

struct RoomState {
  std::string id;
  std::string title;
  std::string key_hash;  // facilitator key, hashed
  std::string code_hash; // participant join code, hashed
  std::uint64_t seq = 0; // the last event applied; 0 = the room does not exist yet
  bool closed = false;   // room_closed: nothing more is decided; the hub removes it
  std::int64_t created_at_ms = 0;
  std::vector<Member> members; // the roster, in join order: members[N-1] is "mN" (presence module)
  presence::State presence;
  speaking::State speaking;
  timers::State timers;
  prompts::State prompts;
  audit::State audit;
  deck::State deck;
  groups::State groups;

  // By id, through the number in it (O(1)).
  const Member* find_member(std::string_view member_id) const;
  Member* find_member(std::string_view member_id);
  bool exists() const { return seq > 0; }
};

// Creates the room (seq 1): the hub's first command of every room.
struct CreateRoom { std::string title; std::string key_hash; std::string code_hash; };

using Command = std::variant<CreateRoom, Join, Leave, LoseConnection, SetRole, HandOver, ClaimFacilitation, RemoveMember,
                             CloseRoom, ChangeSettings,
                             StartRound, FinishTurn, PassTurn, SkipTurn, MoveLater, EndRound, AddToRound, PauseActivity,
                             ResumeActivity, PauseForRestart, RaiseHand, LowerHand, GiveFloor,
                             ReleaseFloor, SetFloor, TimerCommand, Expire, CheckPrompt, ReleasePrompts, UpvotePrompt,
                             PosePrompt, OpenAudit, CheckAuditAnswer, CloseAudit, AddCard, RemoveCard, DrawCard,
                             OpenGroups, MoveToGroup, ExtendGroups, RecallGroups, CloseGroups, MessageGroups, FlagGroup>;

DecideResult decide(const RoomState& state, const Command& command, std::int64_t now_ms, const Limits& limits = {});

// Applies one event; events must arrive in seq order (state.seq + 1).
void evolve(RoomState& state, const Event& event);

} // namespace colloquy
