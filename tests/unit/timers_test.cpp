// Timers (core/activities/timers.*): deadlines in server time; start, pause, resume, extend, reset; expiry lands once.
#include "core_fixture.hpp"

#include <algorithm>

namespace colloquy {
namespace {

class Timers : public testing::CoreTest {};

TEST_F(Timers, AnExpiryLandsOnceHoweverManyTimesItIsSubmitted) {
  apply_ok(StartRound{grace, OrderKind::join, {}, 3, true, 0});
  now += 3000;
  const Expire expire{TimerId::turn, state.timers.turn.ends_at_ms};
  auto first = decide(state, expire, now);
  const auto stale = state; // a second instance decided on the same state...
  for (const auto& e : std::get<Decision>(first).events) evolve(state, e);
  // ... but after the first landed, the same expiry decides nothing.
  EXPECT_TRUE(std::get<Decision>(decide(state, expire, now)).events.empty());
  EXPECT_FALSE(std::get<Decision>(decide(stale, expire, now)).events.empty()) << "only compare-and-append stops the stale one";
  EXPECT_TRUE(std::get<Decision>(decide(state, Expire{TimerId::turn, expire.ends_at_ms}, now - 1)).events.empty());
}

TEST_F(Timers, TimersPauseResumeExtendAndReset) {
  refused(TimerCommand{ada, TimerId::phase, TimerAction::start, 60}, ErrorCode::forbidden);
  refused(TimerCommand{grace, TimerId::phase, TimerAction::start, 0}, ErrorCode::invalid_duration);
  refused(TimerCommand{grace, TimerId::phase, TimerAction::pause, 0}, ErrorCode::timer_not_running);
  refused(TimerCommand{grace, TimerId::turn, TimerAction::start, 60}, ErrorCode::no_turn);
  apply_ok(TimerCommand{grace, TimerId::phase, TimerAction::start, 900});
  EXPECT_EQ(state.timers.phase.ends_at_ms, now + 900'000);

  // Pause with 0.1 s left keeps exactly that.
  now += 899'900;
  apply_ok(TimerCommand{grace, TimerId::phase, TimerAction::pause, 0});
  EXPECT_EQ(state.timers.phase.state, TimerState::paused);
  EXPECT_EQ(state.timers.phase.remaining_ms, 100);
  EXPECT_FALSE(next_deadline(state)) << "a paused timer has no deadline";
  now += 60'000;
  apply_ok(TimerCommand{grace, TimerId::phase, TimerAction::resume, 0});
  EXPECT_EQ(state.timers.phase.ends_at_ms, now + 100);
  apply_ok(TimerCommand{grace, TimerId::phase, TimerAction::extend, 60});
  EXPECT_EQ(state.timers.phase.ends_at_ms, now + 60'100);
  apply_ok(TimerCommand{grace, TimerId::phase, TimerAction::extend, -30});
  EXPECT_EQ(state.timers.phase.ends_at_ms, now + 30'100);
  apply_ok(TimerCommand{grace, TimerId::phase, TimerAction::extend, -3600}); // shortened past now: ends now
  EXPECT_EQ(state.timers.phase.ends_at_ms, now);
  auto expired = pass_time(0);
  EXPECT_EQ(count<TimerExpired>(expired), 1);
  EXPECT_EQ(state.timers.phase.state, TimerState::expired);

  // Extend after expiry: it runs again for that long.
  apply_ok(TimerCommand{grace, TimerId::phase, TimerAction::extend, 120});
  EXPECT_EQ(state.timers.phase.state, TimerState::running);
  EXPECT_EQ(state.timers.phase.ends_at_ms, now + 120'000);
  refused(TimerCommand{grace, TimerId::phase, TimerAction::resume, 0}, ErrorCode::timer_not_running);
  apply_ok(TimerCommand{grace, TimerId::phase, TimerAction::reset, 0});
  EXPECT_EQ(state.timers.phase, Timer{});
}

// Extends add up, but never past the 4 hours a start may give (max_duration_seconds): an extend
// that would take the total or what is left past it is refused with invalid_duration, whole.
TEST_F(Timers, RepeatedExtendsStopAtTheFourHourLimit) {
  const std::int64_t hour = 3600;
  apply_ok(TimerCommand{grace, TimerId::phase, TimerAction::start, hour});
  apply_ok(TimerCommand{grace, TimerId::phase, TimerAction::extend, 2 * hour});
  apply_ok(TimerCommand{grace, TimerId::phase, TimerAction::extend, hour});
  EXPECT_EQ(state.timers.phase.duration_ms, 4 * hour * 1000) << "exactly 4 hours is allowed";
  const Timer before = state.timers.phase;
  refused(TimerCommand{grace, TimerId::phase, TimerAction::extend, 1}, ErrorCode::invalid_duration);
  refused(TimerCommand{grace, TimerId::phase, TimerAction::extend, 4 * hour}, ErrorCode::invalid_duration);
  EXPECT_EQ(state.timers.phase, before) << "nothing changed";
  apply_ok(TimerCommand{grace, TimerId::phase, TimerAction::extend, -60}); // shortening is fine
  apply_ok(TimerCommand{grace, TimerId::phase, TimerAction::extend, 60});  // and back to the limit
  refused(TimerCommand{grace, TimerId::phase, TimerAction::extend, 60}, ErrorCode::invalid_duration);

  // Paused: the same limit.
  apply_ok(TimerCommand{grace, TimerId::phase, TimerAction::pause, 0});
  refused(TimerCommand{grace, TimerId::phase, TimerAction::extend, 1}, ErrorCode::invalid_duration);
  EXPECT_EQ(state.timers.phase.remaining_ms, 4 * hour * 1000);

  // Expired: more time starts it again, at most 4 hours.
  apply_ok(TimerCommand{grace, TimerId::phase, TimerAction::resume, 0});
  pass_time(4 * hour * 1000);
  ASSERT_EQ(state.timers.phase.state, TimerState::expired);
  apply_ok(TimerCommand{grace, TimerId::phase, TimerAction::extend, 4 * hour});
  refused(TimerCommand{grace, TimerId::phase, TimerAction::extend, 1}, ErrorCode::invalid_duration);
}

TEST_F(Timers, AGoRoundTurnCannotBeExtendedPastTheLimitEither) {
  apply_ok(StartRound{grace, OrderKind::custom, {ada, lin}, 4 * 3600 - 10, true, 0});
  apply_ok(TimerCommand{grace, TimerId::turn, TimerAction::extend, 10});
  const Timer before = state.timers.turn;
  refused(TimerCommand{grace, TimerId::turn, TimerAction::extend, 1}, ErrorCode::invalid_duration);
  EXPECT_EQ(state.timers.turn, before);
  // Time that has passed does not make room: the total counts, not only what is left.
  now += 3600'000;
  refused(TimerCommand{grace, TimerId::turn, TimerAction::extend, 60}, ErrorCode::invalid_duration);
}

} // namespace
} // namespace colloquy
