// Speaking (core/activities/speaking.*): go-rounds, the dialogue floor and its queue, turns, airtime.
#include "core_fixture.hpp"

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
  auto events = apply_ok(StartRound{grace, OrderKind::shuffle, {}, 60, true, 12345});
  const auto& started = std::get<RoundStarted>(events.front().body);
  auto sorted = started.round.order;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (std::vector<std::string>{grace, ada, lin, kim}));
  apply_ok(EndRound{grace});
  auto again = apply_ok(StartRound{grace, OrderKind::shuffle, {}, 60, true, 12345});
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
