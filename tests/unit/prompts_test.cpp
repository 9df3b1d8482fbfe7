// Anonymous prompts through the hub (fake clock and randomness): pending lists reach facilitators
// only, release in shuffled batches, holds, votes, limits; nothing names an author.
#include "app/connection.hpp"
#include "app/room_hub.hpp"
#include "core/templates.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

namespace colloquy {
namespace {

using json = nlohmann::json;

class Recorder : public Connection {
public:
  void send(Frame frame) override { frames.push_back(json::parse(*frame)); }
  void send_ephemeral(Frame frame) override { send(std::move(frame)); }
  void close(std::uint16_t, std::string) override {}
  std::vector<json> frames;
  std::vector<json> of_type(const std::string& type) const {
    std::vector<json> out;
    std::copy_if(frames.begin(), frames.end(), std::back_inserter(out), [&](const json& f) { return f["type"] == type; });
    return out;
  }
  std::vector<json> events(const std::string& kind) const {
    std::vector<json> out;
    for (const auto& f : of_type("event")) {
      if (f["event"]["kind"] == kind) out.push_back(f);
    }
    return out;
  }
};

class PromptsTest : public ::testing::Test {
protected:
  PromptsTest() : hub(options()) { room = std::get<CreatedRoom>(hub.create_room("Spring cohort")); }

  HubOptions options() {
    HubOptions o;
    o.run_timers = false;
    o.now_ms = [this] { return now; };
    o.random_bytes = [this](std::span<std::uint8_t> out) {
      for (auto& b : out) {
        ++counter;
        b = static_cast<std::uint8_t>((counter * 131) ^ (counter >> 3));
      }
    };
    return o;
  }

  std::shared_ptr<Recorder> join(const std::string& name, bool facilitator = false) {
    auto c = std::make_shared<Recorder>();
    hub.on_open(c);
    json command{{"type", "join"}, {"id", "j"}, {"room", room.room_id}, {"name", name}};
    command[facilitator ? "key" : "code"] = facilitator ? room.facilitator_key : room.join_code;
    hub.on_text(c, command.dump());
    return c;
  }

  json send(const std::shared_ptr<Recorder>& c, json command) {
    command["id"] = "c" + std::to_string(++ids);
    hub.on_text(c, command.dump());
    for (auto it = c->frames.rbegin(); it != c->frames.rend(); ++it) {
      if ((*it)["type"] != "event" && (*it)["type"] != "prompts_pending" && (*it).value("id", json()) == command["id"]) return *it;
    }
    return json();
  }

