// The climate-for-learning audit (core/activities/audit.* with the hub's answer store): results
// only in aggregate and only from k answers; no event per answer.
#include "core_fixture.hpp"
#include "hub_fixture.hpp"

#include <algorithm>

namespace colloquy {
namespace {

using testing::PromptsTest;
using testing::Recorder;
using json = nlohmann::json;

// ---- the core

class Audits : public testing::CoreTest {
protected:
  std::vector<std::pair<std::string, std::int64_t>> all(std::int64_t value) const {
    std::vector<std::pair<std::string, std::int64_t>> out;
    for (const auto& item : default_audit_items()) out.emplace_back(item.id, value);
    return out;
  }
};

TEST_F(Audits, OpenCheckAndCloseWithResultsOnlyFromK) {
  refused(OpenAudit{ada, 3}, ErrorCode::forbidden);
  refused(OpenAudit{grace, 2}, ErrorCode::invalid_field);
  refused(CheckAuditAnswer{ada, all(3)}, ErrorCode::no_audit);
  auto opened = apply_ok(OpenAudit{grace, 3});
  EXPECT_EQ(std::get<AuditOpened>(opened.at(0).body).audit.id, "a1");
  refused(OpenAudit{grace, 3}, ErrorCode::audit_in_progress);
  EXPECT_TRUE(std::holds_alternative<Decision>(decide(state, CheckAuditAnswer{ada, all(3)}, now)));
  auto partial = all(3);
  partial.pop_back();
  refused(CheckAuditAnswer{ada, partial}, ErrorCode::invalid_answer);
  refused(CheckAuditAnswer{ada, all(6)}, ErrorCode::invalid_answer);
  EXPECT_EQ(audit_values(*state.audit.current, CheckAuditAnswer{ada, all(4)}), std::vector<std::int64_t>(default_audit_items().size(), 4));
  auto closed = apply_ok(CloseAudit{grace, 2, AuditResults{{}, {"kept back"}}});
  EXPECT_FALSE(std::get<AuditClosed>(closed.at(0).body).results) << "2 answers of k = 3: nothing is shown";
  EXPECT_FALSE(state.audit.current->open);
  apply_ok(OpenAudit{grace, 3});
  EXPECT_EQ(state.audit.current->id, "a2");
  auto shown = apply_ok(CloseAudit{grace, 3, AuditResults{{}, {"ok"}}});
  EXPECT_TRUE(std::get<AuditClosed>(shown.at(0).body).results);
  EXPECT_EQ(state.audit.current->responses, 3);
}

// ---- through the hub

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
