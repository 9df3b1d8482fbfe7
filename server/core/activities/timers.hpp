#pragma once
// Timers: the phase timer and the turn timer, as deadlines in server time. Expiry is a command
// like any other (Expire), submitted by the hub when a deadline passes.
#include "core/decision.hpp"

#include <cstdint>
#include <optional>

namespace colloquy {

struct RoomState;

// Server-initiated: a running timer reached ends_at. Lands once: after that the timer is not
// running with that deadline any more, so the same command decides nothing.
// With speaker_hold it is the hold of a speaker who is away (turn_held) that ran out, not a timer.
// With groups it is the breakout groups' deadline (groups::deadline): their planned end or the recall's close.
struct Expire { TimerId timer; std::int64_t ends_at_ms; bool speaker_hold = false; bool groups = false; };

// The earliest deadline of a running timer or a speaker's hold, if any (for scheduling Expire).
struct Deadline { TimerId timer; std::int64_t ends_at_ms; bool speaker_hold = false; bool groups = false; };
std::optional<Deadline> next_deadline(const RoomState& state);

namespace timers {

// A deadline in server time while running; what was left while paused.
struct State {
  Timer phase;
  Timer turn;
  Timer& of(TimerId which) { return which == TimerId::phase ? phase : turn; }
  const Timer& of(TimerId which) const { return which == TimerId::phase ? phase : turn; }
};

DecideResult decide(const RoomState& room, const TimerCommand& c, const Context& ctx);
DecideResult decide(const RoomState& room, const Expire& c, const Context& ctx);

void evolve(State& s, const TimerSet& e, std::int64_t time_ms);
void evolve(State& s, const TimerExpired& e, std::int64_t time_ms);

} // namespace timers
} // namespace colloquy
