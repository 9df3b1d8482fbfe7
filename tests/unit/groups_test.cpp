// Breakout groups: the split rules (core/activities/grouping.*) and the groups module
// (core/activities/groups.*): who is split, sizes and remainders, fresh groups that avoid earlier
// pairings, moves, the recall's warning and grace, flags only the group and facilitators see, and
// bad input that changes nothing.
#include "core/activities/grouping.hpp"
#include "core_fixture.hpp"
#include "log/storage_codec.hpp"
#include "protocol/codec.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <set>

namespace colloquy {
namespace {

using Split = std::vector<std::vector<std::string>>;

std::vector<std::string> people(std::size_t n) {
  std::vector<std::string> out;
  for (std::size_t i = 1; i <= n; ++i) out.push_back("m" + std::to_string(i));
  return out;
}

std::vector<std::size_t> sizes_of(const Split& split) {
  std::vector<std::size_t> out;
  for (const auto& g : split) out.push_back(g.size());
  return out;
}

// ---- the split rules

TEST(Grouping, RemaindersGoOneEachSoNoGroupIsSmallerThanAsked) {
  using grouping::sizes;
  EXPECT_EQ(sizes(7, 3), (std::vector<std::size_t>{4, 3})) << "7 in triads";
  EXPECT_EQ(sizes(7, 2), (std::vector<std::size_t>{3, 2, 2})) << "7 in pairs";
  EXPECT_EQ(sizes(8, 2), (std::vector<std::size_t>{2, 2, 2, 2}));
  EXPECT_EQ(sizes(11, 3), (std::vector<std::size_t>{4, 4, 3}));
  EXPECT_EQ(sizes(5, 3), (std::vector<std::size_t>{5})) << "one group: a pair would be below the size asked";
  EXPECT_EQ(sizes(3, 3), (std::vector<std::size_t>{3}));
  EXPECT_TRUE(sizes(2, 3).empty());
  EXPECT_TRUE(sizes(5, 1).empty());
  for (std::size_t n = 2; n <= 60; ++n) {
    for (std::size_t size = 2; size <= n; ++size) {
      auto s = sizes(n, size);
      std::size_t total = 0;
      for (auto x : s) total += x;
      ASSERT_EQ(total, n);
      EXPECT_GE(*std::min_element(s.begin(), s.end()), size);
      EXPECT_LE(*std::max_element(s.begin(), s.end()) - *std::min_element(s.begin(), s.end()), 1u) << n << " in " << size;
    }
  }
}

TEST(Grouping, ARandomSplitPutsEveryoneInExactlyOneGroupAndDependsOnTheSeed) {
  SeededRandom r1(1), r2(1), r3(2);
  auto a = grouping::random_split(people(11), 3, r1);
  auto b = grouping::random_split(people(11), 3, r2);
  auto c = grouping::random_split(people(11), 3, r3);
  EXPECT_EQ(a, b) << "the same seed, the same split";
  EXPECT_NE(a, c);
  std::multiset<std::string> all;
  for (const auto& g : a) all.insert(g.begin(), g.end());
  EXPECT_EQ(all, (std::multiset<std::string>{"m1", "m10", "m11", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"}));
  EXPECT_EQ(sizes_of(a), (std::vector<std::size_t>{4, 4, 3}));
}

// The fewest repeats any split of these sizes can have: every assignment of members to groups.
std::uint64_t fewest_possible(const std::vector<std::string>& members, const std::vector<std::size_t>& shape,
                              const grouping::TimesTogether& together) {
  Split groups(shape.size());
  std::uint64_t best = UINT64_MAX;
  std::function<void(std::size_t, std::uint64_t)> place = [&](std::size_t i, std::uint64_t so_far) {
    if (so_far >= best) return;
    if (i == members.size()) {
      best = so_far;
      return;
    }
    for (std::size_t g = 0; g < groups.size(); ++g) {
      if (groups[g].size() == shape[g]) continue;
      std::uint64_t added = 0;
      for (const auto& other : groups[g]) added += together(members[i], other);
      groups[g].push_back(members[i]);
      place(i + 1, so_far + added);
      groups[g].pop_back();
      if (groups[g].empty()) break; // empty groups of one size are alike: try the first only
    }
  };
  place(0, 0);
  return best;
}

// Three successive fresh splits, each remembering the ones before, repeat as few pairings as any
// split could: none for 8 in pairs and 15 in triads; for 11 in triads (4 + 4 + 3) a repeat is
// unavoidable from the second split on (four members of a group of four cannot go to four of
// three groups), and the fresh split has no more than the fewest possible (8 and 11: checked by
// trying every split).
class FreshSplits : public ::testing::TestWithParam<std::pair<std::size_t, std::size_t>> {};

TEST_P(FreshSplits, ThreeSuccessiveSplitsRepeatAsFewPairingsAsPossible) {
  const auto [n, size] = GetParam();
  std::map<std::pair<std::string, std::string>, std::uint32_t> met;
  auto together = [&met](const std::string& a, const std::string& b) {
    auto it = met.find(a < b ? std::pair(a, b) : std::pair(b, a));
    return it == met.end() ? 0u : it->second;
  };
  std::uint64_t fresh_repeats = 0, random_repeats = 0;
  SeededRandom random(42);
  for (int split = 0; split < 3; ++split) {
    auto groups = grouping::fresh_split(people(n), size, together, random);
    EXPECT_EQ(sizes_of(groups), grouping::sizes(n, size));
    const std::uint64_t repeats = grouping::repeats(groups, together);
    const std::uint64_t fewest = n <= 12 ? fewest_possible(people(n), grouping::sizes(n, size), together) : 0;
    EXPECT_EQ(repeats, fewest) << n << " in groups of " << size << ", split " << split + 1;
    fresh_repeats += repeats;
    SeededRandom other(static_cast<std::uint64_t>(split) + 7);
    random_repeats += grouping::repeats(grouping::random_split(people(n), size, other), together);
    for (const auto& g : groups) {
      for (std::size_t i = 0; i < g.size(); ++i) {
        for (std::size_t j = i + 1; j < g.size(); ++j) ++met[g[i] < g[j] ? std::pair(g[i], g[j]) : std::pair(g[j], g[i])];
      }
    }
  }
  EXPECT_GT(random_repeats, fresh_repeats) << "(self-check) random splits of these sizes repeat more";
}

INSTANTIATE_TEST_SUITE_P(EightElevenFifteen, FreshSplits,
                         ::testing::Values(std::pair<std::size_t, std::size_t>{8, 2}, std::pair<std::size_t, std::size_t>{11, 3},
                                           std::pair<std::size_t, std::size_t>{15, 3}));

TEST(Grouping, FreshGroupsMinimiseRepeatsWhenSomeAreUnavoidable) {
  // 4 members in pairs: three splits use up every pairing; the fourth must repeat exactly two.
  std::map<std::pair<std::string, std::string>, std::uint32_t> met;
  auto together = [&met](const std::string& a, const std::string& b) {
    auto it = met.find(a < b ? std::pair(a, b) : std::pair(b, a));
    return it == met.end() ? 0u : it->second;
  };
  SeededRandom random(3);
  for (int split = 0; split < 4; ++split) {
    auto groups = grouping::fresh_split(people(4), 2, together, random);
    EXPECT_EQ(grouping::repeats(groups, together), split < 3 ? 0u : 2u) << "split " << split + 1;
    for (const auto& g : groups) ++met[g[0] < g[1] ? std::pair(g[0], g[1]) : std::pair(g[1], g[0])];
  }
}

TEST(Grouping, AFreshSplitOfALargeRoomStaysQuickAndWhole) {
  // 400 members in pairs with a history: the search is cut short by its budget, not by time.
  std::map<std::pair<std::string, std::string>, std::uint32_t> met;
  SeededRandom first(5);
  for (const auto& g : grouping::random_split(people(400), 2, first)) met[g[0] < g[1] ? std::pair(g[0], g[1]) : std::pair(g[1], g[0])] = 1;
  auto together = [&met](const std::string& a, const std::string& b) {
    auto it = met.find(a < b ? std::pair(a, b) : std::pair(b, a));
    return it == met.end() ? 0u : it->second;
  };
  SeededRandom random(9);
  const auto started = std::chrono::steady_clock::now();
  auto groups = grouping::fresh_split(people(400), 2, together, random);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(groups.size(), 200u);
  EXPECT_EQ(grouping::repeats(groups, together), 0u);
  EXPECT_LT(ms, 2000) << "a split decides under the room's lock"; // generous: ~20 ms budget, slow CI
}

// ---- the module

class Groups : public testing::CoreTest {
protected:
  void SetUp() override {
    CoreTest::SetUp();
    bo = join("Bo");
    cy = join("Cy");
  }
  std::vector<Event> open_groups(GroupMethod method, std::int64_t size, std::vector<std::string> members = {},
                                 std::optional<std::int64_t> seconds = std::nullopt, std::uint64_t seed = 1) {
    return apply_ok(OpenGroups{grace, method, size, std::move(members), seconds, seed});
  }
  std::string group_of(const std::string& member) const {
    const BreakoutGroup* g = state.groups.group_of(member);
    return g ? g->id : "";
  }
  std::string bo, cy;
};

TEST_F(Groups, ARandomSplitTakesTheOnlineParticipantsOnly) {
  apply_ok(LoseConnection{cy}); // away: not split
  apply_ok(SetRole{grace, lin, Role::observer});
  auto events = open_groups(GroupMethod::random, 2, {}, 600);
  ASSERT_EQ(events.size(), 1u);
  const auto& opened = std::get<GroupsOpened>(events[0].body);
  EXPECT_EQ(opened.ends_at, now + 600'000);
  std::multiset<std::string> split;
  for (const auto& g : opened.groups) split.insert(g.members.begin(), g.members.end());
  EXPECT_EQ(split, (std::multiset<std::string>{ada, bo, kim})) << "not the facilitator, an observer or someone away";
  ASSERT_EQ(opened.groups.size(), 1u) << "3 in pairs: one group of 3";
  EXPECT_EQ(opened.groups[0].id, "g1");
  EXPECT_EQ(group_of(ada), "g1");
  EXPECT_EQ(group_of(grace), "");
  EXPECT_EQ(events[0].audience.kind, Audience::Kind::everyone) << "everyone sees who is in which group";
}

TEST_F(Groups, ManualCutsTheFacilitatorsOrderAndGroupIdsCountOn) {
  open_groups(GroupMethod::manual, 2, {ada, lin, grace, kim, bo});
  ASSERT_TRUE(state.groups.open);
  ASSERT_EQ(state.groups.open->groups.size(), 2u);
  EXPECT_EQ(state.groups.open->groups[0].members, (std::vector<std::string>{ada, lin, grace}));
  EXPECT_EQ(state.groups.open->groups[1].members, (std::vector<std::string>{kim, bo}));
  apply_ok(CloseGroups{grace});
  EXPECT_FALSE(state.groups.open);
  EXPECT_EQ(group_of(ada), "") << "everyone is back in the main room";
  open_groups(GroupMethod::random, 2);
  EXPECT_EQ(state.groups.open->groups.front().id, "g3") << "ids are never given twice in a room";
}

TEST_F(Groups, BadSplitsAreRefusedAndChangeNothing) {
  refused(OpenGroups{ada, GroupMethod::random, 2, {}, std::nullopt, 1}, ErrorCode::forbidden);
  refused(OpenGroups{grace, GroupMethod::random, 6, {}, std::nullopt, 1}, ErrorCode::invalid_group_size); // 5 participants
  refused(OpenGroups{grace, GroupMethod::random, 0, {}, std::nullopt, 1}, ErrorCode::invalid_group_size);
  refused(OpenGroups{grace, GroupMethod::manual, 2, {ada, "m99"}, std::nullopt, 1}, ErrorCode::unknown_member);
  refused(OpenGroups{grace, GroupMethod::manual, 2, {ada, ada}, std::nullopt, 1}, ErrorCode::invalid_field);
  refused(OpenGroups{grace, GroupMethod::manual, 3, {ada, lin}, std::nullopt, 1}, ErrorCode::invalid_group_size);
  apply_ok(SetRole{grace, kim, Role::observer});
  refused(OpenGroups{grace, GroupMethod::manual, 2, {ada, kim}, std::nullopt, 1}, ErrorCode::member_is_observer);
  apply_ok(StartRound{grace, OrderKind::join, {}, 60, true, false, 0});
  refused(OpenGroups{grace, GroupMethod::random, 2, {}, std::nullopt, 1}, ErrorCode::round_in_progress);
  apply_ok(EndRound{grace});
  open_groups(GroupMethod::random, 2);
  refused(OpenGroups{grace, GroupMethod::random, 2, {}, std::nullopt, 1}, ErrorCode::groups_open);
}

TEST_F(Groups, CommandsThatNeedOpenGroupsSaySoAndChangeNothing) {
  refused(MoveToGroup{grace, ada, std::string("g1")}, ErrorCode::no_groups);
  refused(RecallGroups{grace, 60}, ErrorCode::no_groups);
  refused(CloseGroups{grace}, ErrorCode::no_groups);
  refused(ExtendGroups{grace, 60}, ErrorCode::no_groups);
  refused(MessageGroups{grace, "Two minutes"}, ErrorCode::no_groups);
  refused(FlagGroup{ada, GroupFlag::help, true, std::nullopt}, ErrorCode::no_groups);
}

TEST_F(Groups, TheFacilitatorMovesMembersBetweenGroupsAndBack) {
  open_groups(GroupMethod::manual, 2, {ada, lin, kim, bo});
  refused(MoveToGroup{ada, kim, std::string("g1")}, ErrorCode::forbidden);
  refused(MoveToGroup{grace, "m99", std::string("g1")}, ErrorCode::unknown_member);
  refused(MoveToGroup{grace, kim, std::string("g9")}, ErrorCode::unknown_group);
  apply_ok(MoveToGroup{grace, kim, std::string("g1")});
  EXPECT_EQ(group_of(kim), "g1");
  EXPECT_EQ(state.groups.find("g1")->members, (std::vector<std::string>{ada, lin, kim}));
  EXPECT_EQ(state.groups.find("g2")->members, (std::vector<std::string>{bo}));
  apply_ok(MoveToGroup{grace, cy, std::string("g2")}); // arrived late: from the main room
  EXPECT_EQ(group_of(cy), "g2");
  apply_ok(MoveToGroup{grace, kim, std::nullopt});
  EXPECT_EQ(group_of(kim), "");
  EXPECT_TRUE(apply_ok(MoveToGroup{grace, kim, std::nullopt}).empty()) << "already in the main room: nothing to do";
}

TEST_F(Groups, ARecallWarnsThenGivesAGraceThenCloses) {
  open_groups(GroupMethod::random, 2);
  auto recalled = apply_ok(RecallGroups{grace, 60});
  ASSERT_EQ(recalled.size(), 1u);
  EXPECT_EQ(std::get<GroupsRecalled>(recalled[0].body), (GroupsRecalled{now + 60'000, now + 70'000}));
  refused(RecallGroups{grace, 30}, ErrorCode::already_recalled);
  EXPECT_TRUE(pass_time(60'000).empty()) << "the warning is over; the grace runs";
  EXPECT_TRUE(state.groups.open);
  auto closed = pass_time(10'000);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(std::get<GroupsClosed>(closed[0].body).reason, GroupsEndReason::recalled);
  EXPECT_FALSE(state.groups.open);
  EXPECT_FALSE(next_deadline(state));
}

TEST_F(Groups, ThePlannedEndStartsTheRecallByItselfAndExtendingCallsItOff) {
  open_groups(GroupMethod::random, 2, {}, 300);
  auto at_end = pass_time(300'000);
  ASSERT_EQ(at_end.size(), 1u);
  EXPECT_EQ(std::get<GroupsRecalled>(at_end[0].body).recall_ends_at, now + default_recall_seconds * 1000);
  apply_ok(FlagGroup{ada, GroupFlag::more_time, true, std::nullopt});
  apply_ok(ExtendGroups{grace, 120});
  EXPECT_FALSE(state.groups.open->closes_at_ms) << "the recall is called off";
  EXPECT_EQ(state.groups.open->ends_at_ms, now + 120'000) << "the end had passed: more time from now";
  EXPECT_FALSE(state.groups.find(group_of(ada))->more_time) << "asked and given";
  refused(ExtendGroups{grace, max_duration_seconds}, ErrorCode::invalid_duration);
  EXPECT_TRUE(pass_time(119'000).empty());
  EXPECT_EQ(pass_time(1'000).size(), 1u) << "the extended end recalls again";
}

TEST_F(Groups, FlagsAreTheGroupsOwnAndOnlyItAndTheFacilitatorsGetThem) {
  open_groups(GroupMethod::manual, 2, {ada, lin, kim, bo});
  auto help = apply_ok(FlagGroup{ada, GroupFlag::help, true, std::nullopt});
  ASSERT_EQ(help.size(), 1u);
  EXPECT_EQ(std::get<GroupFlagChanged>(help[0].body), (GroupFlagChanged{"g1", GroupFlag::help, true, ada}));
  EXPECT_EQ(help[0].audience.kind, Audience::Kind::group);
  EXPECT_EQ(help[0].audience.group_id, "g1");
  EXPECT_TRUE(state.groups.find("g1")->help);
  EXPECT_TRUE(apply_ok(FlagGroup{lin, GroupFlag::help, true, std::nullopt}).empty()) << "raised already";
  refused(FlagGroup{kim, GroupFlag::done, true, std::string("g1")}, ErrorCode::forbidden);
  refused(FlagGroup{cy, GroupFlag::help, true, std::nullopt}, ErrorCode::not_in_group);
  refused(FlagGroup{grace, GroupFlag::help, false, std::string("g7")}, ErrorCode::unknown_group);
  apply_ok(FlagGroup{grace, GroupFlag::help, false, std::string("g1")}); // answered
  EXPECT_FALSE(state.groups.find("g1")->help);
}

TEST_F(Groups, ASnapshotShowsAGroupsFlagsToItAndTheFacilitatorsOnly) {
  open_groups(GroupMethod::manual, 2, {ada, lin, kim, bo}, 600);
  apply_ok(FlagGroup{ada, GroupFlag::help, true, std::nullopt});
  apply_ok(MessageGroups{grace, "Swap roles now"});
  auto help_of = [&](const std::string& viewer) {
    const auto s = protocol::snapshot_to_wire(state, viewer);
    return s["groups"]["groups"][0]["help"].get<bool>();
  };
  EXPECT_TRUE(help_of(lin)) << "Lin is in g1";
  EXPECT_TRUE(help_of(grace)) << "the facilitator sees every group's";
  EXPECT_FALSE(help_of(kim)) << "Kim is in g2";
  EXPECT_FALSE(help_of(cy)) << "Cy is in the main room";
  const auto s = protocol::snapshot_to_wire(state, kim);
  EXPECT_EQ(s["groups"]["groups"][0]["members"], (nlohmann::json{ada, lin})) << "who is in which group is no secret";
  EXPECT_EQ(s["groups"]["message"], "Swap roles now");
  EXPECT_EQ(s["groups"]["ends_at"], now + 600'000);
  EXPECT_EQ(s["groups"]["closes_at"], nullptr);
  apply_ok(CloseGroups{grace});
  EXPECT_EQ(protocol::snapshot_to_wire(state, kim)["groups"], nullptr);
}

TEST_F(Groups, FreshGroupsAtTheRoomAvoidWhoWorkedTogetherLastTime) {
  // Four participants in pairs: after {Ada, Lin} and {Kim, Bo}, fresh pairs never repeat one.
  apply_ok(Leave{cy});
  open_groups(GroupMethod::manual, 2, {ada, lin, kim, bo});
  apply_ok(CloseGroups{grace});
  EXPECT_EQ(state.groups.times_together(ada, lin), 1u);
  EXPECT_EQ(state.groups.times_together(lin, ada), 1u);
  EXPECT_EQ(state.groups.times_together(ada, kim), 0u);
  for (std::uint64_t seed = 1; seed <= 8; ++seed) { // decided, not applied: each from the same history
    auto result = decide(state, OpenGroups{grace, GroupMethod::fresh, 2, {}, std::nullopt, seed}, now, limits);
    ASSERT_TRUE(std::holds_alternative<Decision>(result));
    const auto& opened = std::get<GroupsOpened>(std::get<Decision>(result).events.at(0).body);
    for (const auto& g : opened.groups) {
      const std::set<std::string> pair(g.members.begin(), g.members.end());
      EXPECT_NE(pair, (std::set<std::string>{ada, lin})) << "seed " << seed;
      EXPECT_NE(pair, (std::set<std::string>{kim, bo})) << "seed " << seed;
    }
  }
}

TEST_F(Groups, OpenGroupsAndTheirHistorySurviveStorage) {
  open_groups(GroupMethod::manual, 2, {ada, lin, kim, bo}, 900);
  apply_ok(CloseGroups{grace});
  open_groups(GroupMethod::manual, 2, {ada, kim, lin, bo}, 600);
  apply_ok(FlagGroup{ada, GroupFlag::done, true, std::nullopt});
  apply_ok(MessageGroups{grace, "Five minutes left"});
  apply_ok(RecallGroups{grace, 30});
  auto loaded = storage::room_from_json(storage::room_to_json(state));
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->groups.groups_made, 4u);
  EXPECT_EQ(loaded->groups.open, state.groups.open);
  EXPECT_EQ(loaded->groups.pairings, state.groups.pairings);
  EXPECT_EQ(loaded->groups.times_together(ada, lin), 1u);
  EXPECT_EQ(next_deadline(*loaded)->ends_at_ms, now + 40'000);
}

} // namespace
} // namespace colloquy
