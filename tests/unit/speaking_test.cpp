// Speaking (core/activities/speaking.*): go-rounds, the dialogue floor and its queue, turns, airtime.
#include "core_fixture.hpp"
#include "core/state_bytes.hpp"

#include <algorithm>

namespace colloquy {
namespace {

class Speaking : public testing::CoreTest {};

TEST_F(Speaking, GoRoundInJoinOrderAdvancesByItselfWhenEachTurnTimesOut) {
  apply_ok(StartRound{grace, OrderKind::join, {}, 3, true, 0});
  ASSERT_TRUE(state.speaking.round);
  EXPECT_EQ(state.speaking.round->order, (std::vector<std::string>{grace, ada, lin, kim}));
  EXPECT_EQ(speaker(), grace);
  EXPECT_EQ(state.timers.turn.state, TimerState::running);
  EXPECT_EQ(state.timers.turn.ends_at_ms, now + 3000);

  for (const auto& next : {ada, lin, kim}) {
    auto events = pass_time(3000);
    EXPECT_EQ(count<TimerExpired>(events), 1);
    EXPECT_EQ(speaker(), next);
  }
  auto last = pass_time(3000);
  EXPECT_EQ(count<RoundEnded>(last), 1);
  EXPECT_FALSE(state.speaking.round);
  EXPECT_FALSE(state.speaking.turn);
  EXPECT_EQ(state.timers.turn.state, TimerState::idle);
  for (const auto& m : state.members) EXPECT_EQ(m.airtime_ms, 3000) << m.name;
}

TEST_F(Speaking, SpeakerFinishesEarlyPassesOrIsSkippedAndTheRoundRecordsIt) {
  apply_ok(StartRound{grace, OrderKind::custom, {ada, lin, kim}, 600, true, 0});
  now += 42'000;
  refused(FinishTurn{lin}, ErrorCode::not_your_turn);
  apply_ok(FinishTurn{ada});
  apply_ok(PassTurn{lin});
  refused(SkipTurn{lin}, ErrorCode::forbidden);
  apply_ok(SkipTurn{grace});
  EXPECT_FALSE(state.speaking.round);
  // The outcomes were recorded in the events; rebuild them from a fresh round.
  apply_ok(StartRound{grace, OrderKind::custom, {ada, lin}, 600, true, 0});
  now += 1000;
  apply_ok(FinishTurn{ada});
  ASSERT_TRUE(state.speaking.round);
  ASSERT_EQ(state.speaking.round->outcomes.size(), 1u);
  EXPECT_EQ(state.speaking.round->outcomes[0].outcome, Outcome::spoke);
  EXPECT_EQ(state.speaking.round->outcomes[0].ms, 1000);
  EXPECT_EQ(state.find_member(ada)->airtime_ms, 42'000 + 1000);
}

TEST_F(Speaking, SpeakerWhoLeavesMidTurnIsSkippedAndComesBackAtTheEnd) {
  limits.speaker_grace_ms = 0; // the rule after the grace (SpeakerGrace below), at once
  apply_ok(StartRound{grace, OrderKind::custom, {ada, lin, kim}, 600, true, 0});
  now += 5000;
  auto events = apply_ok(LoseConnection{ada});
  EXPECT_EQ(speaker(), lin);
  ASSERT_EQ(state.speaking.round->outcomes.size(), 1u);
  EXPECT_EQ(state.speaking.round->outcomes[0].outcome, Outcome::skipped);
  EXPECT_EQ(state.speaking.round->outcomes[0].ms, 5000) << "her airtime so far still counts";
  // Absent when the turn comes: skipped with no time; back during the round: to the end.
  apply_ok(Leave{kim});
  apply_ok(FinishTurn{lin});
  EXPECT_FALSE(state.speaking.round) << "Kim was away: skipped, and nobody is left";

  apply_ok(StartRound{grace, OrderKind::custom, {lin, ada}, 600, true, 0});
  EXPECT_EQ(speaker(), lin);
  EXPECT_EQ(state.speaking.round->remaining, (std::vector<std::string>{lin, ada}));
  apply_ok(FinishTurn{lin}); // Ada is away: skipped at once
  EXPECT_FALSE(state.speaking.round);

  apply_ok(StartRound{grace, OrderKind::custom, {lin, ada, grace}, 600, true, 0});
  apply_ok(FinishTurn{lin}); // Ada skipped, Grace speaks
  EXPECT_EQ(speaker(), grace);
  auto back = decide(state, Join{Credential::resume_token, "token-Ada", "", ""}, now);
  for (const auto& e : std::get<Decision>(back).events) evolve(state, e);
  EXPECT_EQ(state.speaking.round->remaining, (std::vector<std::string>{grace, ada}));
  apply_ok(FinishTurn{grace});
  EXPECT_EQ(speaker(), ada);
}

TEST_F(Speaking, MoveSomeoneLaterAndEndTheRound) {
  apply_ok(StartRound{grace, OrderKind::custom, {ada, lin, kim}, 600, true, 0});
  apply_ok(MoveLater{grace, lin});
  EXPECT_EQ(state.speaking.round->remaining, (std::vector<std::string>{ada, kim, lin}));
  apply_ok(MoveLater{grace, ada}); // the speaker: her turn ends and she goes last
  EXPECT_EQ(speaker(), kim);
  EXPECT_EQ(state.speaking.round->remaining, (std::vector<std::string>{kim, lin, ada}));
  refused(MoveLater{grace, grace}, ErrorCode::invalid_field);
  apply_ok(EndRound{grace});
  EXPECT_FALSE(state.speaking.round);
  refused(EndRound{grace}, ErrorCode::no_round);
}

TEST_F(Speaking, ShuffleIsDrawnByTheServerAndRecordedInTheEvent) {
  auto events = apply_ok(StartRound{grace, OrderKind::shuffle, {}, 60, true, false, 12345});
  const auto& started = std::get<RoundStarted>(events.front().body);
  auto sorted = started.round.order;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (std::vector<std::string>{grace, ada, lin, kim}));
  apply_ok(EndRound{grace});
  auto again = apply_ok(StartRound{grace, OrderKind::shuffle, {}, 60, true, false, 12345});
  EXPECT_EQ(std::get<RoundStarted>(again.front().body).round.order, started.round.order) << "same seed, same order: decide is pure";
}

TEST_F(Speaking, BadRoundCommandsChangeNothing) {
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

TEST_F(Speaking, DialogueQueueFloorAndQuieterFirst) {
  apply_ok(RaiseHand{ada});
  refused(RaiseHand{ada}, ErrorCode::hand_already_raised);
  apply_ok(RaiseHand{lin});
  apply_ok(RaiseHand{kim});
  EXPECT_EQ(state.speaking.floor.queue, (std::vector<std::string>{ada, lin, kim}));
  refused(LowerHand{ada, kim}, ErrorCode::forbidden);
  refused(LowerHand{grace, grace}, ErrorCode::hand_not_raised);
  refused(GiveFloor{ada, std::nullopt}, ErrorCode::forbidden);

  apply_ok(GiveFloor{grace, std::nullopt});
  EXPECT_EQ(speaker(), ada);
  EXPECT_FALSE(state.speaking.hand_raised(ada)) << "taking the floor lowers the hand";
  now += 90'000;
  apply_ok(ReleaseFloor{ada});
  EXPECT_EQ(state.find_member(ada)->airtime_ms, 90'000);
  EXPECT_FALSE(state.speaking.turn) << "no auto-advance by default";

  apply_ok(SetFloor{grace, 120, true, true});
  apply_ok(RaiseHand{ada});          // Ada is now behind Lin and Kim but has spoken most
  apply_ok(GiveFloor{grace, kim});   // given to anyone
  EXPECT_EQ(state.timers.turn.state, TimerState::running) << "the per-turn limit";
  now += 30'000;
  apply_ok(ReleaseFloor{kim});       // auto-advance, quieter first: Lin (0 ms) before Ada (90 s)
  EXPECT_EQ(speaker(), lin);
  pass_time(120'000);                // Lin's limit runs out: the floor moves on by itself
  EXPECT_EQ(speaker(), ada);
  EXPECT_EQ(state.find_member(lin)->airtime_ms, 120'000);
  refused(ReleaseFloor{kim}, ErrorCode::not_your_turn);
  apply_ok(RaiseHand{kim});
  apply_ok(LowerHand{grace, kim}); // facilitators may lower someone else's hand
  EXPECT_TRUE(state.speaking.floor.queue.empty());
}

TEST_F(Speaking, TurnTimerWithoutAutoAdvanceOnlyExpires) {
  apply_ok(StartRound{grace, OrderKind::custom, {ada, lin}, 5, false, 0});
  auto events = pass_time(5000);
  EXPECT_EQ(count<TimerExpired>(events), 1);
  EXPECT_EQ(speaker(), ada) << "she finishes when she is ready";
  EXPECT_EQ(state.timers.turn.state, TimerState::expired);
  apply_ok(TimerCommand{grace, TimerId::turn, TimerAction::extend, 60});
  EXPECT_EQ(state.timers.turn.state, TimerState::running);
}

// A client that knows the queue only from hand_raised and hand_lowered (the event table) must see
// the same queue as the server after every decision: taking the floor lowers the hand by an event.
TEST_F(Speaking, EveryoneLeavingTheQueueLeavesItByHandLowered) {
  std::vector<std::string> seen; // the queue as the event table tells it
  auto follow = [&](const std::vector<Event>& events) {
    for (const auto& e : events) {
      if (const auto* r = std::get_if<HandRaised>(&e.body)) seen.push_back(r->member_id);
      if (const auto* l = std::get_if<HandLowered>(&e.body)) std::erase(seen, l->member_id);
    }
    EXPECT_EQ(seen, state.speaking.floor.queue);
  };
  auto lowered_before_turn = [](const std::vector<Event>& events, const std::string& who) {
    auto lowered = std::find_if(events.begin(), events.end(), [&](const Event& e) {
      const auto* l = std::get_if<HandLowered>(&e.body);
      return l && l->member_id == who;
    });
    auto started = std::find_if(events.begin(), events.end(), [&](const Event& e) {
      const auto* t = std::get_if<TurnStarted>(&e.body);
      return t && t->member_id == who;
    });
    return lowered != events.end() && started != events.end() && lowered < started;
  };
  for (const auto& who : {ada, lin, kim}) follow(apply_ok(RaiseHand{who}));

  auto head = apply_ok(GiveFloor{grace, std::nullopt}); // the head of the queue
  follow(head);
  EXPECT_TRUE(lowered_before_turn(head, ada));
  auto named = apply_ok(GiveFloor{grace, kim}); // a named member whose hand is raised
  follow(named);
  EXPECT_TRUE(lowered_before_turn(named, kim));
  EXPECT_EQ(count<HandLowered>(named), 1) << "only Kim's hand";

  follow(apply_ok(SetFloor{grace, 60, true, false}));
  follow(apply_ok(RaiseHand{ada}));
  auto released = apply_ok(ReleaseFloor{kim}); // auto-advance: Lin, the head
  follow(released);
  EXPECT_TRUE(lowered_before_turn(released, lin));
  auto expired = pass_time(60'000); // Lin's limit: the floor moves on to Ada by itself
  follow(expired);
  EXPECT_TRUE(lowered_before_turn(expired, ada));
  EXPECT_EQ(speaker(), ada);

  auto not_raised = apply_ok(GiveFloor{grace, lin}); // no hand raised: no hand_lowered
  follow(not_raised);
  EXPECT_EQ(count<HandLowered>(not_raised), 0);

  // Someone who is gone is passed over, and their hand lowered, when the floor is given.
  follow(apply_ok(RaiseHand{ada}));
  follow(apply_ok(RaiseHand{kim}));
  follow(apply_ok(LoseConnection{ada})); // her hand goes with her
  follow(apply_ok(GiveFloor{grace, std::nullopt}));
  EXPECT_EQ(speaker(), kim);
  EXPECT_TRUE(seen.empty());
}

TEST_F(Speaking, SpeakerWhoDropsMidTurnGoesToTheEndWhenBackDuringTheRound) {
  limits.speaker_grace_ms = 0; // the rule after the grace (SpeakerGrace below), at once
  apply_ok(StartRound{grace, OrderKind::custom, {ada, lin, kim}, 600, true, 0});
  now += 5000;
  apply_ok(LoseConnection{ada});
  EXPECT_EQ(speaker(), lin);
  auto back = apply_ok(Join{Credential::resume_token, "token-Ada", "", ""});
  ASSERT_EQ(count<RoundOrderChanged>(back), 1) << "back while the round runs: the event says she goes last";
  EXPECT_EQ(std::get<RoundOrderChanged>(back.back().body).remaining, (std::vector<std::string>{lin, kim, ada}));
  EXPECT_EQ(state.speaking.round->remaining, (std::vector<std::string>{lin, kim, ada}));
  apply_ok(FinishTurn{lin});
  apply_ok(PassTurn{kim});
  EXPECT_EQ(speaker(), ada) << "her turn again";
  now += 2000;
  apply_ok(FinishTurn{ada});
  EXPECT_FALSE(state.speaking.round);
  EXPECT_EQ(state.find_member(ada)->airtime_ms, 7000);
}

TEST_F(Speaking, OnlyThoseSkippedForBeingAwayAreRequeued) {
  apply_ok(StartRound{grace, OrderKind::custom, {ada, lin, kim}, 600, true, 0});
  now += 1000;
  apply_ok(SkipTurn{grace}); // Ada was here: the facilitator skipped her
  apply_ok(LoseConnection{ada});
  auto back = apply_ok(Join{Credential::resume_token, "token-Ada", "", ""});
  EXPECT_EQ(count<RoundOrderChanged>(back), 0) << "a facilitator's skip stands";
  EXPECT_EQ(state.speaking.round->remaining, (std::vector<std::string>{lin, kim}));

  apply_ok(FinishTurn{lin}); // Lin spoke, then goes and comes back: she has had her turn
  apply_ok(Leave{lin});
  auto lin_back = apply_ok(Join{Credential::resume_token, "token-Lin", "", ""});
  EXPECT_EQ(count<RoundOrderChanged>(lin_back), 0);

  apply_ok(Leave{kim}); // the speaker leaves: skipped, and the round is over
  EXPECT_FALSE(state.speaking.round);
  auto kim_back = apply_ok(Join{Credential::resume_token, "token-Kim", "", ""});
  EXPECT_EQ(count<RoundOrderChanged>(kim_back), 0) << "after the round, nothing to go back to";

  // Made an observer mid-turn: skipped, and never requeued.
  apply_ok(StartRound{grace, OrderKind::custom, {ada, lin}, 600, true, 0});
  apply_ok(SetRole{grace, ada, Role::observer});
  EXPECT_EQ(speaker(), lin);
  apply_ok(LoseConnection{ada});
  auto observer_back = apply_ok(Join{Credential::resume_token, "token-Ada", "", ""});
  EXPECT_EQ(count<RoundOrderChanged>(observer_back), 0);
  EXPECT_EQ(state.speaking.round->remaining, (std::vector<std::string>{lin}));
}

} // namespace
} // namespace colloquy

namespace colloquy {
namespace {

class SpeakingRequeue : public testing::CoreTest {};

TEST_F(SpeakingRequeue, AMemberWhoKeepsDroppingIsPutBackTwiceAtMostThenTheSkipStands) {
  limits.speaker_grace_ms = 0; // the rule after the grace (SpeakerGrace below), at once
  // Two connections that take turns dropping could otherwise keep a round going for ever.
  apply_ok(StartRound{grace, OrderKind::custom, {ada, lin}, 600, true, 0});
  for (std::size_t i = 0; i <= max_round_requeues; ++i) {
    ASSERT_EQ(speaker(), ada) << "cycle " << i;
    apply_ok(LoseConnection{ada});
    ASSERT_EQ(speaker(), lin);
    auto back = apply_ok(Join{Credential::resume_token, "token-Ada", "", ""});
    if (i == max_round_requeues) {
      EXPECT_EQ(count<RoundOrderChanged>(back), 0) << "skipped " << i + 1 << " times: the skip stands";
      EXPECT_EQ(state.speaking.round->remaining, (std::vector<std::string>{lin}));
      break;
    }
    EXPECT_EQ(count<RoundOrderChanged>(back), 1) << "put back, time " << i + 1;
    apply_ok(LoseConnection{lin});
    apply_ok(Join{Credential::resume_token, "token-Lin", "", ""});
  }
  apply_ok(FinishTurn{lin});
  EXPECT_FALSE(state.speaking.round) << "the round ends";
}

} // namespace
} // namespace colloquy

namespace colloquy {
namespace {

class SpeakerGrace : public testing::CoreTest {};

TEST_F(SpeakerGrace, ASpeakerWhoReloadsWithinTheGraceKeepsTheTurnAndItsTime) {
  apply_ok(StartRound{grace, OrderKind::custom, {ada, lin, kim}, 600, true, 0});
  now += 5000;
  auto lost = apply_ok(LoseConnection{ada});
  ASSERT_EQ(count<TurnHeld>(lost), 1);
  EXPECT_EQ(std::get<TurnHeld>(lost.back().body).until, now + 20'000);
  EXPECT_EQ(speaker(), ada) << "still her turn";
  EXPECT_EQ(count<TurnEnded>(lost), 0);
  pass_time(15'000);
  EXPECT_EQ(speaker(), ada);
  auto back = apply_ok(Join{Credential::resume_token, "token-Ada", "", ""});
  EXPECT_EQ(count<RoundOrderChanged>(back), 0) << "she never lost her place";
  EXPECT_EQ(state.timers.turn.ends_at_ms, testing::t0 + 600'000) << "the turn's time kept counting";
  EXPECT_TRUE(pass_time(20'000).empty()) << "back in time: the hold's deadline decides nothing";
  EXPECT_FALSE(next_deadline(state)->speaker_hold);
  now += 1000;
  apply_ok(FinishTurn{ada});
  EXPECT_EQ(state.find_member(ada)->airtime_ms, 41'000) << "her turn ran on while she reloaded";
  EXPECT_EQ(speaker(), lin);
}

TEST_F(SpeakerGrace, PastTheGraceTheTurnIsSkippedCreditedToTheDropAndOwedWhenBack) {
  apply_ok(StartRound{grace, OrderKind::custom, {ada, lin, kim}, 600, true, 0});
  now += 5000;
  apply_ok(LoseConnection{ada});
  EXPECT_TRUE(pass_time(19'999).empty());
  auto skipped = pass_time(1);
  ASSERT_EQ(count<TurnEnded>(skipped), 1);
  const auto& ended = std::get<TurnEnded>(skipped.front().body);
  EXPECT_EQ(ended.outcome, Outcome::skipped);
  EXPECT_EQ(ended.ms, 5000) << "airtime up to when she went, not the grace";
  EXPECT_EQ(speaker(), lin);
  auto back = apply_ok(Join{Credential::resume_token, "token-Ada", "", ""});
  ASSERT_EQ(count<RoundOrderChanged>(back), 1) << "the existing rule: to the end when back";
  EXPECT_EQ(state.speaking.round->remaining, (std::vector<std::string>{lin, kim, ada}));
}

TEST_F(SpeakerGrace, AFloorSpeakerIsHeldTooAndTheGraceCanBeTurnedOff) {
  apply_ok(GiveFloor{grace, lin});
  apply_ok(LoseConnection{lin});
  EXPECT_EQ(speaker(), lin);
  pass_time(20'000);
  EXPECT_EQ(speaker(), "") << "the floor is free again";
  limits.speaker_grace_ms = 0;
  apply_ok(GiveFloor{grace, kim});
  auto lost = apply_ok(LoseConnection{kim});
  EXPECT_EQ(count<TurnHeld>(lost), 0);
  EXPECT_EQ(speaker(), "");
}

TEST_F(SpeakerGrace, OnlyTheSpeakerIsHeld) {
  apply_ok(StartRound{grace, OrderKind::custom, {ada, lin, kim}, 600, true, 0});
  apply_ok(RaiseHand{kim});
  auto lost = apply_ok(LoseConnection{kim});
  EXPECT_EQ(count<TurnHeld>(lost), 0);
  EXPECT_EQ(count<HandLowered>(lost), 1) << "a listener's hand goes with them, as before";
  EXPECT_FALSE(next_deadline(state)->speaker_hold);
}

class Pausing : public testing::CoreTest {};

TEST_F(Pausing, APauseStopsTimersAndAirtimeAndResumeGoesOnWithWhatWasLeft) {
  apply_ok(StartRound{grace, OrderKind::custom, {ada, lin}, 60, true, 0});
  apply_ok(TimerCommand{grace, TimerId::phase, TimerAction::start, 900});
  now += 10'000;
  refused(PauseActivity{ada}, ErrorCode::forbidden);
  auto paused = apply_ok(PauseActivity{grace});
  ASSERT_TRUE(std::holds_alternative<ActivityPaused>(paused.front().body));
  EXPECT_EQ(count<TimerSet>(paused), 2) << "both timers";
  EXPECT_EQ(state.timers.turn.state, TimerState::paused);
  EXPECT_EQ(state.timers.turn.remaining_ms, 50'000);
  EXPECT_EQ(state.timers.phase.remaining_ms, 890'000);
  EXPECT_FALSE(next_deadline(state));
  refused(PauseActivity{grace}, ErrorCode::activity_paused);
  refused(FinishTurn{ada}, ErrorCode::activity_paused);
  refused(SkipTurn{grace}, ErrorCode::activity_paused);
  refused(TimerCommand{grace, TimerId::turn, TimerAction::resume, 0}, ErrorCode::activity_paused);
  refused(StartRound{grace, OrderKind::join, {}, 60, true, 0}, ErrorCode::activity_paused);
  now += 300'000; // a video-call problem
  refused(ResumeActivity{ada}, ErrorCode::forbidden);
  auto resumed = apply_ok(ResumeActivity{grace});
  EXPECT_TRUE(std::holds_alternative<ActivityResumed>(resumed.front().body));
  EXPECT_EQ(state.timers.turn.ends_at_ms, now + 50'000);
  EXPECT_EQ(state.timers.phase.ends_at_ms, now + 890'000);
  EXPECT_EQ(state.speaking.turn->paused_ms, 300'000);
  refused(ResumeActivity{grace}, ErrorCode::not_paused);
  now += 5000;
  apply_ok(FinishTurn{ada});
  EXPECT_EQ(state.find_member(ada)->airtime_ms, 15'000) << "the pause is not airtime";
  EXPECT_EQ(speaker(), lin);
  apply_ok(EndRound{grace});
  apply_ok(TimerCommand{grace, TimerId::phase, TimerAction::reset, 0});
  refused(PauseActivity{grace}, ErrorCode::nothing_to_pause);
}

TEST_F(Pausing, WhilePausedNobodyIsSkippedOrLosesTheirHandAndAnAwaySpeakerIsHeldAtResume) {
  apply_ok(StartRound{grace, OrderKind::custom, {ada, lin, kim}, 60, true, 0});
  apply_ok(RaiseHand{kim});
  apply_ok(PauseActivity{grace});
  auto lost = apply_ok(LoseConnection{ada});
  EXPECT_EQ(lost.size(), 1u) << "only the presence change";
  EXPECT_EQ(count<HandLowered>(apply_ok(LoseConnection{kim})), 0);
  EXPECT_TRUE(state.speaking.hand_raised(kim));
  EXPECT_EQ(speaker(), ada);
  now += 60'000;
  auto resumed = apply_ok(ResumeActivity{grace});
  ASSERT_EQ(count<TurnHeld>(resumed), 1) << "Ada is still away: the grace starts now";
  EXPECT_EQ(speaker(), ada);
  pass_time(20'000);
  EXPECT_EQ(speaker(), lin);
  EXPECT_EQ(state.speaking.round->outcomes.back().ms, 0) << "nothing credited for the pause or the grace";
}

TEST_F(Pausing, ARestartPausesFromTheLastMomentAliveInTheSameAppendAsTheAbsences) {
  apply_ok(StartRound{grace, OrderKind::custom, {ada, lin}, 60, true, 0});
  apply_ok(RaiseHand{lin});
  const std::int64_t alive = now + 20'000; // the last heartbeat
  now += 600'000;                           // the server was down ten minutes
  auto events = apply_ok(PauseForRestart{alive});
  ASSERT_FALSE(events.empty());
  const auto& paused = std::get<ActivityPaused>(events.front().body);
  EXPECT_EQ(paused.reason, PauseReason::restart);
  EXPECT_EQ(paused.since, alive);
  EXPECT_EQ(state.timers.turn.remaining_ms, 40'000) << "what was left when the server was last alive";
  for (const auto& m : {grace, ada, lin, kim}) apply_ok(LoseConnection{m});
  EXPECT_EQ(speaker(), ada);
  EXPECT_TRUE(state.speaking.hand_raised(lin)) << "hands stay raised";
  EXPECT_EQ(state.speaking.round->remaining, (std::vector<std::string>{ada, lin}));
  EXPECT_TRUE(std::get<Decision>(decide(state, PauseForRestart{now}, now)).events.empty()) << "paused already";
  apply_ok(Join{Credential::resume_token, "token-Grace", "", ""});
  apply_ok(Join{Credential::resume_token, "token-Ada", "", ""});
  now += 1000;
  apply_ok(ResumeActivity{grace});
  EXPECT_EQ(state.timers.turn.ends_at_ms, now + 40'000) << "the same speaker and her remaining time";
  now += 2000;
  apply_ok(FinishTurn{ada});
  EXPECT_EQ(state.find_member(ada)->airtime_ms, 22'000) << "20 s before the outage and 2 s after";
}

TEST_F(Pausing, ARestartWithNothingRunningPausesNothingAndADeadlinePastBeforeTheOutageStillFires) {
  EXPECT_TRUE(std::get<Decision>(decide(state, PauseForRestart{now}, now + 5000)).events.empty());
  apply_ok(TimerCommand{grace, TimerId::phase, TimerAction::start, 10});
  const std::int64_t alive = now + 15'000; // the timer ended while the server was still up
  now += 60'000;
  EXPECT_TRUE(apply_ok(PauseForRestart{alive}).empty());
  EXPECT_EQ(count<TimerExpired>(pass_time(0)), 1);
}

TEST_F(Pausing, LeavingWhilePausedHandsTheTurnOnPausedWithItsFullTime) {
  apply_ok(StartRound{grace, OrderKind::custom, {ada, lin}, 60, true, 0});
  now += 3000;
  apply_ok(PauseActivity{grace});
  now += 7000;
  apply_ok(Leave{ada});
  EXPECT_EQ(speaker(), lin);
  EXPECT_EQ(state.speaking.round->outcomes.back().ms, 3000);
  EXPECT_EQ(state.timers.turn.state, TimerState::paused);
  EXPECT_EQ(state.timers.turn.remaining_ms, 60'000);
  now += 1000;
  apply_ok(ResumeActivity{grace});
  now += 4000;
  apply_ok(FinishTurn{lin});
  EXPECT_EQ(state.find_member(lin)->airtime_ms, 4000);
}

class RoundOrder : public testing::CoreTest {};

TEST_F(RoundOrder, TheFacilitatorAddsAMemberBackAtTheEnd) {
  refused(AddToRound{grace, ada}, ErrorCode::no_round);
  apply_ok(StartRound{grace, OrderKind::custom, {ada, lin}, 60, true, 0});
  refused(AddToRound{ada, kim}, ErrorCode::forbidden);
  refused(AddToRound{grace, ada}, ErrorCode::already_in_round);
  refused(AddToRound{grace, "m99"}, ErrorCode::unknown_member);
  apply_ok(FinishTurn{ada});
  auto added = apply_ok(AddToRound{grace, kim}); // was not in the order
  ASSERT_EQ(count<RoundOrderChanged>(added), 1);
  apply_ok(AddToRound{grace, ada}); // has spoken: a second turn
  EXPECT_EQ(state.speaking.round->remaining, (std::vector<std::string>{lin, kim, ada}));
  const std::string ola = join("Ola");
  apply_ok(SetRole{grace, ola, Role::observer});
  refused(AddToRound{grace, ola}, ErrorCode::member_is_observer);
  apply_ok(Leave{ola});
  refused(AddToRound{grace, ola}, ErrorCode::unknown_member);
}

TEST_F(RoundOrder, AddingStopsAtTheRoomStateCap) {
  apply_ok(StartRound{grace, OrderKind::custom, {ada}, 60, true, 0});
  limits.max_room_state_bytes = state_bytes::room(state) + 3 * state_bytes::outcome;
  int turns = 0;
  for (; turns < 100; ++turns) {
    const std::string other = speaker() == ada ? lin : ada; // the one not speaking now: one more turn
    auto result = decide(state, AddToRound{grace, other}, now, limits);
    if (std::holds_alternative<Error>(result)) {
      EXPECT_EQ(std::get<Error>(result).code, ErrorCode::room_state_full);
      break;
    }
    for (const auto& e : std::get<Decision>(result).events) evolve(state, e);
    apply_ok(FinishTurn{speaker()});
    if (!state.speaking.round) break;
  }
  EXPECT_TRUE(state.speaking.round) << "refused before the round ended";
  EXPECT_LT(turns, 100);
  EXPECT_LE(state_bytes::room(state), limits.max_room_state_bytes);
}

TEST_F(RoundOrder, TheFacilitatorCanSitOut) {
  apply_ok(StartRound{grace, OrderKind::join, {}, 60, true, true, 0});
  EXPECT_EQ(state.speaking.round->order, (std::vector<std::string>{ada, lin, kim}));
  apply_ok(EndRound{grace});
  apply_ok(StartRound{grace, OrderKind::custom, {grace, lin}, 60, true, true, 0});
  EXPECT_EQ(state.speaking.round->order, (std::vector<std::string>{lin}));
  apply_ok(EndRound{grace});
  refused(StartRound{grace, OrderKind::custom, {grace}, 60, true, true, 0}, ErrorCode::invalid_field);
}

TEST_F(RoundOrder, AFinishedRoundStaysAsASummaryUntilTheNext) {
  apply_ok(StartRound{grace, OrderKind::custom, {ada, lin, kim}, 60, true, 0});
  now += 4000;
  apply_ok(FinishTurn{ada});
  apply_ok(PassTurn{lin});
  apply_ok(SkipTurn{grace});
  ASSERT_FALSE(state.speaking.round);
  ASSERT_TRUE(state.speaking.last_round);
  EXPECT_EQ(state.speaking.last_round->id, 1u);
  EXPECT_EQ(state.speaking.last_round->reason, RoundEndReason::completed);
  ASSERT_EQ(state.speaking.last_round->outcomes.size(), 3u);
  EXPECT_EQ(state.speaking.last_round->outcomes[0].member_id, ada);
  EXPECT_EQ(state.speaking.last_round->outcomes[0].ms, 4000);
  EXPECT_EQ(state.speaking.last_round->outcomes[1].outcome, Outcome::passed);
  EXPECT_EQ(state.speaking.last_round->outcomes[2].outcome, Outcome::skipped);
  apply_ok(StartRound{grace, OrderKind::custom, {ada}, 60, true, 0});
  EXPECT_FALSE(state.speaking.last_round) << "the next round replaces it";
  apply_ok(EndRound{grace});
  EXPECT_EQ(state.speaking.last_round->reason, RoundEndReason::ended);
}

} // namespace
} // namespace colloquy
