#include "core/activities/timers.hpp"

#include "core/room.hpp"

#include <algorithm>

namespace colloquy {

std::optional<Deadline> next_deadline(const RoomState& state) {
  std::optional<Deadline> best;
  for (TimerId id : {TimerId::phase, TimerId::turn}) {
    const Timer& t = state.timers.of(id);
    if (t.state == TimerState::running && (!best || t.ends_at_ms < best->ends_at_ms)) best = Deadline{id, t.ends_at_ms};
  }
  if (auto hold = speaking::hold_deadline(state); hold && (!best || *hold < best->ends_at_ms)) best = Deadline{TimerId::turn, *hold, true};
  if (auto g = groups::deadline(state.groups); g && (!best || *g < best->ends_at_ms)) best = Deadline{TimerId::phase, *g, false, true};
  return best;
}

namespace timers {
namespace {
constexpr std::int64_t max_duration_ms = max_duration_seconds * 1000;

// What is left of a timer at `now`: to its end if running, as kept if paused.
std::int64_t remaining_ms(const Timer& t, std::int64_t now) {
  if (t.state == TimerState::running) return std::max<std::int64_t>(0, t.ends_at_ms - now);
  if (t.state == TimerState::paused) return t.remaining_ms;
  return 0;
}
} // namespace

DecideResult decide(const RoomState& room, const TimerCommand& c, const Context& ctx) {
  if (!presence::lead(room, c.actor)) return forbidden("only facilitators run the timers");
  if (room.speaking.paused && (c.action == TimerAction::start || c.action == TimerAction::resume)) {
    return Error{ErrorCode::activity_paused, "the room is paused; resume it to run timers"};
  }
  const Timer& t = room.timers.of(c.timer);
  const std::int64_t now = ctx.now_ms;
  Timer next = t;
  const std::int64_t delta = c.seconds * 1000;
  switch (c.action) {
  case TimerAction::start:
    if (!valid_duration(c.seconds)) return Error{ErrorCode::invalid_duration, "a timer runs 1 second to 4 hours"};
    if (c.timer == TimerId::turn && !room.speaking.turn) return Error{ErrorCode::no_turn, "nobody holds the floor"};
    next = Timer{TimerState::running, delta, now + delta, 0};
    break;
  case TimerAction::pause:
    if (t.state != TimerState::running) return Error{ErrorCode::timer_not_running, "that timer is not running"};
    next = Timer{TimerState::paused, t.duration_ms, 0, std::max<std::int64_t>(0, t.ends_at_ms - now)};
    break;
  case TimerAction::resume:
    if (t.state != TimerState::paused) return Error{ErrorCode::timer_not_running, "that timer is not paused"};
    next = Timer{TimerState::running, t.duration_ms, now + t.remaining_ms, 0};
    break;
  case TimerAction::extend:
    if (c.seconds == 0 || c.seconds < -max_duration_seconds || c.seconds > max_duration_seconds) {
      return Error{ErrorCode::invalid_duration, "extend by -4 hours to 4 hours, not 0"};
    }
    if (t.state == TimerState::running) {
      next.ends_at_ms = std::max(now, t.ends_at_ms + delta);
      next.duration_ms = std::max<std::int64_t>(0, t.duration_ms + delta);
    } else if (t.state == TimerState::paused) {
      next.remaining_ms = std::max<std::int64_t>(0, t.remaining_ms + delta);
      next.duration_ms = std::max<std::int64_t>(0, t.duration_ms + delta);
    } else if (t.state == TimerState::expired && c.seconds > 0) {
      next = Timer{TimerState::running, delta, now + delta, 0}; // more time after the end: runs again
    } else {
      return Error{ErrorCode::timer_not_running, "that timer is not running"};
    }
    // Extends add up, but a timer never holds more than the 4 hours a start may give it: neither
    // its total nor what is left of it (refused whole: nothing changes).
    if (next.duration_ms > max_duration_ms || remaining_ms(next, now) > max_duration_ms) {
      return Error{ErrorCode::invalid_duration, "a timer runs at most 4 hours in all; extend it by less"};
    }
    break;
  case TimerAction::reset:
    next = Timer{};
    break;
  }
  if (next == t && c.action == TimerAction::reset) return Decision{};
  Emitter out(room.seq, now);
  out.emit(TimerSet{c.timer, c.action, next});
  return out.take();
}

DecideResult decide(const RoomState& room, const Expire& c, const Context& ctx) {
  if (c.groups) return groups::decide(room, groups::ExpireGroups{c.ends_at_ms}, ctx);
  if (c.speaker_hold) {
    // Lands once: the turn skipped (or the speaker back, or a pause) leaves no hold with that deadline.
    const auto hold = speaking::hold_deadline(room);
    if (!hold || *hold != c.ends_at_ms || ctx.now_ms < *hold) return Decision{};
    Emitter out(room.seq, ctx.now_ms);
    speaking::Chain(room, out).hold_expired();
    return out.take();
  }
  const Timer& t = room.timers.of(c.timer);
  if (t.state != TimerState::running || t.ends_at_ms != c.ends_at_ms || ctx.now_ms < t.ends_at_ms) return Decision{};
  Emitter out(room.seq, ctx.now_ms);
  if (c.timer == TimerId::phase) {
    out.emit(TimerExpired{TimerId::phase});
    return out.take();
  }
  // The turn timer ends the turn too, where the round or the floor advances by itself.
  speaking::Chain chain(room, out);
  chain.emit(TimerExpired{TimerId::turn});
  chain.turn_timer_expired();
  return out.take();
}

void evolve(State& s, const TimerSet& e, std::int64_t) { s.of(e.timer) = e.state; }
void evolve(State& s, const TimerExpired& e, std::int64_t) {
  Timer& t = s.of(e.timer);
  t.state = TimerState::expired;
  t.remaining_ms = 0;
}

} // namespace timers
} // namespace colloquy
