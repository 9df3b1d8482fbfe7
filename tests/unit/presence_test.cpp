// Presence and roles (core/activities/presence.*): joining, presence, leaving and coming back,
// roles, handing over and claiming the facilitation.
#include "core_fixture.hpp"

#include <gtest/gtest.h>

namespace colloquy {
namespace {

using testing::t0;

// Applies a command's events to the state, failing the test on a refusal.
Decision apply(RoomState& state, const Command& command, std::int64_t now = t0, Limits limits = {}) {
  auto result = decide(state, command, now, limits);
  if (auto* error = std::get_if<Error>(&result)) {
    ADD_FAILURE() << "refused: " << to_string(error->code);
    return {};
  }
  auto decision = std::get<Decision>(result);
  for (const auto& e : decision.events) evolve(state, e);
  return decision;
}

ErrorCode refusal(const RoomState& state, const Command& command, Limits limits = {}) {
  auto result = decide(state, command, t0, limits);
  EXPECT_TRUE(std::holds_alternative<Error>(result)) << "expected a refusal";
  return std::holds_alternative<Error>(result) ? std::get<Error>(result).code : ErrorCode::internal;
}

class PresenceTest : public ::testing::Test {
protected:
  PresenceTest() {
    state.id = "room1";
    apply(state, CreateRoom{"Spring cohort", secret_hash("the-key"), secret_hash("the-code")});
  }
  Join with_code(std::string name, std::string token) {
    return Join{Credential::join_code, "the-code", std::move(name), secret_hash(token)};
  }
  Join with_key(std::string name, std::string token) {
    return Join{Credential::facilitator_key, "the-key", std::move(name), secret_hash(token)};
  }
  Join resume(std::string token) { return Join{Credential::resume_token, std::move(token), "", secret_hash("unused")}; }
  RoomState state;
};

TEST_F(PresenceTest, CreationIsSequenceOneAndKeepsOnlyHashes) {
  EXPECT_EQ(state.seq, 1u);
  EXPECT_EQ(state.title, "Spring cohort");
  EXPECT_EQ(state.created_at_ms, t0);
  EXPECT_EQ(state.key_hash, secret_hash("the-key"));
  EXPECT_EQ(state.key_hash.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(state.code_hash, secret_hash("the-code"));
  EXPECT_EQ(refusal(state, CreateRoom{"again", "", ""}), ErrorCode::invalid_field);
}

TEST_F(PresenceTest, KeyMakesFacilitatorAndCodeMakesParticipant) {
  auto f = apply(state, with_key("Grace", "t1"));
  auto p = apply(state, with_code("Ada", "t2"));
  EXPECT_EQ(f.member_id, "m1");
  EXPECT_EQ(p.member_id, "m2");
  ASSERT_EQ(state.members.size(), 2u);
  EXPECT_EQ(state.members[0].role, Role::facilitator);
  EXPECT_EQ(state.members[1].role, Role::participant);
  EXPECT_EQ(state.members[1].name, "Ada");
  EXPECT_EQ(state.members[1].presence, Presence::online);
  EXPECT_EQ(state.seq, 3u);
}

TEST_F(PresenceTest, EventsAreNumberedAndTimedByTheCaller) {
  auto d = apply(state, with_code("Ada", "t2"), t0 + 5000);
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.events[0].seq, 2u);
  EXPECT_EQ(d.events[0].time_ms, t0 + 5000);
  EXPECT_EQ(d.events[0].audience.kind, Audience::Kind::everyone);
}

TEST_F(PresenceTest, WrongSecretsAreRefusedWithOneCode) {
  const auto before = state.seq;
  EXPECT_EQ(refusal(state, Join{Credential::join_code, "the-key", "Ada", "h"}), ErrorCode::bad_credentials);
  EXPECT_EQ(refusal(state, Join{Credential::facilitator_key, "the-code", "Ada", "h"}), ErrorCode::bad_credentials);
  EXPECT_EQ(refusal(state, resume("never-issued")), ErrorCode::bad_credentials);
  EXPECT_EQ(state.seq, before);
  EXPECT_TRUE(state.members.empty());
}

TEST_F(PresenceTest, UnknownRoomIsRefused) {
  RoomState empty;
  EXPECT_EQ(refusal(empty, with_code("Ada", "t")), ErrorCode::room_not_found);
}

TEST_F(PresenceTest, FullRoomRefusesNewMembersButNotReturningOnes) {
  Limits two{2};
  apply(state, with_key("Grace", "t1"), t0, two);
  apply(state, with_code("Ada", "t2"), t0, two);
  EXPECT_EQ(refusal(state, with_code("Lin", "t3"), two), ErrorCode::room_full);
  apply(state, LoseConnection{"m2"});
  auto back = apply(state, resume("t2"), t0, two);
  EXPECT_EQ(back.member_id, "m2");
  EXPECT_EQ(state.members.size(), 2u);
}

TEST_F(PresenceTest, LostConnectionThenResumeKeepsIdentity) {
  apply(state, with_key("Grace", "t1"));
  apply(state, with_code("Ada", "t2"));
  auto lost = apply(state, LoseConnection{"m2"});
  ASSERT_EQ(lost.events.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<MemberConnectionLost>(lost.events[0].body));
  EXPECT_EQ(state.find_member("m2")->presence, Presence::away);

  auto back = apply(state, resume("t2"));
  EXPECT_EQ(back.member_id, "m2");
  ASSERT_EQ(back.events.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<MemberBack>(back.events[0].body));
  EXPECT_EQ(state.members.size(), 2u); // never a duplicate member
  EXPECT_EQ(state.find_member("m2")->presence, Presence::online);
  EXPECT_EQ(state.find_member("m2")->name, "Ada");
  EXPECT_EQ(state.find_member("m2")->role, Role::participant);
}

TEST_F(PresenceTest, ResumeWhileOnlineChangesNothingInTheRoom) {
  apply(state, with_code("Ada", "t2"));
  const auto seq = state.seq;
  auto again = apply(state, resume("t2"));
  EXPECT_EQ(again.member_id, "m1");
  EXPECT_TRUE(again.events.empty());
  EXPECT_EQ(state.seq, seq);
}

TEST_F(PresenceTest, LeaveMarksLeftAndMemberMayComeBack) {
  apply(state, with_code("Ada", "t2"));
  auto left = apply(state, Leave{"m1"});
  ASSERT_EQ(left.events.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<MemberLeft>(left.events[0].body));
  EXPECT_EQ(state.find_member("m1")->presence, Presence::left);
  EXPECT_EQ(refusal(state, Leave{"m1"}), ErrorCode::not_joined);
  apply(state, resume("t2"));
  EXPECT_EQ(state.find_member("m1")->presence, Presence::online);
}

TEST_F(PresenceTest, LosingAConnectionTwiceRecordsItOnce) {
  apply(state, with_code("Ada", "t2"));
  apply(state, LoseConnection{"m1"});
  auto second = apply(state, LoseConnection{"m1"});
  EXPECT_TRUE(second.events.empty());
  auto unknown = apply(state, LoseConnection{"m9"});
  EXPECT_TRUE(unknown.events.empty());
}


class Roles : public testing::CoreTest {};

TEST_F(Roles, RolesObserversAndHandingOver) {
  refused(SetRole{ada, lin, Role::observer}, ErrorCode::forbidden);
  apply_ok(SetRole{grace, lin, Role::observer});
  refused(RaiseHand{lin}, ErrorCode::forbidden);
  refused(FinishTurn{lin}, ErrorCode::forbidden);
  apply_ok(StartRound{grace, OrderKind::join, {}, 60, true, 0});
  EXPECT_EQ(std::count(state.speaking.round->order.begin(), state.speaking.round->order.end(), lin), 0) << "observers do not speak";
  refused(SetRole{grace, "m99", Role::participant}, ErrorCode::unknown_member);
  apply_ok(SetRole{grace, ada, Role::co_facilitator});
  apply_ok(SkipTurn{ada}); // co-facilitators run rounds
  apply_ok(HandOver{grace, kim});
  EXPECT_EQ(state.find_member(kim)->role, Role::facilitator);
  EXPECT_EQ(state.find_member(grace)->role, Role::co_facilitator);
  refused(SetRole{grace, ada, Role::participant}, ErrorCode::forbidden);
}

TEST_F(Roles, FacilitatorWhoDisconnectsKeepsTheRoleUntilTheGracePeriodEnds) {
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


// Members who left or were removed hold no place (--max-members counts those present), but their
// records stay (round results name them), up to member_records_per_place per place.
TEST_F(PresenceTest, LeftMembersDoNotCountTowardTheCapButTheirRecordsDo) {
  Limits two{2};
  apply(state, with_key("Grace", "t1"), t0, two);
  apply(state, with_code("Ada", "t2"), t0, two);
  EXPECT_EQ(refusal(state, with_code("Lin", "t3"), two), ErrorCode::room_full);
  apply(state, Leave{"m2"}, t0, two);
  EXPECT_EQ(apply(state, with_code("Lin", "t3"), t0, two).member_id, "m3");
  // Ada, who left, may not come back into a full room.
  EXPECT_EQ(refusal(state, resume("t2"), two), ErrorCode::room_full);
  apply(state, Leave{"m3"}, t0, two);
  EXPECT_EQ(apply(state, resume("t2"), t0, two).member_id, "m2");
  // Four records at most (2 per place): Grace, Ada, Lin and one more, whoever left.
  apply(state, Leave{"m2"}, t0, two);
  EXPECT_EQ(apply(state, with_code("Kim", "t4"), t0, two).member_id, "m4");
  apply(state, Leave{"m4"}, t0, two);
  const auto seq = state.seq;
  EXPECT_EQ(refusal(state, with_code("Sam", "t5"), two), ErrorCode::room_full);
  EXPECT_EQ(state.seq, seq);
  EXPECT_EQ(state.members.size(), 4u);
}

TEST_F(PresenceTest, FacilitatorRemovesAMemberWhoseTokenStopsWorking) {
  apply(state, with_key("Grace", "t1"));
  apply(state, with_code("Ada", "t2"));
  apply(state, RaiseHand{"m2"});
  auto removed = apply(state, RemoveMember{"m1", "m2"});
  ASSERT_FALSE(removed.events.empty());
  EXPECT_EQ(std::get<MemberRemoved>(removed.events.at(0).body).member_id, "m2");
  EXPECT_EQ(state.members[1].presence, Presence::left);
  EXPECT_TRUE(state.members[1].token_hash.empty());
  EXPECT_TRUE(state.speaking.floor.queue.empty()) << "their hand goes";
  EXPECT_EQ(refusal(state, resume("t2")), ErrorCode::bad_credentials);
  EXPECT_EQ(refusal(state, RemoveMember{"m1", "m2"}), ErrorCode::cannot_remove);
  // They may come back only as somebody new, with the invite link.
  EXPECT_EQ(apply(state, with_code("Ada", "t2b")).member_id, "m3");
}

TEST_F(PresenceTest, RemovingIsForLeadsAndNeverOneselfOrALeadByACoFacilitator) {
  apply(state, with_key("Grace", "t1"));
  apply(state, with_code("Ada", "t2"));
  apply(state, with_code("Lin", "t3"));
  apply(state, with_code("Kim", "t4"));
  EXPECT_EQ(refusal(state, RemoveMember{"m2", "m3"}), ErrorCode::forbidden);
  EXPECT_EQ(refusal(state, RemoveMember{"m1", "m1"}), ErrorCode::cannot_remove) << "the last facilitator stays";
  EXPECT_EQ(refusal(state, RemoveMember{"m1", "m9"}), ErrorCode::unknown_member);
  apply(state, SetRole{"m1", "m2", Role::co_facilitator});
  EXPECT_EQ(refusal(state, RemoveMember{"m2", "m1"}), ErrorCode::cannot_remove);
  apply(state, SetRole{"m1", "m3", Role::co_facilitator});
  EXPECT_EQ(refusal(state, RemoveMember{"m2", "m3"}), ErrorCode::cannot_remove);
  apply(state, RemoveMember{"m2", "m4"}); // a co-facilitator removes a participant
  apply(state, RemoveMember{"m1", "m3"}); // the facilitator removes a co-facilitator
  EXPECT_EQ(state.members[2].presence, Presence::left);
}

TEST_F(PresenceTest, ARemovedSpeakerLosesTheirTurnAndPlace) {
  apply(state, with_key("Grace", "t1"));
  apply(state, with_code("Ada", "t2"));
  apply(state, with_code("Lin", "t3"));
  apply(state, StartRound{"m1", OrderKind::custom, {"m2", "m3"}, 60, true, 0});
  ASSERT_TRUE(state.speaking.turn);
  EXPECT_EQ(state.speaking.turn->member_id, "m2");
  apply(state, RemoveMember{"m1", "m2"});
  ASSERT_TRUE(state.speaking.turn);
  EXPECT_EQ(state.speaking.turn->member_id, "m3");
}

TEST_F(PresenceTest, OnlyTheFacilitatorClosesTheRoomAndAClosedRoomDecidesNothing) {
  apply(state, with_key("Grace", "t1"));
  apply(state, with_code("Ada", "t2"));
  apply(state, SetRole{"m1", "m2", Role::co_facilitator});
  EXPECT_EQ(refusal(state, CloseRoom{"m2"}), ErrorCode::forbidden);
  auto closed = apply(state, CloseRoom{"m1"});
  ASSERT_EQ(closed.events.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<RoomClosed>(closed.events[0].body));
  EXPECT_TRUE(state.closed);
  EXPECT_EQ(refusal(state, with_code("Lin", "t3")), ErrorCode::room_not_found);
  EXPECT_EQ(refusal(state, resume("t2")), ErrorCode::room_not_found);
  EXPECT_EQ(refusal(state, RaiseHand{"m1"}), ErrorCode::room_not_found);
  EXPECT_TRUE(std::get<Decision>(decide(state, LoseConnection{"m1"}, t0)).events.empty());
}
} // namespace
} // namespace colloquy
