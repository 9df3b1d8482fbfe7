// Live rounds in the pure room core, with a fake clock: roles, go-rounds, the floor, airtime, timers.
#include "core/room.hpp"
#include "core/secret.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace colloquy {
namespace {

constexpr std::int64_t t0 = 1'700'000'000'000;

class Rounds : public ::testing::Test {
protected:
  void SetUp() override {
    state.id = "r";
    apply_ok(CreateRoom{"Spring cohort", secret_hash("key"), secret_hash("code")});
    grace = join("Grace", true);
    ada = join("Ada");
    lin = join("Lin");
    kim = join("Kim");
  }

  // Decides at `now` and applies; the test fails on an error.
  std::vector<Event> apply_ok(const Command& c) {
    auto result = decide(state, c, now);
    if (auto* e = std::get_if<Error>(&result)) {
      ADD_FAILURE() << "refused: " << to_string(e->code) << " " << e->message;
      return {};
    }
    auto events = std::get<Decision>(result).events;
    for (const auto& e : events) evolve(state, e);
    return events;
  }

  // Decides and expects a refusal with `code` that changes nothing.
  void refused(const Command& c, ErrorCode code) {
    const auto seq = state.seq;
    auto result = decide(state, c, now);
    ASSERT_TRUE(std::holds_alternative<Error>(result)) << "expected " << to_string(code);
    EXPECT_EQ(std::get<Error>(result).code, code) << std::get<Error>(result).message;
    EXPECT_EQ(state.seq, seq);
  }

  std::string join(const std::string& name, bool facilitator = false) {
    auto result = decide(state, Join{facilitator ? Credential::facilitator_key : Credential::join_code,
                                     facilitator ? "key" : "code", name, secret_hash("token-" + name)}, now);
    auto& d = std::get<Decision>(result);
    for (const auto& e : d.events) evolve(state, e);
    return d.member_id;
  }

  std::string speaker() const { return state.turn ? state.turn->member_id : ""; }

  // Lets `seconds` pass and submits the expiry the server's ticker would.
  std::vector<Event> pass_time(std::int64_t ms) {
    now += ms;
    auto next = next_deadline(state);
    if (!next || next->ends_at_ms > now) return {};
    return apply_ok(Expire{next->timer, next->ends_at_ms});
  }

  template <typename T>
  static int count(const std::vector<Event>& events) {
    return static_cast<int>(std::count_if(events.begin(), events.end(), [](const Event& e) { return std::holds_alternative<T>(e.body); }));
  }

