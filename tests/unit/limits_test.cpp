// Caps on everything a client can grow (protocol/README.md#limits-a-client-meets): each collection
// stops at its cap with its error and nothing changed; a room at every cap, with the worst text
// the cleaners allow, still has a snapshot (in its join reply) and events that fit in one frame;
// the byte estimate of core/state_bytes.hpp is never below the encoded size; the in-memory log
// is bounded in bytes.
#include "core/room.hpp"
#include "core/secret.hpp"
#include "core/state_bytes.hpp"
#include "core/text.hpp"
#include "log/room_log.hpp"
#include "protocol/codec.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace colloquy {
namespace {

using nlohmann::json;

constexpr std::int64_t t0 = 1'700'000'000'000;
constexpr std::size_t frame = default_max_frame_bytes;

// n code points of 4-byte UTF-8 (U+1F600): the most bytes a code point takes as JSON text.
std::string widest(std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += "\xF0\x9F\x98\x80";
  return s;
}

class Limits : public ::testing::Test {
protected:
  void SetUp() override {
    state.id = "abcdefghjkmnpqrs";
    must(CreateRoom{widest(max_title_chars), secret_hash("key"), secret_hash("code")});
  }

  // Decides and applies; the error if refused (nothing applied).
  std::optional<ErrorCode> run(const Command& c) {
    auto result = decide(state, c, t0 + static_cast<std::int64_t>(state.seq), limits);
    if (auto* e = std::get_if<Error>(&result)) return e->code;
    for (const auto& e : std::get<Decision>(result).events) {
      largest_event = std::max(largest_event, protocol::encode_event_push(state.id, e).size());
      evolve(state, e);
    }
    return std::nullopt;
  }
  void must(const Command& c) {
    auto error = run(c);
    ASSERT_FALSE(error) << to_string(*error);
  }
  // Refused with `code`, the room unchanged.
  void refused(const Command& c, ErrorCode code) {
    const auto seq = state.seq;
    const auto bytes = state_bytes::room(state);
    auto error = run(c);
    ASSERT_TRUE(error) << "expected " << to_string(code);
    EXPECT_EQ(*error, code);
    EXPECT_EQ(state.seq, seq);
    EXPECT_EQ(state_bytes::room(state), bytes);
  }
  Join join(const std::string& name, int n, bool key = false) {
    return Join{key ? Credential::facilitator_key : Credential::join_code, key ? "key" : "code", name,
                secret_hash("token" + std::to_string(n))};
  }
  // The join reply a member gets, with its snapshot: the largest frame the server sends.
  std::size_t join_reply_bytes() const {
    const Member& m = state.members.front();
    json result{{"member", protocol::member_to_wire(m, false)},
                {"resume_token", std::string(22, 'x')},
                {"snapshot", protocol::snapshot_to_wire(state)}};
    return protocol::encode_reply(std::string(max_id_chars, 'i'), result).size();
  }
  std::size_t snapshot_bytes() const { return protocol::snapshot_to_wire(state).dump().size(); }

