// Permission checks come before state checks, for every command the core decides (issue 9): a
// role that may not give a command gets `forbidden` whatever state the room is in, so refusals
// never tell an observer or a participant about a hand, a turn, a round, an audit or a card.
#include "core_fixture.hpp"

namespace colloquy {
namespace {

class Permissions : public testing::CoreTest {
protected:
  void SetUp() override {
    CoreTest::SetUp();
    apply_ok(SetRole{grace, kim, Role::observer}); // Kim observes; Ada and Lin take part
  }

  // Every command this member may not give, in a room where each would also fail a state check
  // (no round, no turn, no hand raised, no audit, no such card or prompt, idle timers).
  std::vector<Command> leads_only(const std::string& who) const {
    return {SetRole{who, lin, Role::co_facilitator},
            HandOver{who, lin},
            ClaimFacilitation{who},
            ChangeSettings{who, AirtimeVisibility::facilitators},
            StartRound{who, OrderKind::join, {}, 0, true, 0}, // a bad duration too
            SkipTurn{who},
            MoveLater{who, "m99"},
            EndRound{who},
            AddToRound{who, "m99"},
            PauseActivity{who},
            ResumeActivity{who},
            LowerHand{who, grace}, // someone else's hand, not raised
            GiveFloor{who, std::nullopt},
            SetFloor{who, 0, false, false},
            TimerCommand{who, TimerId::phase, TimerAction::pause, 0},
            TimerCommand{who, TimerId::turn, TimerAction::extend, 60},
            TimerCommand{who, TimerId::turn, TimerAction::start, 60},
            CheckPrompt{who, PromptAction::manage},
            ReleasePrompts{who, {PromptText{"p1", "x"}}},
            PosePrompt{who, "p99", std::nullopt},
            OpenAudit{who, 1},
            CloseAudit{who, 0, {}},
            AddCard{who, "a card"},
            RemoveCard{who, "c99"},
            DrawCard{who, 1},
            OpenGroups{who, GroupMethod::random, 99, {}, std::nullopt, 1}, // more than there are
            MoveToGroup{who, "m99", std::string("g9")},                  // no groups open
            ExtendGroups{who, 60},
            RecallGroups{who, 60},
            CloseGroups{who},
            MessageGroups{who, "Back in 1 minute"},
            FlagGroup{who, GroupFlag::help, false, std::string("g9")}};   // another group's flag
  }
};

TEST_F(Permissions, AParticipantIsRefusedBeforeTheStateIsLookedAt) {
  ASSERT_FALSE(state.speaking.round);
  for (const auto& c : leads_only(ada)) {
    SCOPED_TRACE(c.index());
    refused(c, ErrorCode::forbidden);
  }
}

TEST_F(Permissions, AnObserverIsRefusedBeforeTheStateIsLookedAt) {
  auto commands = leads_only(kim);
  for (Command c : {Command{FinishTurn{kim}}, Command{PassTurn{kim}}, Command{RaiseHand{kim}}, Command{LowerHand{kim, std::nullopt}},
                    Command{ReleaseFloor{kim}}, Command{UpvotePrompt{kim, "p99"}}, Command{CheckAuditAnswer{kim, {}}},
                    Command{CheckPrompt{kim, PromptAction::submit}}, Command{FlagGroup{kim, GroupFlag::help, true, std::nullopt}}}) {
    commands.push_back(c);
  }
  for (const auto& c : commands) {
    SCOPED_TRACE(c.index());
    refused(c, ErrorCode::forbidden);
  }
  // The case: an observer lowering a hand that is not raised.
  refused(LowerHand{kim, std::nullopt}, ErrorCode::forbidden);
}

TEST_F(Permissions, TheSameCommandsFromThoseAllowedMeetTheStateChecks) {
  refused(LowerHand{ada, std::nullopt}, ErrorCode::hand_not_raised);
  refused(LowerHand{grace, ada}, ErrorCode::hand_not_raised);
  refused(ReleaseFloor{ada}, ErrorCode::no_turn);
  refused(ReleaseFloor{grace}, ErrorCode::no_turn);
  refused(FinishTurn{ada}, ErrorCode::no_round);
  refused(SkipTurn{grace}, ErrorCode::no_round);
  refused(AddToRound{grace, "m99"}, ErrorCode::no_round);
  refused(PauseActivity{grace}, ErrorCode::nothing_to_pause);
  refused(ResumeActivity{grace}, ErrorCode::not_paused);
  refused(GiveFloor{grace, std::nullopt}, ErrorCode::queue_empty);
  refused(FlagGroup{ada, GroupFlag::help, true, std::nullopt}, ErrorCode::no_groups);
  refused(RecallGroups{grace, 60}, ErrorCode::no_groups);
  refused(TimerCommand{grace, TimerId::phase, TimerAction::pause, 0}, ErrorCode::timer_not_running);
  refused(CloseAudit{grace, 0, {}}, ErrorCode::no_audit);
  refused(CheckAuditAnswer{ada, {}}, ErrorCode::no_audit);
  refused(RemoveCard{grace, "c99"}, ErrorCode::unknown_card);
  refused(UpvotePrompt{ada, "p99"}, ErrorCode::unknown_prompt);
}

TEST_F(Permissions, AnObserverCannotReleaseTheFloorSomeoneHolds) {
  apply_ok(GiveFloor{grace, ada});
  refused(ReleaseFloor{kim}, ErrorCode::forbidden);
  refused(ReleaseFloor{lin}, ErrorCode::not_your_turn);
  apply_ok(ReleaseFloor{ada});
}

} // namespace
} // namespace colloquy
