// Stored records (log/storage_codec.*): versioned, independent of the wire codec, and every earlier
// format still read. tests/fixtures/storage-records.json pins the record of every event kind in
// today's format: a change to an event's declaration that changes what is stored fails here, and
// needs a new record format (storage.format in protocol/messages.json) and a reader for the old one.
#include "core/room.hpp"
#include "log/generated/records.hpp"
#include "log/storage_codec.hpp"
#include "protocol/codec.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace colloquy {
namespace {

using json = nlohmann::json;

const std::filesystem::path golden_file =
    std::filesystem::path(COLLOQUY_PROTOCOL_DIR).parent_path() / "tests" / "fixtures" / "storage-records.json";

// One event of every kind, with every field set.
std::vector<EventBody> one_of_each() {
  const Timer paused{TimerState::paused, 60'000, 0, 12'000};
  AuditResults results{{AuditItemResult{"safe", {0, 1, 2, 3, 4}}}, {"We rush."}};
  return {
      RoomCreated{"Spring cohort", "key-hash", "code-hash"},
      MemberJoined{MemberInfo{"m2", "Ada", Role::participant}, "token-hash"},
      MemberLeft{"m2"},
      MemberConnectionLost{"m2"},
      MemberBack{"m2"},
      MemberRemoved{"m2"},
      RoomClosed{},
      RoleChanged{"m2", Role::co_facilitator},
      SettingsChanged{AirtimeVisibility::facilitators},
      RoundStarted{RoundHeader{3, {"m1", "m2"}, 120, true}},
      RoundOrderChanged{{"m2", "m1"}},
      RoundEnded{RoundEndReason::completed},
      ActivityPaused{PauseReason::restart, 1732485612000},
      ActivityResumed{},
      TurnHeld{"m2", 1732485632000},
      TurnStarted{"m2", TurnMode::floor},
      TurnEnded{"m2", Outcome::moved, 5000},
      HandRaised{"m3"},
      HandLowered{"m3"},
      FloorSettingsChanged{180, true, false},
      TimerSet{TimerId::phase, TimerAction::pause, paused},
      TimerExpired{TimerId::turn},
      PromptsReleased{{PromptText{"p1", "Why now?"}, PromptText{"p2", "Who benefits?"}}},
      PromptUpvoted{"p1", 2},
      PromptPosed{"p1", std::string("m3")},
      AuditOpened{AuditHeader{"a1", 5, {AuditItem{"safe", "It is safe to disagree."}}}},
      AuditClosed{"a1", 6, results},
      DeckChanged{{DeckCard{"c1", "What evidence do you have?"}}},
      DeckCardAdded{DeckCard{"c13", "What would your deputy say?"}},
      DeckCardRemoved{"c13"},
      DeckCardDrawn{DeckCard{"c1", "What evidence do you have?"}},
      GroupsOpened{{BreakoutGroup{"g1", {"m2", "m3"}, false, false, false}}, GroupMethod::fresh, 1732486600000},
      GroupMemberMoved{"m4", std::string("g1")},
      GroupsExtended{1732486720000},
      GroupsRecalled{1732486060000, 1732486070000},
      GroupsClosed{GroupsEndReason::recalled},
      GroupsMessage{"Five minutes left"},
      GroupFlagChanged{"g1", GroupFlag::help, true, "m2"},
  };
}

json golden() {
  std::ifstream in(golden_file);
  EXPECT_TRUE(in.good()) << "cannot read " << golden_file;
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

TEST(StorageRecords, EveryEventKindHasASampleAndAGoldenRecord) {
  std::set<std::string> kinds;
  for (const auto& body : one_of_each()) kinds.insert(std::string(event_kind(body)));
  EXPECT_EQ(kinds.size(), std::variant_size_v<EventBody>) << "a sample of every kind of EventBody";
  std::set<std::string> pinned;
  const json records = golden();
  for (const auto& [kind, record] : records.items()) pinned.insert(kind);
  EXPECT_EQ(pinned, kinds);
}

TEST(StorageRecords, TodaysRecordsAreExactlyThePinnedOnes) {
  const json pinned = golden();
  for (const auto& body : one_of_each()) {
    const std::string kind(event_kind(body));
    SCOPED_TRACE(kind);
    const Event event{7, 1'700'000'000'000, body, Audience{Audience::Kind::leads, {}, {}}};
    const json record = storage::event_to_json(event);
    EXPECT_EQ(record["v"], storage::record_format);
    EXPECT_EQ(record["body"], pinned[kind]) << "got " << record["body"].dump();
    // Not the wire form: stored records are written by their own codec, so a wire change leaves them.
    if (kind == "room_created" || kind == "member_joined") {
      EXPECT_NE(record["body"], protocol::event_to_wire(body));
    }
  }
}

TEST(StorageRecords, EveryRecordReadsBackAsTheSameEvent) {
  for (const auto& body : one_of_each()) {
    SCOPED_TRACE(std::string(event_kind(body)));
    const Event event{7, 123, body, Audience{Audience::Kind::member, "m2", {}}};
    auto back = storage::event_from_json(storage::event_to_json(event));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->seq, 7u);
    EXPECT_EQ(back->time_ms, 123);
    EXPECT_EQ(back->audience.kind, Audience::Kind::member);
    EXPECT_EQ(back->audience.member_id, "m2");
    EXPECT_EQ(back->body, body);
  }
}

TEST(StorageRecords, HashesAreStoredButNeverSent) {
  const Event joined{2, 1, MemberJoined{MemberInfo{"m1", "Ada", Role::participant}, "deadbeefhash"}, {}};
  EXPECT_NE(storage::event_to_json(joined).dump().find("deadbeefhash"), std::string::npos);
  EXPECT_EQ(protocol::encode_event_push("r", joined).find("deadbeefhash"), std::string::npos);
}

TEST(StorageRecords, Format1RecordsStillRead) {
  // As the 1.3 server wrote them (no "v"): member_joined flat, the audience of leads "facilitators".
  auto joined = storage::event_from_json(json::parse(
      R"({"seq":2,"time":5,"audience":{"kind":"facilitators"},"body":{"kind":"member_joined","member_id":"m1","name":"Grace","role":"facilitator","token_hash":"t"}})"));
  ASSERT_TRUE(joined);
  EXPECT_EQ(joined->audience.kind, Audience::Kind::leads);
  const EventBody grace = MemberJoined{MemberInfo{"m1", "Grace", Role::facilitator}, "t"};
  EXPECT_EQ(joined->body, grace);
  auto timer = storage::event_from_json(json::parse(
      R"({"seq":3,"time":6,"audience":{"kind":"everyone"},"body":{"kind":"timer_set","timer":"phase","action":"start","state":{"state":"running","duration_ms":900000,"ends_at":1900,"remaining_ms":null}}})"));
  ASSERT_TRUE(timer);
  const Timer running{TimerState::running, 900'000, 1900, 0};
  EXPECT_EQ(std::get<TimerSet>(timer->body).state, running);
  auto deck = storage::event_from_json(json::parse(
      R"({"seq":4,"time":7,"audience":{"kind":"everyone"},"body":{"kind":"deck_changed","cards":[{"id":"c1","text":"Why?"}]}})"));
  ASSERT_TRUE(deck);
  EXPECT_EQ(std::get<DeckChanged>(deck->body).cards, (std::vector<DeckCard>{{"c1", "Why?"}}));
}

TEST(StorageRecords, MalformedOrFutureRecordsAreRefused) {
  EXPECT_FALSE(storage::event_from_json(json{{"seq", 1}}));
  EXPECT_FALSE(storage::event_from_json(json::parse(R"({"seq":1,"time":1,"audience":{"kind":"everyone"},"body":{"kind":"nope"}})")));
  json future = storage::event_to_json(Event{1, 1, MemberLeft{"m1"}, {}});
  future["v"] = 99;
  EXPECT_FALSE(storage::event_from_json(future)) << "a record of a later format is not guessed at";
  EXPECT_FALSE(storage::room_from_json(json{{"v", 99}}));
}

// A room with every part set, as stored.
RoomState full_room() {
  RoomState s;
  s.id = "r";
  s.title = "T";
  s.key_hash = "k";
  s.code_hash = "c";
  s.seq = 30;
  s.created_at_ms = 1000;
  s.members = {{"m1", "Grace", Role::facilitator, Presence::online, "t1"}, {"m2", "Ada", Role::participant, Presence::away, "t2"}};
  s.members[1].airtime_ms = 61'000;
  s.members[1].away_since_ms = 5000;
  s.presence.airtime_visibility = AirtimeVisibility::facilitators;
  s.speaking.rounds_started = 2;
  s.speaking.round = Round{2, {"m1", "m2"}, {"m2"}, 60, false, {RoundOutcome{"m1", Outcome::spoke, 3000}}, {}};
  s.speaking.floor = Floor{{"m2"}, 90, true, true};
  s.speaking.turn = Turn{"m2", TurnMode::round, 4000, 1500, 29'000, 9000}; // 1.6: paused a while, then held
  s.speaking.paused = Pause{PauseReason::restart, 12'000};
  s.speaking.last_round = RoundSummary{1, RoundEndReason::ended, {RoundOutcome{"m2", Outcome::passed, 0}}};
  s.timers.phase = Timer{TimerState::expired, 60'000, 7000, 0};
  s.timers.turn = Timer{TimerState::running, 60'000, 64'000, 0};
  s.prompts.add({"p1", "Why now?", 2, true, std::nullopt});
  s.prompts.add({"p2", "Who?", 0, true, std::string("m2")});
  s.prompts.add({"p3", "How?", 1, false, std::nullopt});
  s.audit.started = 2;
  s.audit.current = Audit{"a2", 3, default_audit_items(), false, 4, AuditResults{{AuditItemResult{"x", {1, 0, 0, 0, 3}}}, {"ok"}}};
  s.deck.replace({{"c2", "Only this one"}, {"c3", "And this"}, {"c4", "And that"}}, true, {"c2"}, {"c4", "c3"}, 20);
  return s;
}

TEST(StorageRooms, ARoomRoundTripsWithHashesAndCounters) {
  const RoomState s = full_room();
  const json stored = storage::room_to_json(s);
  EXPECT_EQ(stored["v"], storage::record_format);
  auto back = storage::room_from_json(stored);
  ASSERT_TRUE(back);
  EXPECT_EQ(storage::room_to_json(*back), stored);
  EXPECT_EQ(back->members.at(1).presence, Presence::away);
  EXPECT_EQ(back->members.at(1).away_since_ms, 5000);
  EXPECT_EQ(back->code_hash, "c");
  EXPECT_EQ(back->audit.started, 2u);
  EXPECT_EQ(back->deck.undrawn(), (std::vector<std::string>{"c4", "c3"})) << "the next draw chooses as before";
  EXPECT_EQ(back->deck.next_card(), 20u);
  EXPECT_EQ(protocol::snapshot_to_wire(*back), protocol::snapshot_to_wire(s));
}

TEST(StorageRooms, WhoWasSkippedForBeingAwaySurvivesASnapshot) {
  RoomState s = full_room();
  s.speaking.round->skipped_away = {"m1"};
  const json stored = storage::room_to_json(s);
  EXPECT_EQ(stored["speaking"]["round"]["skipped_away"], json::array({"m1"}));
  auto back = storage::room_from_json(stored);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->speaking.round->skipped_away, (std::vector<std::string>{"m1"}));
  // Records written before it have no such key (nobody owed a turn); a malformed one is refused.
  json old = stored;
  old["speaking"]["round"].erase("skipped_away");
  back = storage::room_from_json(old);
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->speaking.round->skipped_away.empty());
  old["speaking"]["round"]["skipped_away"] = 3;
  EXPECT_FALSE(storage::room_from_json(old));
  EXPECT_FALSE(storage::room_to_json(full_room())["speaking"]["round"].contains("skipped_away")) << "absent when empty";
}

TEST(StorageRooms, TheDeckIsKeptAsEditedOrFollowsTheTemplate) {
  RoomState state;
  state.id = "r";
  auto back = storage::room_from_json(storage::room_to_json(state));
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->deck.edited()) << "an unedited deck keeps following the template";
  EXPECT_TRUE(storage::room_to_json(state)["deck"]["cards"].is_null());
  state.deck.replace({{"c1", "Only this one"}}, true, {}, {}, 0);
  back = storage::room_from_json(storage::room_to_json(state));
  ASSERT_TRUE(back);
  ASSERT_TRUE(back->deck.edited());
  EXPECT_EQ(back->deck.cards().at(0).text, "Only this one") << "an edited deck survives a snapshot";
}

TEST(StorageRooms, Format1RoomsStillRead) {
  // A 1.3 room record: the snapshot's live fields; no audit counter (it is taken from the audit id).
  const json v1 = json::parse(R"({"id":"r","title":"T","key_hash":"k","code_hash":"c","seq":9,"created_at":1,
    "members":[{"id":"m1","name":"Grace","role":"facilitator","presence":"online","token_hash":"t","airtime_ms":5,"away_since":0}],
    "rounds_started":1,"settings":{"airtime_visibility":"everyone"},"round":null,
    "floor":{"queue":[],"turn_seconds":null,"auto_advance":false,"quieter_first":false},"turn":null,
    "timers":{"phase":{"state":"idle","duration_ms":0,"ends_at":null,"remaining_ms":null},"turn":{"state":"idle","duration_ms":0,"ends_at":null,"remaining_ms":null}},
    "prompts":[{"id":"p1","text":"Why?","votes":1,"posed_to":null}],
    "audit":{"id":"a3","k":5,"items":[{"id":"x","text":"X"}],"open":true},
    "deck":{"cards":[{"id":"c1","text":"Only"}],"drawn":["c1"]}})");
  auto s = storage::room_from_json(v1);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->members.at(0).airtime_ms, 5);
  EXPECT_EQ(s->speaking.rounds_started, 1u);
  EXPECT_EQ(s->audit.started, 3u);
  ASSERT_EQ(s->prompts.released().size(), 1u);
  EXPECT_TRUE(s->prompts.released()[0].posed);
  EXPECT_FALSE(s->prompts.released()[0].posed_to);
  ASSERT_TRUE(s->deck.edited());
  EXPECT_EQ(s->deck.drawn(), (std::vector<std::string>{"c1"}));
  EXPECT_EQ(s->deck.next_card(), 13u) << "the ids of the built-in deck were given when the room began";
  // Before 1.2 a room had no live fields at all.
  json v0 = v1;
  for (const char* k : {"settings", "round", "floor", "turn", "timers", "prompts", "audit", "deck", "rounds_started"}) v0.erase(k);
  auto old = storage::room_from_json(v0);
  ASSERT_TRUE(old);
  EXPECT_FALSE(old->speaking.round);
  EXPECT_FALSE(old->deck.edited());
}

} // namespace
} // namespace colloquy