  RoomState state;
  std::int64_t now = t0;
  std::string grace, ada, lin, kim;
};

TEST_F(Rounds, GoRoundInJoinOrderAdvancesByItselfWhenEachTurnTimesOut) {
  apply_ok(StartRound{grace, OrderKind::join, {}, 3, true, 0});
  ASSERT_TRUE(state.round);
  EXPECT_EQ(state.round->order, (std::vector<std::string>{grace, ada, lin, kim}));
  EXPECT_EQ(speaker(), grace);
  EXPECT_EQ(state.turn_timer.state, TimerState::running);
  EXPECT_EQ(state.turn_timer.ends_at_ms, now + 3000);

  for (const auto& next : {ada, lin, kim}) {
    auto events = pass_time(3000);
    EXPECT_EQ(count<TimerExpired>(events), 1);
    EXPECT_EQ(speaker(), next);
  }
  auto last = pass_time(3000);
  EXPECT_EQ(count<RoundEnded>(last), 1);
  EXPECT_FALSE(state.round);
  EXPECT_FALSE(state.turn);
  EXPECT_EQ(state.turn_timer.state, TimerState::idle);
  for (const auto& m : state.members) EXPECT_EQ(m.airtime_ms, 3000) << m.name;
}

TEST_F(Rounds, AnExpiryLandsOnceHoweverManyTimesItIsSubmitted) {
  apply_ok(StartRound{grace, OrderKind::join, {}, 3, true, 0});
  now += 3000;
  const Expire expire{TimerId::turn, state.turn_timer.ends_at_ms};
  auto first = decide(state, expire, now);
  const auto stale = state; // a second instance decided on the same state...
  for (const auto& e : std::get<Decision>(first).events) evolve(state, e);
  // ... but after the first landed, the same expiry decides nothing.
  EXPECT_TRUE(std::get<Decision>(decide(state, expire, now)).events.empty());
  EXPECT_FALSE(std::get<Decision>(decide(stale, expire, now)).events.empty()) << "only compare-and-append stops the stale one";
  EXPECT_TRUE(std::get<Decision>(decide(state, Expire{TimerId::turn, expire.ends_at_ms}, now - 1)).events.empty());
}

TEST_F(Rounds, SpeakerFinishesEarlyPassesOrIsSkippedAndTheRoundRecordsIt) {
  apply_ok(StartRound{grace, OrderKind::custom, {ada, lin, kim}, 600, true, 0});
  now += 42'000;
  refused(FinishTurn{lin}, ErrorCode::not_your_turn);
  apply_ok(FinishTurn{ada});
  apply_ok(PassTurn{lin});
  refused(SkipTurn{lin}, ErrorCode::forbidden);
  apply_ok(SkipTurn{grace});
  EXPECT_FALSE(state.round);
  // The outcomes were recorded in the events; rebuild them from a fresh round.
  apply_ok(StartRound{grace, OrderKind::custom, {ada, lin}, 600, true, 0});
  now += 1000;
  apply_ok(FinishTurn{ada});
  ASSERT_TRUE(state.round);
  ASSERT_EQ(state.round->outcomes.size(), 1u);
  EXPECT_EQ(state.round->outcomes[0].outcome, Outcome::spoke);
  EXPECT_EQ(state.round->outcomes[0].ms, 1000);
  EXPECT_EQ(state.find_member(ada)->airtime_ms, 42'000 + 1000);
}

TEST_F(Rounds, SpeakerWhoLeavesMidTurnIsSkippedAndComesBackAtTheEnd) {
  apply_ok(StartRound{grace, OrderKind::custom, {ada, lin, kim}, 600, true, 0});
  now += 5000;
  auto events = apply_ok(LoseConnection{ada});
  EXPECT_EQ(speaker(), lin);
  ASSERT_EQ(state.round->outcomes.size(), 1u);
  EXPECT_EQ(state.round->outcomes[0].outcome, Outcome::skipped);
  EXPECT_EQ(state.round->outcomes[0].ms, 5000) << "her airtime so far still counts";
  // Absent when the turn comes: skipped with no time; back during the round: to the end.
  apply_ok(Leave{kim});
  apply_ok(FinishTurn{lin});
  EXPECT_FALSE(state.round) << "Kim was away: skipped, and nobody is left";

  apply_ok(StartRound{grace, OrderKind::custom, {lin, ada}, 600, true, 0});
  EXPECT_EQ(speaker(), lin);
  EXPECT_EQ(state.round->remaining, (std::vector<std::string>{lin, ada}));
  apply_ok(FinishTurn{lin}); // Ada is away: skipped at once
  EXPECT_FALSE(state.round);

  apply_ok(StartRound{grace, OrderKind::custom, {lin, ada, grace}, 600, true, 0});
  apply_ok(FinishTurn{lin}); // Ada skipped, Grace speaks
  EXPECT_EQ(speaker(), grace);
  auto back = decide(state, Join{Credential::resume_token, "token-Ada", "", ""}, now);
  for (const auto& e : std::get<Decision>(back).events) evolve(state, e);
  EXPECT_EQ(state.round->remaining, (std::vector<std::string>{grace, ada}));
  apply_ok(FinishTurn{grace});
  EXPECT_EQ(speaker(), ada);
}

TEST_F(Rounds, MoveSomeoneLaterAndEndTheRound) {
  apply_ok(StartRound{grace, OrderKind::custom, {ada, lin, kim}, 600, true, 0});
  apply_ok(MoveLater{grace, lin});
  EXPECT_EQ(state.round->remaining, (std::vector<std::string>{ada, kim, lin}));
  apply_ok(MoveLater{grace, ada}); // the speaker: her turn ends and she goes last
  EXPECT_EQ(speaker(), kim);
  EXPECT_EQ(state.round->remaining, (std::vector<std::string>{kim, lin, ada}));
  refused(MoveLater{grace, grace}, ErrorCode::invalid_field);
  apply_ok(EndRound{grace});
  EXPECT_FALSE(state.round);
  refused(EndRound{grace}, ErrorCode::no_round);
}

TEST_F(Rounds, ShuffleIsDrawnByTheServerAndRecordedInTheEvent) {
  auto events = apply_ok(StartRound{grace, OrderKind::shuffle, {}, 60, true, 12345});
  const auto& started = std::get<RoundStarted>(events.front().body);
  auto sorted = started.round.order;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (std::vector<std::string>{grace, ada, lin, kim}));
  apply_ok(EndRound{grace});
  auto again = apply_ok(StartRound{grace, OrderKind::shuffle, {}, 60, true, 12345});
  EXPECT_EQ(std::get<RoundStarted>(again.front().body).round.order, started.round.order) << "same seed, same order: decide is pure";
}

TEST_F(Rounds, BadRoundCommandsChangeNothing) {
  refused(StartRound{ada, OrderKind::join, {}, 60, true, 0}, ErrorCode::forbidden);
  refused(StartRound{grace, OrderKind::join, {}, 0, true, 0}, ErrorCode::invalid_duration);
  refused(StartRound{grace, OrderKind::join, {}, 4 * 3600 + 1, true, 0}, ErrorCode::invalid_duration);
  refused(StartRound{grace, OrderKind::custom, {ada, "m99"}, 60, true, 0}, ErrorCode::unknown_member);
  refused(StartRound{grace, OrderKind::custom, {ada, ada}, 60, true, 0}, ErrorCode::invalid_field);
  refused(FinishTurn{ada}, ErrorCode::no_round);
  apply_ok(StartRound{grace, OrderKind::join, {}, 60, true, 0});
  refused(StartRound{grace, OrderKind::join, {}, 60, true, 0}, ErrorCode::round_in_progress);
  refused(GiveFloor{grace, ada}, ErrorCode::round_in_progress);
}

TEST_F(Rounds, RolesObserversAndHandingOver) {
  refused(SetRole{ada, lin, Role::observer}, ErrorCode::forbidden);
  apply_ok(SetRole{grace, lin, Role::observer});
  refused(RaiseHand{lin}, ErrorCode::forbidden);
  refused(FinishTurn{lin}, ErrorCode::forbidden);
  apply_ok(StartRound{grace, OrderKind::join, {}, 60, true, 0});
  EXPECT_EQ(std::count(state.round->order.begin(), state.round->order.end(), lin), 0) << "observers do not speak";
  refused(SetRole{grace, "m99", Role::participant}, ErrorCode::unknown_member);
  apply_ok(SetRole{grace, ada, Role::co_facilitator});
  apply_ok(SkipTurn{ada}); // co-facilitators run rounds
  apply_ok(HandOver{grace, kim});
  EXPECT_EQ(state.find_member(kim)->role, Role::facilitator);
  EXPECT_EQ(state.find_member(grace)->role, Role::co_facilitator);
  refused(SetRole{grace, ada, Role::participant}, ErrorCode::forbidden);
}

TEST_F(Rounds, FacilitatorWhoDisconnectsKeepsTheRoleUntilTheGracePeriodEnds) {
  apply_ok(SetRole{grace, ada, Role::co_facilitator});
  apply_ok(LoseConnection{grace});
  EXPECT_EQ(state.find_member(grace)->role, Role::facilitator) << "a dropped connection does not move the role";
  refused(ClaimFacilitation{ada}, ErrorCode::facilitator_present);
  now += facilitator_grace_ms - 1;
  refused(ClaimFacilitation{ada}, ErrorCode::facilitator_present);
  refused(ClaimFacilitation{lin}, ErrorCode::forbidden);
  now += 1;
  apply_ok(ClaimFacilitation{ada});
  EXPECT_EQ(state.find_member(ada)->role, Role::facilitator);
  EXPECT_EQ(state.find_member(grace)->role, Role::co_facilitator);
}

TEST_F(Rounds, DialogueQueueFloorAndQuieterFirst) {
  apply_ok(RaiseHand{ada});
  refused(RaiseHand{ada}, ErrorCode::hand_already_raised);
  apply_ok(RaiseHand{lin});
  apply_ok(RaiseHand{kim});
  EXPECT_EQ(state.floor.queue, (std::vector<std::string>{ada, lin, kim}));
  refused(LowerHand{ada, kim}, ErrorCode::forbidden);
  refused(LowerHand{grace, grace}, ErrorCode::hand_not_raised);
  refused(GiveFloor{ada, std::nullopt}, ErrorCode::forbidden);

  apply_ok(GiveFloor{grace, std::nullopt});
  EXPECT_EQ(speaker(), ada);
  EXPECT_FALSE(state.hand_raised(ada)) << "taking the floor lowers the hand";
  now += 90'000;
  apply_ok(ReleaseFloor{ada});
  EXPECT_EQ(state.find_member(ada)->airtime_ms, 90'000);
  EXPECT_FALSE(state.turn) << "no auto-advance by default";

  apply_ok(SetFloor{grace, 120, true, true});
  apply_ok(RaiseHand{ada});          // Ada is now behind Lin and Kim but has spoken most
  apply_ok(GiveFloor{grace, kim});   // given to anyone
  EXPECT_EQ(state.turn_timer.state, TimerState::running) << "the per-turn limit";
  now += 30'000;
  apply_ok(ReleaseFloor{kim});       // auto-advance, quieter first: Lin (0 ms) before Ada (90 s)
  EXPECT_EQ(speaker(), lin);
  pass_time(120'000);                // Lin's limit runs out: the floor moves on by itself
  EXPECT_EQ(speaker(), ada);
  EXPECT_EQ(state.find_member(lin)->airtime_ms, 120'000);
  refused(ReleaseFloor{kim}, ErrorCode::not_your_turn);
  apply_ok(RaiseHand{kim});
  apply_ok(LowerHand{grace, kim}); // facilitators may lower someone else's hand
  EXPECT_TRUE(state.floor.queue.empty());
}

TEST_F(Rounds, TimersPauseResumeExtendAndReset) {
  refused(TimerCommand{ada, TimerId::phase, TimerAction::start, 60}, ErrorCode::forbidden);
  refused(TimerCommand{grace, TimerId::phase, TimerAction::start, 0}, ErrorCode::invalid_duration);
  refused(TimerCommand{grace, TimerId::phase, TimerAction::pause, 0}, ErrorCode::timer_not_running);
  refused(TimerCommand{grace, TimerId::turn, TimerAction::start, 60}, ErrorCode::no_turn);
  apply_ok(TimerCommand{grace, TimerId::phase, TimerAction::start, 900});
  EXPECT_EQ(state.phase_timer.ends_at_ms, now + 900'000);

  // Pause with 0.1 s left keeps exactly that.
  now += 899'900;
  apply_ok(TimerCommand{grace, TimerId::phase, TimerAction::pause, 0});
  EXPECT_EQ(state.phase_timer.state, TimerState::paused);
  EXPECT_EQ(state.phase_timer.remaining_ms, 100);
  EXPECT_FALSE(next_deadline(state)) << "a paused timer has no deadline";
  now += 60'000;
  apply_ok(TimerCommand{grace, TimerId::phase, TimerAction::resume, 0});
  EXPECT_EQ(state.phase_timer.ends_at_ms, now + 100);
  apply_ok(TimerCommand{grace, TimerId::phase, TimerAction::extend, 60});
  EXPECT_EQ(state.phase_timer.ends_at_ms, now + 60'100);
  apply_ok(TimerCommand{grace, TimerId::phase, TimerAction::extend, -30});
  EXPECT_EQ(state.phase_timer.ends_at_ms, now + 30'100);
  apply_ok(TimerCommand{grace, TimerId::phase, TimerAction::extend, -3600}); // shortened past now: ends now
  EXPECT_EQ(state.phase_timer.ends_at_ms, now);
  auto expired = pass_time(0);
  EXPECT_EQ(count<TimerExpired>(expired), 1);
  EXPECT_EQ(state.phase_timer.state, TimerState::expired);

  // Extend after expiry: it runs again for that long.
  apply_ok(TimerCommand{grace, TimerId::phase, TimerAction::extend, 120});
  EXPECT_EQ(state.phase_timer.state, TimerState::running);
  EXPECT_EQ(state.phase_timer.ends_at_ms, now + 120'000);
  refused(TimerCommand{grace, TimerId::phase, TimerAction::resume, 0}, ErrorCode::timer_not_running);
  apply_ok(TimerCommand{grace, TimerId::phase, TimerAction::reset, 0});
  EXPECT_EQ(state.phase_timer, Timer{});
}

TEST_F(Rounds, TurnTimerWithoutAutoAdvanceOnlyExpires) {
  apply_ok(StartRound{grace, OrderKind::custom, {ada, lin}, 5, false, 0});
  auto events = pass_time(5000);
  EXPECT_EQ(count<TimerExpired>(events), 1);
  EXPECT_EQ(speaker(), ada) << "she finishes when she is ready";
  EXPECT_EQ(state.turn_timer.state, TimerState::expired);
  apply_ok(TimerCommand{grace, TimerId::turn, TimerAction::extend, 60});
  EXPECT_EQ(state.turn_timer.state, TimerState::running);
}

} // namespace
} // namespace colloquy
