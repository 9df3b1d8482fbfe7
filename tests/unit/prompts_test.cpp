// Anonymous prompts (core/activities/prompts.* with the hub's pending set): pending lists reach
// facilitators only, release in shuffled batches, holds, votes, limits; nothing names an author.
#include "core_fixture.hpp"
#include "hub_fixture.hpp"

#include <algorithm>
#include <set>

namespace colloquy {
namespace {

using testing::PromptsTest;
using testing::Recorder;
using json = nlohmann::json;

// ---- the core: released prompts by id

class Prompts : public testing::CoreTest {};

TEST_F(Prompts, ReleasedPromptsAreFoundByIdVotedOnAndPosed) {
  refused(ReleasePrompts{ada, {PromptText{"p1", "Why now?"}}}, ErrorCode::forbidden);
  apply_ok(ReleasePrompts{"", {PromptText{"p1", "Why now?"}, PromptText{"p2", "Who benefits?"}}});
  ASSERT_EQ(state.prompts.released().size(), 2u);
  EXPECT_EQ(state.prompts.find("p2")->text, "Who benefits?");
  EXPECT_EQ(state.prompts.find("p3"), nullptr);
  refused(ReleasePrompts{grace, {PromptText{"p1", "Again"}}}, ErrorCode::invalid_field);
  auto vote = apply_ok(UpvotePrompt{lin, "p1"});
  EXPECT_EQ(std::get<PromptUpvoted>(vote.at(0).body).votes, 1);
  apply_ok(UpvotePrompt{kim, "p1"});
  EXPECT_EQ(state.prompts.find("p1")->votes, 2);
  refused(UpvotePrompt{lin, "p9"}, ErrorCode::unknown_prompt);
  refused(PosePrompt{ada, "p1", std::nullopt}, ErrorCode::forbidden);
  refused(PosePrompt{grace, "p1", std::string("m99")}, ErrorCode::unknown_member);
  apply_ok(PosePrompt{grace, "p2", lin});
  EXPECT_TRUE(state.prompts.find("p2")->posed);
  EXPECT_EQ(state.prompts.find("p2")->posed_to, lin);
  apply_ok(SetRole{grace, kim, Role::observer});
  refused(CheckPrompt{kim, PromptAction::submit}, ErrorCode::forbidden);
  refused(CheckPrompt{ada, PromptAction::manage}, ErrorCode::forbidden);
  EXPECT_TRUE(std::holds_alternative<Decision>(decide(state, CheckPrompt{ada, PromptAction::submit}, now)));
}

// ---- through the hub

TEST_F(PromptsTest, PendingPromptsReachFacilitatorsOnlyAsTextAndReleaseInShuffledBatchesOfThree) {
  auto grace = join("Grace", true);
  auto ada = join("Ada");
  auto lin = join("Lin");
  EXPECT_EQ(grace->of_type("prompts_pending").size(), 1u) << "a facilitator gets the pending list on joining";

  const auto ada_before = ada->frames.size();
  const auto lin_before = lin->frames.size();
  EXPECT_EQ(send(ada, {{"type", "prompt_submit"}, {"text", "  Why now?  "}})["type"], "reply");
  EXPECT_EQ(ada->frames.size(), ada_before + 1) << "the author gets only the reply";
  EXPECT_EQ(lin->frames.size(), lin_before) << "nobody else in the group hears of it";
  const json pending = grace->of_type("prompts_pending").back();
  ASSERT_EQ(pending["prompts"].size(), 1u);
  EXPECT_EQ(pending["prompts"][0]["text"], "Why now?");
  EXPECT_EQ(pending["prompts"][0].size(), 3u) << "id, text, held: nothing else";

  send(lin, {{"type", "prompt_submit"}, {"text", "Who benefits?"}});
  EXPECT_TRUE(lin->events("prompts_released").empty());
  send(ada, {{"type", "prompt_submit"}, {"text", "What are we avoiding?"}});
  // The third pending prompt releases all three to everyone, in one event.
  for (const auto& member : {grace, ada, lin}) {
    auto released = member->events("prompts_released");
    ASSERT_EQ(released.size(), 1u);
    std::vector<std::string> texts;
    for (const auto& p : released[0]["event"]["prompts"]) {
      EXPECT_EQ(p.size(), 2u) << "id and text only";
      texts.push_back(p["text"]);
    }
    std::sort(texts.begin(), texts.end());
    EXPECT_EQ(texts, (std::vector<std::string>{"What are we avoiding?", "Who benefits?", "Why now?"}));
  }
  EXPECT_TRUE(grace->of_type("prompts_pending").back()["prompts"].empty());
}

TEST_F(PromptsTest, FacilitatorsHoldDiscardAndReleaseChosenPrompts) {
  auto grace = join("Grace", true);
  auto ada = join("Ada");
  send(ada, {{"type", "prompt_submit"}, {"text", "First"}});
  send(ada, {{"type", "prompt_submit"}, {"text", "Second"}});
  auto list = grace->of_type("prompts_pending").back()["prompts"];
  ASSERT_EQ(list.size(), 2u);
  const std::string first = list[0]["id"];
  const std::string second = list[1]["id"];
  EXPECT_EQ(send(ada, {{"type", "prompt_hold"}, {"prompt", first}})["code"], "forbidden");
  EXPECT_EQ(send(grace, {{"type", "prompt_hold"}, {"prompt", first}})["type"], "reply");
  send(ada, {{"type", "prompt_submit"}, {"text", "Third"}});
  // Two not held: no automatic release yet.
  EXPECT_TRUE(grace->events("prompts_released").empty());
  EXPECT_EQ(send(grace, {{"type", "prompt_discard"}, {"prompt", second}})["type"], "reply");
  EXPECT_EQ(send(grace, {{"type", "prompt_discard"}, {"prompt", second}})["code"], "unknown_prompt");
  EXPECT_EQ(send(grace, {{"type", "prompt_release"}, {"prompts", {first}}})["type"], "reply");
  auto released = grace->events("prompts_released");
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0]["event"]["prompts"][0]["id"], first);
  // Release all: the rest that is not held (Third).
  EXPECT_EQ(send(grace, {{"type", "prompt_release"}})["type"], "reply");
  EXPECT_EQ(grace->events("prompts_released").back()["event"]["prompts"][0]["text"], "Third");
  EXPECT_EQ(send(grace, {{"type", "prompt_release"}, {"prompts", {"pnope"}}})["code"], "unknown_prompt");
}

