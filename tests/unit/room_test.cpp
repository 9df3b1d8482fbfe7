// The composed room (core/room.*): decide reads the committed state and never copies the room or
// its collections, so a decision costs the same in an empty room and in a full one; evolve
// applies in place; each command and event reaches its module.
#include "core_fixture.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <new>

// This binary replaces operator new and delete as a pair (malloc and free); GCC cannot see that
// they match once inlined.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
// Heap allocations made while `counting` (this test binary's operator new).
std::atomic<long> allocations{0};
std::atomic<bool> counting{false};
} // namespace

void* operator new(std::size_t size) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace colloquy {
namespace {

using testing::t0;

class Room : public testing::CoreTest {};

TEST_F(Room, DecideIsDeterministicAndDoesNotTouchState) {
  const RoomState before = state;
  auto a = decide(state, Join{Credential::join_code, "code", "Sam", secret_hash("t")}, t0, {});
  auto b = decide(state, Join{Credential::join_code, "code", "Sam", secret_hash("t")}, t0, {});
  ASSERT_TRUE(std::holds_alternative<Decision>(a));
  EXPECT_EQ(std::get<Decision>(a).member_id, std::get<Decision>(b).member_id);
  EXPECT_EQ(state.seq, before.seq);
  EXPECT_EQ(state.members.size(), before.members.size());
}

TEST_F(Room, MembersAreFoundByTheNumberInTheirId) {
  EXPECT_EQ(state.find_member("m2")->name, "Ada");
  EXPECT_EQ(state.find_member("m4")->name, "Kim");
  for (const char* bad : {"m0", "m5", "m", "x2", "m2x", "m-1", "", "m99999999999999999999"}) EXPECT_EQ(state.find_member(bad), nullptr) << bad;
}

TEST_F(Room, EveryEventKindAppliesThroughItsModule) {
  // One event of each module in a row, applied by the room in seq order.
  apply_ok(SetRole{grace, ada, Role::co_facilitator});
  apply_ok(RaiseHand{lin});
  apply_ok(TimerCommand{grace, TimerId::phase, TimerAction::start, 60});
  apply_ok(ReleasePrompts{"", {PromptText{"p1", "Why?"}}});
  apply_ok(OpenAudit{grace, 3});
  apply_ok(AddCard{grace, "New"});
  EXPECT_EQ(state.find_member(ada)->role, Role::co_facilitator);
  EXPECT_TRUE(state.speaking.hand_raised(lin));
  EXPECT_EQ(state.timers.phase.state, TimerState::running);
  EXPECT_TRUE(state.prompts.find("p1"));
  EXPECT_TRUE(state.audit.current && state.audit.current->open);
  EXPECT_TRUE(state.deck.find("c13"));
  EXPECT_EQ(state.seq, 11u);
}

// A room as big as the limits let it grow: 50 members (40 hands raised), 200 cards, 200 released prompts.
// Its cards are as long as the built-in ones, and m3 and m4 have no hand raised, as in the small room.
RoomState big_room() {
  RoomState s;
  s.id = "big";
  auto apply = [&](const Command& c) {
    auto r = decide(s, c, t0);
    for (const auto& e : std::get<Decision>(r).events) evolve(s, e);
  };
  apply(CreateRoom{"Big", secret_hash("key"), secret_hash("code")});
  apply(Join{Credential::facilitator_key, "key", "Grace", secret_hash("g")});
  for (int i = 2; i <= 50; ++i) apply(Join{Credential::join_code, "code", "Member " + std::to_string(i), secret_hash(std::to_string(i))});
  apply(RaiseHand{"m2"});
  for (int i = 5; i <= 43; ++i) apply(RaiseHand{"m" + std::to_string(i)});
  // One below the deck's and the released prompts' caps (200), so that adding one more is allowed.
  for (int i = 0; i < 187; ++i) apply(AddCard{"m1", "A challenge of our own, number " + std::to_string(i)});
  for (int batch = 0; batch < 20; ++batch) {
    std::vector<PromptText> prompts;
    for (int i = 0; i < (batch == 19 ? 9 : 10); ++i) prompts.push_back(PromptText{"p" + std::to_string(batch * 10 + i), "A prompt"});
    apply(ReleasePrompts{"", prompts});
  }
  return s;
}

// The same activities in a room of four with nothing in it: one hand raised, the built-in deck.
RoomState small_room() {
  RoomState s;
  s.id = "small";
  auto apply = [&](const Command& c) {
    auto r = decide(s, c, t0);
    for (const auto& e : std::get<Decision>(r).events) evolve(s, e);
  };
  apply(CreateRoom{"Small", secret_hash("key"), secret_hash("code")});
  apply(Join{Credential::facilitator_key, "key", "Grace", secret_hash("g")});
  for (int i = 2; i <= 4; ++i) apply(Join{Credential::join_code, "code", "Member " + std::to_string(i), secret_hash(std::to_string(i))});
  apply(RaiseHand{"m2"});
  apply(ReleasePrompts{"", {PromptText{"p0", "A prompt"}, PromptText{"p1", "A prompt"}}});
  return s;
}

// Commands of every activity that a room's size must not make dearer.
std::vector<std::pair<std::string, Command>> everyday_commands() {
  return {
      {"hand_raise", RaiseHand{"m1"}},
      {"hand_lower", LowerHand{"m2", std::nullopt}},
      {"floor_give", GiveFloor{"m1", std::string("m2")}},
      {"floor_give from the queue", GiveFloor{"m1", std::nullopt}},
      {"floor_settings", SetFloor{"m1", 60, true, false}},
      {"set_role", SetRole{"m1", "m3", Role::co_facilitator}},
      {"settings", ChangeSettings{"m1", AirtimeVisibility::facilitators}},
      {"timer", TimerCommand{"m1", TimerId::phase, TimerAction::start, 600}},
      {"prompt_upvote", UpvotePrompt{"m3", "p1"}},
      {"prompt_pose", PosePrompt{"m1", "p1", std::string("m3")}},
      {"release", ReleasePrompts{"", {PromptText{"pnew", "New"}}}},
      {"deck_add", AddCard{"m1", "What would your deputy say?"}},
      {"deck_remove", RemoveCard{"m1", "c5"}},
      {"deck_draw", DrawCard{"m1", 12345}},
      {"audit_open", OpenAudit{"m1", 3}},
      {"leave", Leave{"m3"}},
  };
}

long allocations_of(const RoomState& room, const Command& command) {
  (void)decide(room, command, t0 + 1000); // once uncounted: statics (the templates) are made on first use
  allocations = 0;
  counting = true;
  auto result = decide(room, command, t0 + 1000);
  counting = false;
  EXPECT_TRUE(std::holds_alternative<Decision>(result)) << "refused: " << to_string(std::get<Error>(result).code);
  return allocations.load();
}

TEST(RoomCost, ADecisionAllocatesTheSameInAFullRoomAsInAnEmptyOne) {
  const RoomState big = big_room();
  const RoomState small = small_room();
  ASSERT_EQ(big.members.size(), 50u);
  ASSERT_EQ(big.deck.size(), max_deck_cards - 1);
  ASSERT_EQ(big.prompts.released().size(), max_released_prompts - 1);
  for (const auto& [name, command] : everyday_commands()) {
    SCOPED_TRACE(name);
    const long in_small = allocations_of(small, command);
    const long in_big = allocations_of(big, command);
    // Copying the room, the roster, the deck or the prompts would cost hundreds more in the big room.
    EXPECT_EQ(in_big, in_small);
    EXPECT_LT(in_big, 16) << "a handful for the events themselves";
  }
}

TEST(RoomCost, TenThousandDecisionsTakeAboutAsLongInAFullRoom) {
  // Printed, not asserted (wall time is not a test): the allocation counts above are the check.
  const RoomState big = big_room();
  const RoomState small = small_room();
  const auto commands = everyday_commands();
  auto time = [&](const RoomState& room) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 10'000; ++i) (void)decide(room, commands[static_cast<std::size_t>(i) % commands.size()].second, t0 + 1000);
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  };
  (void)time(small); // warm up
  const double small_us = time(small);
  const double big_us = time(big);
  std::printf("10,000 decisions: empty room %.0f us, full room (50 members, 200 cards, 200 prompts) %.0f us\n", small_us, big_us);
  SUCCEED();
}

} // namespace
} // namespace colloquy