  std::int64_t now = 1'700'000'000'000;
  int counter = 0;
  int ids = 0;
  RoomHub hub;
  CreatedRoom room;
};

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

namespace colloquy {
namespace {

class AuditTest : public PromptsTest {
protected:
  json answers(std::int64_t value) {
    json a = json::object();
    for (const auto& item : default_audit_items()) a[item.id] = value;
    return a;
  }
};

TEST_F(AuditTest, ResultsOnlyInAggregateAndOnlyFromKAnswers) {
  auto grace = join("Grace", true);
  std::vector<std::shared_ptr<Recorder>> members;
  for (const char* name : {"Ada", "Lin", "Kim", "Sam", "Joy"}) members.push_back(join(name));
  EXPECT_EQ(send(members[0], {{"type", "audit_open"}})["code"], "forbidden");
  EXPECT_EQ(send(grace, {{"type", "audit_open"}, {"k", 3}})["type"], "reply");
  EXPECT_EQ(send(grace, {{"type", "audit_open"}})["code"], "audit_in_progress");
  const auto events_before = members[4]->of_type("event").size();

  EXPECT_EQ(send(members[0], {{"type", "audit_answer"}, {"answers", answers(4)}, {"comment", "We rush."}})["type"], "reply");
  EXPECT_EQ(send(members[0], {{"type", "audit_answer"}, {"answers", answers(4)}})["code"], "already_answered");
  json partial = answers(3);
  partial.erase(partial.begin());
  EXPECT_EQ(send(members[1], {{"type", "audit_answer"}, {"answers", partial}})["code"], "invalid_answer");
  json unknown = answers(3);
  unknown["made_up"] = 3;
  EXPECT_EQ(send(members[1], {{"type", "audit_answer"}, {"answers", unknown}})["code"], "invalid_answer");
  EXPECT_EQ(send(members[1], {{"type", "audit_answer"}, {"answers", answers(2)}})["type"], "reply");
  EXPECT_EQ(send(members[2], {{"type", "audit_answer"}, {"answers", answers(5)}, {"comment", "Good."}})["type"], "reply");
  EXPECT_EQ(members[4]->of_type("event").size(), events_before) << "no event per answer";
  EXPECT_EQ(grace->of_type("event").back()["event"]["kind"], "audit_opened") << "not even to facilitators";

  EXPECT_EQ(send(grace, {{"type", "audit_close"}})["type"], "reply");
  const json closed = members[4]->events("audit_closed").back()["event"];
  EXPECT_EQ(closed["responses"], 3);
  ASSERT_FALSE(closed["results"].is_null());
  for (const auto& item : closed["results"]["items"]) EXPECT_EQ(item["counts"], (json{0, 1, 0, 1, 1}));
  auto comments = closed["results"]["comments"].get<std::vector<std::string>>();
  std::sort(comments.begin(), comments.end());
  EXPECT_EQ(comments, (std::vector<std::string>{"Good.", "We rush."}));
  EXPECT_EQ(send(members[3], {{"type", "audit_answer"}, {"answers", answers(1)}})["code"], "no_audit");
}

TEST_F(AuditTest, FewerThanKAnswersShowNothingAndAreDeleted) {
  auto grace = join("Grace", true);
  auto ada = join("Ada");
  auto lin = join("Lin");
  send(grace, {{"type", "audit_open"}});
  send(ada, {{"type", "audit_answer"}, {"answers", answers(1)}, {"comment", "Only me"}});
  send(lin, {{"type", "audit_answer"}, {"answers", answers(2)}});
  send(grace, {{"type", "audit_close"}});
  const json closed = ada->events("audit_closed").back()["event"];
  EXPECT_EQ(closed["responses"], 2);
  EXPECT_TRUE(closed["results"].is_null()) << "k is 5 by default";
  // A new audit starts from nothing.
  send(grace, {{"type", "audit_open"}, {"k", 3}});
  EXPECT_EQ(send(ada, {{"type", "audit_answer"}, {"answers", answers(3)}})["type"], "reply");
  EXPECT_EQ(ada->events("audit_opened").back()["event"]["audit"]["id"], "a2");
}

} // namespace
} // namespace colloquy

namespace colloquy {
namespace {

TEST_F(PromptsTest, ChallengeDeckIsBuiltInEditableAndDrawnWithoutRepeats) {
  auto grace = join("Grace", true);
  auto ada = join("Ada");
  const json snapshot = grace->of_type("reply").front()["result"]["snapshot"];
  const auto built_in = snapshot["deck"]["cards"].size();
  EXPECT_EQ(built_in, default_deck().size());
  EXPECT_EQ(send(ada, {{"type", "deck_draw"}})["code"], "forbidden");
  EXPECT_EQ(send(ada, {{"type", "deck_add"}, {"text", "Mine"}})["code"], "forbidden");
  EXPECT_EQ(send(grace, {{"type", "deck_add"}, {"text", "What would your deputy say?"}})["type"], "reply");
  const json changed = ada->events("deck_changed").back()["event"];
  ASSERT_EQ(changed["cards"].size(), built_in + 1);
  EXPECT_EQ(changed["cards"].back()["id"], "c" + std::to_string(built_in + 1));
  EXPECT_EQ(send(grace, {{"type", "deck_remove"}, {"card", "c1"}})["type"], "reply");
  EXPECT_EQ(send(grace, {{"type", "deck_remove"}, {"card", "c1"}})["code"], "unknown_card");
  const auto cards = ada->events("deck_changed").back()["event"]["cards"].size();
  std::set<std::string> drawn;
  for (std::size_t i = 0; i < cards; ++i) {
    ASSERT_EQ(send(grace, {{"type", "deck_draw"}})["type"], "reply");
    drawn.insert(ada->events("deck_card_drawn").back()["event"]["card"]["id"].get<std::string>());
  }
  EXPECT_EQ(drawn.size(), cards) << "every card once before any repeats";
  EXPECT_FALSE(drawn.contains("c1")) << "a removed card is never drawn";
  ASSERT_EQ(send(grace, {{"type", "deck_draw"}})["type"], "reply") << "then the deck starts over";
}

} // namespace
} // namespace colloquy