TEST_F(PromptsTest, VotesCountOncePerMemberAndFacilitatorsPosePrompts) {
  auto grace = join("Grace", true);
  auto ada = join("Ada");
  auto lin = join("Lin");
  for (const char* text : {"A", "B", "C"}) send(ada, {{"type", "prompt_submit"}, {"text", text}});
  const std::string prompt = grace->events("prompts_released")[0]["event"]["prompts"][0]["id"];
  EXPECT_EQ(send(lin, {{"type", "prompt_upvote"}, {"prompt", prompt}})["type"], "reply");
  EXPECT_EQ(send(lin, {{"type", "prompt_upvote"}, {"prompt", prompt}})["code"], "already_voted");
  send(grace, {{"type", "prompt_upvote"}, {"prompt", prompt}});
  EXPECT_EQ(ada->events("prompt_upvoted").back()["event"], (json{{"kind", "prompt_upvoted"}, {"prompt_id", prompt}, {"votes", 2}}));
  EXPECT_EQ(send(lin, {{"type", "prompt_pose"}, {"prompt", prompt}})["code"], "forbidden");
  EXPECT_EQ(send(grace, {{"type", "prompt_pose"}, {"prompt", prompt}, {"member", "m99"}})["code"], "unknown_member");
  send(grace, {{"type", "prompt_pose"}, {"prompt", prompt}});
  EXPECT_EQ(lin->events("prompt_posed").back()["event"]["member_id"], nullptr);
  // The snapshot carries released prompts with their votes, never an author.
  auto late = join("Kim");
  const json snapshot = late->of_type("reply").back()["result"]["snapshot"];
  ASSERT_EQ(snapshot["prompts"].size(), 3u);
  for (const auto& p : snapshot["prompts"]) {
    if (p["id"] == prompt) {
      EXPECT_EQ(p["votes"], 2);
      EXPECT_EQ(p["posed_to"], nullptr);
    }
    for (const auto& [key, value] : p.items()) EXPECT_TRUE(key == "id" || key == "text" || key == "votes" || key == "posed_to") << key;
  }
}

TEST_F(PromptsTest, AbuseLimitIsFivePerMinutePerMemberAndObserversCannotSubmit) {
  auto grace = join("Grace", true);
  auto ada = join("Ada");
  auto lin = join("Lin");
  send(grace, {{"type", "prompt_hold"}, {"prompt", "none"}});
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(send(ada, {{"type", "prompt_submit"}, {"text", "Q" + std::to_string(i)}})["type"], "reply") << i;
  }
  EXPECT_EQ(send(ada, {{"type", "prompt_submit"}, {"text", "Q5"}})["code"], "rate_limited");
  EXPECT_EQ(send(lin, {{"type", "prompt_submit"}, {"text", "Mine"}})["type"], "reply") << "the limit is per member";
  now += 60'000;
  EXPECT_EQ(send(ada, {{"type", "prompt_submit"}, {"text", "Q6"}})["type"], "reply") << "a minute later";
  send(grace, {{"type", "set_role"}, {"member", "m3"}, {"role", "observer"}});
  EXPECT_EQ(send(lin, {{"type", "prompt_submit"}, {"text", "Watching"}})["code"], "forbidden");
}

TEST_F(PromptsTest, PromptsPendingAtThePhaseEndAreReleased) {
  auto grace = join("Grace", true);
  auto ada = join("Ada");
  send(ada, {{"type", "prompt_submit"}, {"text", "Late question"}});
  send(grace, {{"type", "timer"}, {"timer", "phase"}, {"action", "start"}, {"seconds", 60}});
  now += 60'000;
  hub.fire_due_timers();
  ASSERT_EQ(ada->events("timer_expired").size(), 1u);
  ASSERT_EQ(ada->events("prompts_released").size(), 1u);
  EXPECT_EQ(ada->events("prompts_released")[0]["event"]["prompts"][0]["text"], "Late question");
}

} // namespace
} // namespace colloquy