  RoomState state;
  colloquy::Limits limits{default_max_members, default_max_room_state_bytes};
  std::size_t largest_event = 0;
};

TEST_F(Limits, TextCleanersAllowAtMostFourBytesACodePointAsJson) {
  // Control characters (6 bytes as \u00XX) are refused by the cleaners; a line feed (2 bytes) is
  // the one allowed in prompts, cards and comments.
  EXPECT_FALSE(clean_prompt_text("a\x01" "b"));
  EXPECT_FALSE(clean_display_text("a\tb", max_name_chars));
  EXPECT_TRUE(clean_prompt_text("a\nb"));
  EXPECT_EQ(state_bytes::text(widest(500)), 2002u);
  EXPECT_EQ(state_bytes::text(std::string(500, '"')), 1002u);
  EXPECT_EQ(state_bytes::text(std::string(500, '\n')), 1002u);
  EXPECT_EQ(json(widest(500)).dump().size(), 2002u);
}

TEST_F(Limits, ARoomAtEveryCapWithTheWidestTextFitsOneFrame) {
  // Members with the widest names until the room is full (present) and holds all its records.
  must(join(widest(max_name_chars), 0, true));
  int n = 1;
  std::optional<ErrorCode> stop;
  while (!(stop = run(join(widest(max_name_chars), n)))) ++n;
  EXPECT_TRUE(*stop == ErrorCode::room_full || *stop == ErrorCode::room_state_full) << to_string(*stop);
  std::cout << "members present at the stop: " << presence::present(state) << ", bytes " << state_bytes::room(state) << "\n";
  // Half of them leave; others come until the records are all used (or the bytes).
  for (std::size_t i = 2; i <= state.members.size() && i < 26; ++i) must(Leave{"m" + std::to_string(i)});
  while (!(stop = run(join(widest(max_name_chars), ++n)))) {
  }
  EXPECT_TRUE(*stop == ErrorCode::room_full || *stop == ErrorCode::room_state_full) << to_string(*stop);

  // An audit whose comments use their whole budget.
  must(OpenAudit{"m1", default_audit_k});
  AuditResults results;
  for (const auto& item : state.audit.current->items) results.items.push_back(AuditItemResult{item.id, {9999, 9999, 9999, 9999, 9999}});
  std::size_t used = 0;
  while (used + audit_comment_cost(widest(max_audit_comment_chars)) <= max_audit_comment_bytes) {
    results.comments.push_back(widest(max_audit_comment_chars));
    used += audit_comment_cost(results.comments.back());
  }
  must(CloseAudit{"m1", 9999, results});

  // Cards and prompts until the deck, the prompts or the bytes stop them.
  while (!(stop = run(AddCard{"m1", widest(max_card_chars)}))) {
  }
  EXPECT_TRUE(*stop == ErrorCode::deck_full || *stop == ErrorCode::room_state_full) << to_string(*stop);
  for (int batch = 0;; ++batch) {
    std::vector<PromptText> prompts;
    for (std::size_t i = 0; i < max_pending_prompts; ++i) {
      prompts.push_back(PromptText{"p" + std::string(15, 'a') + std::to_string(batch * 100 + static_cast<int>(i)), widest(max_prompt_chars)});
    }
    if ((stop = run(ReleasePrompts{"m1", prompts}))) break;
  }
  // Single prompts fill what a batch could not.
  for (int i = 0; !(stop = run(ReleasePrompts{"m1", {PromptText{"q" + std::string(15, 'b') + std::to_string(i), widest(max_prompt_chars)}}})); ++i) {
  }
  EXPECT_TRUE(*stop == ErrorCode::too_many_prompts || *stop == ErrorCode::room_state_full) << to_string(*stop);
  refused(AddCard{"m1", widest(max_card_chars)}, ErrorCode::room_state_full);

  const std::size_t estimate = state_bytes::room(state);
  std::cout << "full room: " << state.members.size() << " member records, " << state.deck.size() << " cards, "
            << state.prompts.released().size() << " prompts; estimate " << estimate << " bytes, snapshot "
            << snapshot_bytes() << ", join reply " << join_reply_bytes() << ", largest event " << largest_event << "\n";
  EXPECT_LE(estimate, limits.max_room_state_bytes);
  EXPECT_GE(estimate, snapshot_bytes()) << "the estimate is an upper bound";
  EXPECT_LE(join_reply_bytes(), frame);
  EXPECT_LE(largest_event, frame);
}

TEST_F(Limits, CountCapsHoldWithShortText) {
  colloquy::Limits roomy{default_max_members, 1u << 30};
  limits = roomy;
  must(join("Grace", 0, true));
  // The deck: the built-in cards and more up to 200; the next one is deck_full.
  while (state.deck.size() < max_deck_cards) must(AddCard{"m1", "Why?"});
  refused(AddCard{"m1", "One more?"}, ErrorCode::deck_full);
  must(RemoveCard{"m1", state.deck.nth(0).id});
  must(AddCard{"m1", "Room again"});
  // Released prompts: 200; a batch that would pass them is refused whole.
  for (int i = 0; i < 8; ++i) {
    std::vector<PromptText> batch;
    for (int k = 0; k < 25; ++k) batch.push_back(PromptText{"p" + std::to_string(i * 25 + k), "Who decides?"});
    must(ReleasePrompts{"", batch});
  }
  EXPECT_EQ(state.prompts.released().size(), max_released_prompts);
  refused(ReleasePrompts{"", {PromptText{"p999", "And now?"}}}, ErrorCode::too_many_prompts);
  // Members: 50 present.
  for (int i = 1; i < 50; ++i) must(join("M" + std::to_string(i), i));
  refused(join("Late", 99), ErrorCode::room_full);
  EXPECT_GE(state_bytes::room(state), snapshot_bytes());
  EXPECT_LE(join_reply_bytes(), frame) << "a room at every count cap with short text fits one frame";
}

TEST_F(Limits, TheEstimateFollowsCardsAsTheyComeAndGo) {
  must(join("Grace", 0, true));
  const std::size_t before = state_bytes::room(state);
  must(AddCard{"m1", widest(100)});
  EXPECT_EQ(state_bytes::room(state), before + state_bytes::card("c13", widest(100)));
  must(RemoveCard{"m1", "c13"});
  EXPECT_EQ(state_bytes::room(state), before);
}

TEST_F(Limits, ASmallStateLimitRefusesGrowthButNotOtherCommands) {
  limits.max_room_state_bytes = state_bytes::room(state) + state_bytes::member("m1", "Grace") + 10;
  must(join("Grace", 0, true));
  refused(join("Ada", 1), ErrorCode::room_state_full);
  refused(AddCard{"m1", "What evidence?"}, ErrorCode::room_state_full);
  refused(OpenAudit{"m1", default_audit_k}, ErrorCode::room_state_full);
  must(RaiseHand{"m1"});
  must(RemoveCard{"m1", "c1"});
}

TEST(LimitsPending, TheLongestPendingPromptsFitOnePush) {
  std::vector<protocol::PendingView> view;
  for (std::size_t i = 0; i < max_pending_prompts; ++i) view.push_back({"p" + std::string(16, 'x'), widest(max_prompt_chars), false});
  const std::size_t bytes = protocol::encode_prompts_pending("abcdefghjkmnpqrs", view).size();
  std::cout << "prompts_pending with 25 of the longest prompts: " << bytes << " bytes\n";
  EXPECT_LE(bytes, frame);
}

TEST(LimitsPending, TheStoreAddsNoPromptPastTheCap) {
  MemoryPromptStore store;
  for (std::size_t i = 0; i < max_pending_prompts; ++i) {
    EXPECT_TRUE(store.add("r", PendingPrompt{"p" + std::to_string(i), "Why?", false}, max_pending_prompts));
  }
  EXPECT_FALSE(store.add("r", PendingPrompt{"px", "One more?", false}, max_pending_prompts));
  EXPECT_EQ(store.pending("r").size(), max_pending_prompts) << "the refused prompt is not added";
  EXPECT_TRUE(store.add("other", PendingPrompt{"py", "Elsewhere?", false}, max_pending_prompts)) << "rooms are counted apart";
}

TEST(LimitsAuditComments, TheStoreRefusesCommentsPastTheBudgetAndRecordsNothing) {
  MemoryPromptStore store;
  const std::vector<std::int64_t> values{3, 3, 3, 3, 3, 3};
  const std::string comment = widest(max_audit_comment_chars);
  std::size_t accepted = 0;
  for (int i = 0; i < 10; ++i) {
    const auto added = store.add_audit_answer("r", "a1", "m" + std::to_string(i), values, comment, max_audit_comment_bytes);
    if (added == AuditAdd::added) ++accepted;
    else EXPECT_EQ(added, AuditAdd::comments_full);
  }
  EXPECT_EQ(accepted, max_audit_comment_bytes / audit_comment_cost(comment));
  auto tally = store.audit_tally("r", "a1", 6);
  EXPECT_EQ(tally.responses, static_cast<std::int64_t>(accepted)) << "a refused answer is not counted";
  // Without the comment the same member may answer.
  EXPECT_EQ(store.add_audit_answer("r", "a1", "m9", values, "", max_audit_comment_bytes), AuditAdd::added);
  EXPECT_EQ(store.add_audit_answer("r", "a1", "m9", values, "", max_audit_comment_bytes), AuditAdd::already_answered);
}

TEST(LimitsMemoryLog, KeepsARoomsEventsBoundedInBytes) {
  const std::size_t keep_bytes = 16 * 1024;
  MemoryRoomLog log(1024, keep_bytes);
  RoomState shadow;
  shadow.id = "r";
  std::uint64_t seq = 0;
  auto append = [&](EventBody body) {
    Event e{seq + 1, t0, std::move(body), Audience{}};
    ASSERT_TRUE(log.append("r", seq, {e}));
    evolve(shadow, e);
    ++seq;
  };
  append(RoomCreated{"Title", "k", "c"});
  append(MemberJoined{MemberInfo{"m1", "Grace", Role::facilitator}, "t"});
  for (int i = 0; i < 200; ++i) append(DeckCardAdded{DeckCard{"c" + std::to_string(100 + i), widest(max_card_chars)}});
  EXPECT_LE(log.kept_bytes("r"), 2 * keep_bytes);
  EXPECT_GE(log.kept_bytes("r"), keep_bytes - 2200);
  // Recent events are there one by one; old ones only in the snapshot.
  auto recent = log.read("r", seq - 3);
  ASSERT_TRUE(recent);
  EXPECT_EQ(recent->size(), 3u);
  EXPECT_FALSE(log.read("r", 1));
  auto history = log.history("r");
  ASSERT_TRUE(history);
  RoomState rebuilt = history->base;
  for (const auto& e : history->events) evolve(rebuilt, e);
  EXPECT_EQ(rebuilt.deck.size(), shadow.deck.size());
  EXPECT_EQ(rebuilt.seq, seq);
}

} // namespace
} // namespace colloquy
