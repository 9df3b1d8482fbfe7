#pragma once
// Speaking: go-rounds, the dialogue floor and its queue of raised hands, and the turn they share
// (with the turn timer and airtime). Multi-step rules (a turn ends, the next begins, the round
// completes) run on a Chain: a copy of this module's small state only, bounded by members.
#include "core/decision.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace colloquy {

struct RoomState;

struct Turn {
  std::string member_id;
  TurnMode mode = TurnMode::round;
  std::int64_t started_at_ms = 0;
  std::int64_t paused_ms = 0;                 // spent paused: not airtime
  std::optional<std::int64_t> held_until_ms;  // turn_held: while the speaker is away, when the turn is skipped
  std::int64_t held_since_ms = 0;             // turn_held: when they went (a skipped hold credits airtime to here)
};

// The room's activity is paused (activity_paused): timers stopped, the turn's airtime stopped at
// since_ms, turns do not change until a facilitator resumes.
struct Pause {
  PauseReason reason = PauseReason::facilitator;
  std::int64_t since_ms = 0;
};

// The last go-round, from its end until the next starts (bounded like the round's outcomes).
struct RoundSummary {
  std::uint64_t id = 0;
  RoundEndReason reason = RoundEndReason::completed;
  std::vector<RoundOutcome> outcomes;
};

struct Round {
  std::uint64_t id = 0;
  std::vector<std::string> order;     // as started
  std::vector<std::string> remaining; // still to speak, the current speaker first
  std::int64_t turn_seconds = 0;
  bool auto_advance = true;
  std::vector<RoundOutcome> outcomes;
  // Members whose turn was skipped because they were not online (derived from turn_ended and the
  // presence at that moment; kept in snapshots): coming back while the round runs puts them at the end.
  std::vector<std::string> skipped_away;
};

struct Floor {
  std::vector<std::string> queue; // raised hands, in order
  std::optional<std::int64_t> turn_seconds;
  bool auto_advance = false;
  bool quieter_first = false;
};

// Server-initiated at start-up: the server was down since `since_ms` (the last moment it was known
// alive). Pauses whatever was running then, in the same append that marks members away.
struct PauseForRestart { std::int64_t since_ms = 0; };

namespace speaking {

// Airtime of the turn so far at `now`: paused time is not counted, nor anything after a pause began.
std::int64_t credited_ms(const Turn& turn, const std::optional<Pause>& paused, std::int64_t now_ms);
// While the speaker is away: the deadline of their hold (none while paused or when they are back).
std::optional<std::int64_t> hold_deadline(const RoomState& room);

struct State {
  std::uint64_t rounds_started = 0;
  std::optional<Round> round;
  Floor floor;
  std::optional<Turn> turn;
  std::optional<Pause> paused;
  std::optional<RoundSummary> last_round;
  // A member's hand is raised exactly when they are in the speaking queue.
  bool hand_raised(std::string_view member_id) const;
};

// The rules that take several events, each seeing the effects of the ones before: on a copy of
// the speaking state and the turn timer (never the room), emitting through the decision's Emitter.
class Chain {
public:
  Chain(const RoomState& room, Emitter& out);

  void emit(EventBody body);
  // This decision made the member unable to speak (left, lost, made observer).
  void cannot_speak(const std::string& member);
  bool can_speak(const std::string& member) const;

  // Airtime is credited to now, or to `until` when given (a speaker who went away and did not come back).
  void end_turn(Outcome outcome, std::optional<std::int64_t> until = std::nullopt);
  void reset_turn_timer();
  // Starts the next present member's turn, skipping absent ones; ends the round when nobody is left.
  void advance_round();
  void give_floor(const std::string& member);
  // The queued member to speak next: the head, or with quieter_first the least airtime so far.
  std::optional<std::string> next_in_queue() const;
  // After a floor turn ended: the next in the queue, if the floor advances by itself.
  void after_floor_turn();
  // A member stops being able to speak: their hand and turn end.
  void withdraw(const std::string& member);
  // A member who was skipped for being away and comes back goes to the end of the round.
  void rejoin_round(const std::string& member);
  // A member who may no longer take part leaves the round's order.
  void drop_from_round(const std::string& member);
  // The member's connection dropped: a speaker keeps the turn for the speaker grace (the pause, if
  // one is on, is everyone's grace: nothing changes then); anyone else is withdrawn.
  void connection_lost(const std::string& member, std::int64_t grace_ms);
  // Pauses every running timer whose deadline is after since_ms, and the turn's airtime.
  void pause(PauseReason reason, std::int64_t since_ms);
  void resume(std::int64_t grace_ms);
  // The hold ran out and the speaker is still away: their turn is skipped.
  void hold_expired();
  // The turn timer ran out: the turn ends if the round or floor advances by itself.
  void turn_timer_expired();

  const State& state() const { return scratch_; }

private:
  std::int64_t airtime(const std::string& member) const;
  // A turn timer started now for that long: paused (with all of it left) while the room is paused.
  Timer turn_timer(std::int64_t seconds) const;

  const RoomState& room_;
  Emitter& out_;
  State scratch_;
  Timer turn_timer_;
  std::vector<std::pair<std::string, std::int64_t>> airtime_added_; // by this chain's turn_ended events
  std::string unable_;
};

DecideResult decide(const RoomState& room, const StartRound& c, const Context& ctx);
DecideResult decide(const RoomState& room, const FinishTurn& c, const Context& ctx);
DecideResult decide(const RoomState& room, const PassTurn& c, const Context& ctx);
DecideResult decide(const RoomState& room, const SkipTurn& c, const Context& ctx);
DecideResult decide(const RoomState& room, const MoveLater& c, const Context& ctx);
DecideResult decide(const RoomState& room, const EndRound& c, const Context& ctx);
DecideResult decide(const RoomState& room, const AddToRound& c, const Context& ctx);
DecideResult decide(const RoomState& room, const PauseActivity& c, const Context& ctx);
DecideResult decide(const RoomState& room, const ResumeActivity& c, const Context& ctx);
DecideResult decide(const RoomState& room, const PauseForRestart& c, const Context& ctx);
DecideResult decide(const RoomState& room, const RaiseHand& c, const Context& ctx);
DecideResult decide(const RoomState& room, const LowerHand& c, const Context& ctx);
DecideResult decide(const RoomState& room, const GiveFloor& c, const Context& ctx);
DecideResult decide(const RoomState& room, const ReleaseFloor& c, const Context& ctx);
DecideResult decide(const RoomState& room, const SetFloor& c, const Context& ctx);

void evolve(State& s, const RoundStarted& e, std::int64_t time_ms);
void evolve(State& s, const RoundOrderChanged& e, std::int64_t time_ms);
void evolve(State& s, const RoundEnded& e, std::int64_t time_ms);
void evolve(State& s, const ActivityPaused& e, std::int64_t time_ms);
void evolve(State& s, const ActivityResumed& e, std::int64_t time_ms);
void evolve(State& s, const TurnHeld& e, std::int64_t time_ms);
void evolve(State& s, const TurnStarted& e, std::int64_t time_ms);
void evolve(State& s, const TurnEnded& e, std::int64_t time_ms);
void evolve(State& s, const HandRaised& e, std::int64_t time_ms);
void evolve(State& s, const HandLowered& e, std::int64_t time_ms);
void evolve(State& s, const FloorSettingsChanged& e, std::int64_t time_ms);
// Airtime lives on the roster: a turn's time is added to its member.
void evolve(RoomState& room, const TurnEnded& e, std::int64_t time_ms);

} // namespace speaking
} // namespace colloquy
