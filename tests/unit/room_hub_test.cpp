// The hub without a network: commands in, frames out to fake connections.
#include "app/room_hub.hpp"
#include "log/room_log.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

namespace colloquy {
namespace {

using json = nlohmann::json;

// Records what the hub sends, as a browser would receive it.
class RecordingConnection : public Connection {
public:
  void send(Frame frame) override { frames.push_back(json::parse(*frame)); raw.push_back(frame); }
  void send_ephemeral(Frame frame) override { ephemeral.push_back(json::parse(*frame)); }
  std::vector<json> ephemeral;
  void close(std::uint16_t code, std::string reason) override { closed = code; close_reason = std::move(reason); }

  std::vector<json> frames;
  std::vector<Frame> raw;
  std::optional<std::uint16_t> closed;
  std::string close_reason;

  const json& last() const { return frames.back(); }
  std::vector<json> pushes() const {
    std::vector<json> out;
    std::copy_if(frames.begin(), frames.end(), std::back_inserter(out), [](const json& f) { return f["type"] == "event"; });
    return out;
  }
};

class RoomHubTest : public ::testing::Test {
protected:
  RoomHubTest() : hub(options()) {
    auto created = hub.create_room("Spring cohort");
    room = std::get<CreatedRoom>(created);
  }

  HubOptions options() {
    HubOptions o;
    o.max_members_per_room = 4;
    o.now_ms = [this] { return now; };
    o.random_bytes = [this](std::span<std::uint8_t> out) {
      for (auto& b : out) b = static_cast<std::uint8_t>(++counter * 37);
    };
    return o;
  }

  std::shared_ptr<RecordingConnection> connect() {
    auto c = std::make_shared<RecordingConnection>();
    hub.on_open(c);
    return c;
  }

  // The reply or error to the command (pushes such as a facilitator's pending prompts may follow it).
  json send(const std::shared_ptr<RecordingConnection>& c, const json& command) {
    const auto before = c->frames.size();
    hub.on_text(c, command.dump());
    for (auto i = before; i < c->frames.size(); ++i) {
      if (c->frames[i]["type"] == "reply" || c->frames[i]["type"] == "error") return c->frames[i];
    }
    return c->last();
  }

  json join(const std::shared_ptr<RecordingConnection>& c, const std::string& name, bool facilitator = false) {
    json command{{"type", "join"}, {"id", "j"}, {"room", room.room_id}, {"name", name}};
    command[facilitator ? "key" : "code"] = facilitator ? room.facilitator_key : room.join_code;
    return send(c, command);
  }

  std::int64_t now = 1'700'000'000'000;
  int counter = 0;
  RoomHub hub;
  CreatedRoom room;
};

TEST_F(RoomHubTest, CreatedRoomHasDistinctUrlSafeSecrets) {
  EXPECT_EQ(room.room_id.size(), 16u);
  EXPECT_EQ(room.facilitator_key.size(), 22u);
  EXPECT_EQ(room.join_code.size(), 22u);
  EXPECT_NE(room.facilitator_key, room.join_code);
  EXPECT_EQ(room.title, "Spring cohort");
  EXPECT_EQ(hub.stats().rooms, 1u);
}

TEST_F(RoomHubTest, TitleRulesAreEnforced) {
  auto empty = hub.create_room("   ");
  ASSERT_TRUE(std::holds_alternative<HubError>(empty));
  EXPECT_EQ(std::get<HubError>(empty).code, ErrorCode::invalid_title);
  EXPECT_TRUE(std::holds_alternative<HubError>(hub.create_room(std::string(121, 't'))));
  EXPECT_EQ(hub.stats().rooms, 1u);
}

TEST_F(RoomHubTest, WelcomeComesFirst) {
  auto c = connect();
  ASSERT_EQ(c->frames.size(), 1u);
  EXPECT_EQ(c->frames[0]["type"], "welcome");
  EXPECT_EQ(c->frames[0]["server_time"], now);
}

TEST_F(RoomHubTest, GroupGathersAndEveryoneSeesEveryone) {
  auto grace = connect();
  auto ada = connect();
  auto lin = connect();
  json g = join(grace, "Grace", true);
  EXPECT_EQ(g["type"], "reply") << g.dump();
  EXPECT_EQ(g["result"]["member"]["role"], "facilitator");
  EXPECT_EQ(g["result"]["snapshot"]["seq"], 2);
  json a = join(ada, "Ada");
  EXPECT_EQ(a["result"]["member"]["role"], "participant");
  json l = join(lin, "Lin");
  EXPECT_EQ(l["result"]["snapshot"]["members"].size(), 3u);
  EXPECT_EQ(l["result"]["snapshot"]["seq"], 4);

  // Grace saw Ada and Lin arrive, in order, with consecutive seq after her snapshot.
  auto pushes = grace->pushes();
  ASSERT_EQ(pushes.size(), 2u);
  EXPECT_EQ(pushes[0]["seq"], 3);
  EXPECT_EQ(pushes[0]["event"]["member"]["name"], "Ada");
  EXPECT_EQ(pushes[1]["seq"], 4);
  EXPECT_EQ(pushes[1]["event"]["member"]["name"], "Lin");
  // The joiner gets its own arrival in the snapshot, not as a push.
  EXPECT_TRUE(lin->pushes().empty());
}

TEST_F(RoomHubTest, OneEventIsEncodedOnceForAllRecipients) {
  auto grace = connect();
  auto ada = connect();
  join(grace, "Grace", true);
  join(ada, "Ada");
  auto lin = connect();
  join(lin, "Lin");
  EXPECT_EQ(grace->raw.back().get(), ada->raw.back().get()); // the same shared buffer
}

TEST_F(RoomHubTest, DroppedConnectionAndResumeKeepTheSameMember) {
  auto grace = connect();
  join(grace, "Grace", true);
  auto ada = connect();
  json a = join(ada, "Ada");
  const std::string token = a["result"]["resume_token"];
  const std::string ada_id = a["result"]["member"]["id"];

  hub.on_close(ada);
  EXPECT_EQ(grace->last()["event"]["kind"], "member_connection_lost");
  EXPECT_EQ(grace->last()["event"]["member_id"], ada_id);

  auto ada2 = connect();
  json back = send(ada2, {{"type", "join"}, {"id", "r"}, {"room", room.room_id}, {"resume", token}});
  ASSERT_EQ(back["type"], "reply");
  EXPECT_EQ(back["result"]["member"]["id"], ada_id);
  EXPECT_EQ(back["result"]["member"]["name"], "Ada");
  EXPECT_EQ(back["result"]["resume_token"], token);
  EXPECT_EQ(back["result"]["snapshot"]["members"].size(), 2u);
  EXPECT_EQ(grace->last()["event"]["kind"], "member_back");
}

TEST_F(RoomHubTest, ResumeWithAfterReplaysExactlyTheMissedEvents) {
  auto grace = connect();
  join(grace, "Grace", true);
  auto ada = connect();
  json a = join(ada, "Ada");
  const std::uint64_t ada_seq = a["result"]["snapshot"]["seq"];
  hub.on_close(ada); // Ada's connection drops; the group carries on without her
  auto lin = connect();
  join(lin, "Lin");
  send(lin, {{"type", "leave"}, {"id", "l"}});

  auto ada2 = connect();
  hub.on_text(ada2, json{{"type", "join"}, {"id", "r"}, {"room", room.room_id},
                         {"resume", a["result"]["resume_token"]}, {"after", ada_seq}}.dump());
  // welcome, the reply, then the missed events: lost (hers), Lin joined, Lin left, her own return.
  ASSERT_EQ(ada2->frames.size(), 6u);
  const json& reply = ada2->frames[1];
  ASSERT_EQ(reply["type"], "reply") << reply.dump();
  EXPECT_FALSE(reply["result"].contains("snapshot"));
  EXPECT_EQ(reply["result"]["replay"], (json{{"after", ada_seq}, {"events", 4}}));
  std::vector<std::string> kinds;
  std::uint64_t expected = ada_seq + 1;
  for (const auto& push : ada2->pushes()) {
    EXPECT_EQ(push["seq"], expected++) << "no gap, no duplicate";
    kinds.push_back(push["event"]["kind"]);
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"member_connection_lost", "member_joined", "member_left", "member_back"}));
  // Grace sees the same seq for Ada's return as Ada replayed.
  EXPECT_EQ(grace->last()["seq"], ada2->frames.back()["seq"]);
}

// A member away during many changes can always come back: a replay that would not fit the
// budget is a snapshot instead (so a resume is never closed for being too big, again and again).
TEST(RoomHubResume, AReplayOverTheBudgetIsASnapshotInstead) {
  HubOptions o;
  o.max_replay_bytes = 4096;
  o.max_commands_per_second = 1000;
  o.run_timers = false;
  RoomHub hub(std::move(o));
  const auto room = std::get<CreatedRoom>(hub.create_room("Long absence"));
  auto connect = [&] {
    auto c = std::make_shared<RecordingConnection>();
    hub.on_open(c);
    return c;
  };
  auto grace = connect();
  hub.on_text(grace, json{{"type", "join"}, {"id", "g"}, {"room", room.room_id}, {"key", room.facilitator_key}, {"name", "Grace"}}.dump());
  auto ada = connect();
  hub.on_text(ada, json{{"type", "join"}, {"id", "a"}, {"room", room.room_id}, {"code", room.join_code}, {"name", "Ada"}}.dump());
  const json joined = ada->frames[1];
  const std::uint64_t ada_seq = joined["result"]["snapshot"]["seq"];
  hub.on_close(ada);
  auto resume = [&] {
    auto again = connect();
    hub.on_text(again, json{{"type", "join"}, {"id", "r"}, {"room", room.room_id},
                            {"resume", joined["result"]["resume_token"]}, {"after", ada_seq}}.dump());
    const json reply = again->frames[1];
    hub.on_close(again);
    return reply;
  };
  auto raise_and_lower = [&](int times) {
    for (int i = 0; i < times; ++i) {
      hub.on_text(grace, json{{"type", "hand_raise"}, {"id", "h"}}.dump());
      hub.on_text(grace, json{{"type", "hand_lower"}, {"id", "l"}}.dump());
    }
  };
  raise_and_lower(4); // lost, 8 changes
  const json few = resume();
  ASSERT_EQ(few["type"], "reply") << few.dump();
  EXPECT_TRUE(few["result"].contains("replay")) << "a short absence is caught up event by event";

  raise_and_lower(40); // back and lost again, 80 changes
  const json many = resume();
  ASSERT_EQ(many["type"], "reply") << many.dump();
  EXPECT_FALSE(many["result"].contains("replay"));
  EXPECT_EQ(many["result"]["snapshot"]["seq"], ada_seq + 1 + 8 + 2 + 80 + 1) << "the room as it is now";
}

TEST_F(RoomHubTest, ResumeWithAnAfterBeyondTheRoomGetsASnapshot) {
  auto ada = connect();
  json a = join(ada, "Ada");
  hub.on_close(ada);
  auto ada2 = connect();
  json back = send(ada2, {{"type", "join"}, {"id", "r"}, {"room", room.room_id},
                          {"resume", a["result"]["resume_token"]}, {"after", 999}});
  ASSERT_EQ(back["type"], "reply");
  EXPECT_TRUE(back["result"].contains("snapshot")) << "an unknown position cannot be caught up from";
  EXPECT_FALSE(back["result"].contains("replay"));
}

TEST_F(RoomHubTest, SecondConnectionOfAMemberReplacesTheFirst) {
  auto ada = connect();
  json a = join(ada, "Ada");
  auto watcher = connect();
  join(watcher, "Grace", true);
  const auto pushes_before = watcher->pushes().size();
  auto tab2 = connect();
  json again = send(tab2, {{"type", "join"}, {"id", "r"}, {"room", room.room_id}, {"resume", a["result"]["resume_token"]}});
  EXPECT_EQ(again["type"], "reply");
  ASSERT_TRUE(ada->closed.has_value());
  EXPECT_EQ(*ada->closed, 4000);
  EXPECT_EQ(ada->close_reason, "replaced");
  // The replaced socket closing later is not a lost connection: nobody is told anything.
  hub.on_close(ada);
  EXPECT_EQ(watcher->pushes().size(), pushes_before);
}

TEST_F(RoomHubTest, LeaveThenCommandsNeedAJoin) {
  auto grace = connect();
  join(grace, "Grace", true);
  auto ada = connect();
  join(ada, "Ada");
  json left = send(ada, {{"type", "leave"}, {"id", "l"}});
  EXPECT_EQ(left["type"], "reply");
  EXPECT_EQ(grace->last()["event"]["kind"], "member_left");
  json again = send(ada, {{"type", "leave"}, {"id", "l2"}});
  EXPECT_EQ(again["code"], "not_joined");
  EXPECT_EQ(again["id"], "l2");
  // Closing after leaving records nothing more.
  const auto before = grace->pushes().size();
  hub.on_close(ada);
  EXPECT_EQ(grace->pushes().size(), before);
}

TEST_F(RoomHubTest, BadInputGetsCodeAndChangesNothing) {
  auto grace = connect();
  json g = join(grace, "Grace", true);
  auto c = connect();
  struct Case { std::string frame; std::string code; };
  const std::vector<Case> cases = {
      {"{not json", "bad_json"},
      {R"({"type":"dance","id":"1"})", "unknown_type"},
      {R"({"type":"join","id":"1","room":")" + room.room_id + R"(","code":"nope","name":"X"})", "bad_credentials"},
      {R"({"type":"join","id":"1","room":")" + room.room_id + R"(","key":"nope","name":"X"})", "bad_credentials"},
      {R"({"type":"join","id":"1","room":")" + room.room_id + R"(","resume":"nope"})", "bad_credentials"},
      {R"({"type":"join","id":"1","room":"nosuchroom","code":"x","name":"X"})", "room_not_found"},
      {R"({"type":"join","id":"1","room":")" + room.room_id + R"(","code":")" + room.join_code + R"(","name":""})", "invalid_name"},
  };
  for (const auto& test : cases) {
    SCOPED_TRACE(test.frame);
    hub.on_text(c, test.frame);
    EXPECT_EQ(c->last()["type"], "error");
    EXPECT_EQ(c->last()["code"], test.code);
  }
  hub.on_binary(c);
  EXPECT_EQ(c->last()["code"], "bad_frame");
  EXPECT_TRUE(grace->pushes().empty());
  // The connection still works.
  json pong = send(c, {{"type", "ping"}, {"id", "p"}});
  EXPECT_EQ(pong["type"], "reply");
  EXPECT_EQ(pong["result"]["server_time"], now);
  json fresh = join(c, "Ada");
  EXPECT_EQ(fresh["result"]["snapshot"]["seq"], g["result"]["snapshot"]["seq"].get<int>() + 1);
}

TEST_F(RoomHubTest, EphemeralIsNeverTakenForAnotherCommandAndChangesNothing) {
  // An ephemeral update gets no reply and no event: in particular it is not taken for `leave`.
  auto grace = connect();
  join(grace, "Grace", true);
  auto ada = connect();
  join(ada, "Ada");
  const auto pushes_before = grace->pushes().size();
  const auto frames_before = ada->frames.size();
  hub.on_text(ada, json{{"type", "ephemeral"}, {"id", "e1"}, {"kind", "cursor"}, {"data", {{"x", 1}, {"y", 2}}}}.dump());
  EXPECT_EQ(ada->frames.size(), frames_before) << "no reply on success";
  EXPECT_EQ(grace->pushes().size(), pushes_before) << "nobody hears of it as an event, and the member did not leave";
  EXPECT_EQ(send(ada, {{"type", "ping"}, {"id", "p"}})["type"], "reply");
  EXPECT_EQ(send(ada, {{"type", "hand_raise"}, {"id", "h"}})["type"], "reply") << "still joined";
}

TEST_F(RoomHubTest, JoinTwiceOnOneConnectionIsRefused) {
  auto c = connect();
  join(c, "Ada");
  json again = join(c, "Ada again");
  EXPECT_EQ(again["code"], "already_joined");
}

TEST_F(RoomHubTest, FullRoomIsRefused) {
  std::vector<std::shared_ptr<RecordingConnection>> members;
  for (int i = 0; i < 4; ++i) {
    members.push_back(connect());
    EXPECT_EQ(join(members.back(), "M" + std::to_string(i))["type"], "reply");
  }
  auto late = connect();
  EXPECT_EQ(join(late, "Late")["code"], "room_full");
}

TEST_F(RoomHubTest, ShutdownClosesEveryConnection) {
  auto joined = connect();
  join(joined, "Ada");
  auto idle = connect();
  hub.shutdown();
  EXPECT_EQ(joined->closed, std::optional<std::uint16_t>(1001));
  EXPECT_EQ(idle->closed, std::optional<std::uint16_t>(1001));
  EXPECT_EQ(idle->close_reason, "server_shutdown");
}

TEST_F(RoomHubTest, StatsCountRoomsAndConnections) {
  auto a = connect();
  auto b = connect();
  EXPECT_EQ(hub.stats().connections, 2u);
  hub.on_close(a);
  EXPECT_EQ(hub.stats().connections, 1u);
}

// A connection that never joins is closed after the join timeout; a joined one is not.
TEST(JoinTimeout, AConnectionThatNeverJoinsIsClosedWith4002) {
  std::int64_t now = 1'700'000'000'000;
  HubOptions o;
  o.run_timers = false;
  o.now_ms = [&] { return now; };
  RoomHub hub(std::move(o));
  const auto room = std::get<CreatedRoom>(hub.create_room("Waiting"));
  auto idle = std::make_shared<RecordingConnection>();
  hub.on_open(idle);
  auto member = std::make_shared<RecordingConnection>();
  hub.on_open(member);
  hub.on_text(member, json{{"type", "join"}, {"id", "j"}, {"room", room.room_id}, {"code", room.join_code}, {"name", "Ada"}}.dump());
  now += 29'999;
  hub.fire_due_timers();
  EXPECT_FALSE(idle->closed);
  now += 1;
  hub.fire_due_timers();
  ASSERT_TRUE(idle->closed);
  EXPECT_EQ(*idle->closed, 4002);
  EXPECT_EQ(idle->close_reason, "join_timeout");
  EXPECT_FALSE(member->closed) << "a member who joined stays";
}

// Rooms end: nobody joined within a day, or no change for 90 days; never while someone is there.
TEST(RoomLifecycle, UnjoinedAndIdleRoomsAreRemovedButNotWhileAMemberIsConnected) {
  std::int64_t now = 1'700'000'000'000;
  auto log = std::make_shared<MemoryRoomLog>();
  HubOptions o;
  o.log = log;
  o.run_timers = false;
  o.now_ms = [&] { return now; };
  RoomHub hub(std::move(o));
  const auto unjoined = std::get<CreatedRoom>(hub.create_room("Nobody came"));
  const auto left = std::get<CreatedRoom>(hub.create_room("Everyone left"));
  const auto present = std::get<CreatedRoom>(hub.create_room("Someone stays"));
  auto join = [&](const CreatedRoom& room, const std::string& name) {
    auto c = std::make_shared<RecordingConnection>();
    hub.on_open(c);
    hub.on_text(c, json{{"type", "join"}, {"id", "j"}, {"room", room.room_id}, {"code", room.join_code}, {"name", name}}.dump());
    return c;
  };
  auto ada = join(left, "Ada");
  hub.on_close(ada);
  auto bo = join(present, "Bo");

  now += 24LL * 3600 * 1000 - 1;
  hub.fire_due_timers();
  EXPECT_EQ(hub.stats().rooms, 3u) << "a day is not over yet";
  now += 60'000; // rooms are checked every minute
  hub.fire_due_timers();
  EXPECT_EQ(hub.stats().rooms, 2u);
  EXPECT_EQ(log->last_seq(unjoined.room_id), 0u) << "gone from the log too";
  auto late = join(unjoined, "Late");
  EXPECT_EQ(late->last()["code"], "room_not_found");

  now += 90LL * 24 * 3600 * 1000;
  hub.fire_due_timers();
  EXPECT_EQ(hub.stats().rooms, 1u) << "idle for 90 days: removed; a connected member keeps a room";
  auto back = std::make_shared<RecordingConnection>();
  hub.on_open(back);
  hub.on_text(back, json{{"type", "join"}, {"id", "r"}, {"room", left.room_id}, {"code", left.join_code}, {"name", "Ada"}}.dump());
  EXPECT_EQ(back->last()["code"], "room_not_found");
  hub.on_text(bo, json{{"type", "hand_raise"}, {"id", "h"}}.dump());
  EXPECT_EQ(bo->last()["type"], "reply");
  EXPECT_EQ(bo->pushes().back()["event"]["kind"], "hand_raised") << "the room in use goes on";
}

// ---- the engine: rooms side by side, storage off the lock, the ephemeral channel

// The in-memory log, except that appends of "held" rooms wait until released: storage that is
// slow for some rooms only (a frozen Redis shard, a slow disk), in a unit test.
class HeldLog final : public RoomLog {
public:
  void hold(const std::string& room) {
    std::lock_guard lock(mutex_);
    held_.insert(room);
  }
  // Completes the held appends of the room, in order, as the storage would.
  void release(const std::string& room) {
    std::vector<std::function<void()>> pending;
    {
      std::lock_guard lock(mutex_);
      held_.erase(room);
      pending.swap(waiting_[room]);
    }
    for (auto& p : pending) p();
  }
  // Fails the next `n` appends (of any room) as an unreachable storage would: nothing stored.
  void fail_next(int n) {
    std::lock_guard lock(mutex_);
    failing_ = n;
  }
  // Appends asked for so far, and the events they carried.
  std::size_t appends() {
    std::lock_guard lock(mutex_);
    return appends_;
  }
  std::size_t waiting(const std::string& room) {
    std::lock_guard lock(mutex_);
    return waiting_[room].size();
  }
  void append_async(std::string_view room_id, std::uint64_t expected_seq, std::vector<Event> events, AppendDone done) override {
    std::unique_lock lock(mutex_);
    const std::string room(room_id);
    ++appends_;
    if (failing_ > 0) {
      --failing_;
      lock.unlock();
      return done(AppendResult{AppendStatus::failed, "test: the storage is unreachable"});
    }
    if (held_.contains(room)) {
      waiting_[room].push_back([this, room, expected_seq, events = std::move(events), done = std::move(done)]() mutable {
        memory_.append_async(room, expected_seq, std::move(events), std::move(done));
      });
      return;
    }
    lock.unlock();
    memory_.append_async(room_id, expected_seq, std::move(events), std::move(done));
  }
  std::optional<std::vector<Event>> read(std::string_view room_id, std::uint64_t after_seq) const override {
    return memory_.read(room_id, after_seq);
  }
  std::uint64_t last_seq(std::string_view room_id) const override { return memory_.last_seq(room_id); }
  std::vector<std::string> room_ids() const override { return memory_.room_ids(); }
  std::optional<RoomHistory> history(std::string_view room_id) const override { return memory_.history(room_id); }
  PromptStore& prompts() override { return memory_.prompts(); }
  void remove_async(std::string_view room_id, std::function<void(std::string)> done) override {
    memory_.remove_async(room_id, std::move(done));
  }

private:
  MemoryRoomLog memory_;
  std::mutex mutex_;
  std::set<std::string> held_;
  std::map<std::string, std::vector<std::function<void()>>> waiting_;
  int failing_ = 0;
  std::size_t appends_ = 0;
};

class EngineTest : public ::testing::Test {
protected:
  EngineTest() : log(std::make_shared<HeldLog>()), hub(options()) {
    a = std::get<CreatedRoom>(hub.create_room("Room A"));
    b = std::get<CreatedRoom>(hub.create_room("Room B"));
  }
  HubOptions options() {
    HubOptions o;
    o.log = log;
    o.max_waiting_commands = 3;
    o.run_timers = false;
    o.now_ms = [this] { return now; };
    return o;
  }
  std::shared_ptr<RecordingConnection> joined(const CreatedRoom& room, const std::string& name, bool facilitator = false) {
    auto c = std::make_shared<RecordingConnection>();
    hub.on_open(c);
    json command{{"type", "join"}, {"id", "j"}, {"room", room.room_id}, {"name", name}};
    command[facilitator ? "key" : "code"] = facilitator ? room.facilitator_key : room.join_code;
    hub.on_text(c, command.dump());
    EXPECT_EQ(answers(*c).back()["type"], "reply") << c->last().dump();
    return c;
  }
  static std::vector<json> answers(const RecordingConnection& c) {
    std::vector<json> out;
    for (const auto& f : c.frames) {
      if (f["type"] == "reply" || f["type"] == "error") out.push_back(f);
    }
    return out;
  }
  std::int64_t now = 1'700'000'000'000;
  std::shared_ptr<HeldLog> log;
  RoomHub hub;
  CreatedRoom a;
  CreatedRoom b;
};

TEST_F(EngineTest, ARoomWaitingForStorageNeverHoldsUpAnother) {
  auto ada = joined(a, "Ada");
  auto bo = joined(b, "Bo");
  log->hold(a.room_id);
  hub.on_text(ada, json{{"type", "hand_raise"}, {"id", "a1"}}.dump());
  EXPECT_EQ(answers(*ada).size(), 1u) << "no answer before room A's append is stored";
  EXPECT_EQ(log->waiting(a.room_id), 1u);

  hub.on_text(bo, json{{"type", "hand_raise"}, {"id", "b1"}}.dump());
  ASSERT_EQ(bo->last()["type"], "reply") << "room B goes on while room A waits";
  EXPECT_EQ(bo->pushes().back()["event"]["kind"], "hand_raised");

  // Room A's next command waits behind the first and is decided afterwards, in order.
  hub.on_text(ada, json{{"type", "hand_raise"}, {"id", "a2"}}.dump());
  EXPECT_EQ(answers(*ada).size(), 1u);
  log->release(a.room_id);
  const auto replies = answers(*ada);
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[1]["id"], "a1");
  EXPECT_EQ(replies[1]["type"], "reply");
  EXPECT_EQ(replies[2]["id"], "a2");
  EXPECT_EQ(replies[2]["code"], "hand_already_raised") << "decided against the room as stored after a1";
  EXPECT_EQ(ada->pushes().back()["event"]["kind"], "hand_raised");
}

TEST_F(EngineTest, PingAnswersWhileTheRoomWaitsForStorage) {
  auto ada = joined(a, "Ada");
  log->hold(a.room_id);
  hub.on_text(ada, json{{"type", "hand_raise"}, {"id", "a1"}}.dump());
  hub.on_text(ada, json{{"type", "ping"}, {"id", "p"}}.dump());
  EXPECT_EQ(ada->last()["id"], "p");
  EXPECT_EQ(ada->last()["type"], "reply");
  EXPECT_EQ(hub.stats().rooms, 2u) << "stats never wait for a room";
  log->release(a.room_id);
}

TEST_F(EngineTest, CommandsPastTheWaitingCapAreRefusedAsBusyAndChangeNothing) {
  auto grace = joined(a, "Grace", true);
  log->hold(a.room_id);
  // One in flight, three waiting (the cap), the fifth refused.
  for (int i = 0; i < 5; ++i) {
    hub.on_text(grace, json{{"type", "timer"}, {"id", "t" + std::to_string(i)}, {"timer", "phase"}, {"action", "start"},
                            {"seconds", 60 + i}}.dump());
  }
  auto early = answers(*grace);
  ASSERT_EQ(early.size(), 2u);
  EXPECT_EQ(early[1]["id"], "t4");
  EXPECT_EQ(early[1]["code"], "busy");
  log->release(a.room_id);
  const auto all = answers(*grace);
  ASSERT_EQ(all.size(), 6u);
  for (int i = 2; i < 6; ++i) EXPECT_EQ(all[i]["type"], "reply") << all[i].dump();
  EXPECT_EQ(grace->pushes().back()["event"]["state"]["duration_ms"], 63'000) << "the busy command changed nothing";
}

TEST_F(EngineTest, CommandsWaitingForStorageAreDecidedInOrderAndStoredInOneAppend) {
  auto ada = joined(a, "Ada");
  auto bo = joined(a, "Bo");
  const std::size_t before = log->appends();
  log->hold(a.room_id);
  hub.on_text(ada, json{{"type", "hand_raise"}, {"id", "a1"}}.dump()); // in flight
  hub.on_text(bo, json{{"type", "hand_raise"}, {"id", "b1"}}.dump());  // these three wait
  hub.on_text(bo, json{{"type", "hand_raise"}, {"id", "b2"}}.dump());
  hub.on_text(ada, json{{"type", "hand_lower"}, {"id", "a2"}}.dump());
  EXPECT_EQ(log->appends(), before + 1);
  log->release(a.room_id);
  EXPECT_EQ(log->appends(), before + 2) << "the three waiting commands went to storage in one append";

  const auto ada_answers = answers(*ada);
  const auto bo_answers = answers(*bo);
  EXPECT_EQ(ada_answers[ada_answers.size() - 2]["id"], "a1");
  EXPECT_EQ(ada_answers.back()["id"], "a2");
  EXPECT_EQ(ada_answers.back()["type"], "reply");
  EXPECT_EQ(bo_answers[bo_answers.size() - 2]["type"], "reply") << bo_answers[bo_answers.size() - 2].dump();
  EXPECT_EQ(bo_answers.back()["id"], "b2");
  EXPECT_EQ(bo_answers.back()["code"], "hand_already_raised") << "decided against the room including b1, stored with it";

  // Everyone sees the events in one order with consecutive seqs, as stored.
  std::vector<std::pair<std::string, std::string>> seen;
  std::int64_t last_seq = 0;
  for (const auto& p : ada->pushes()) {
    if (last_seq != 0) {
      EXPECT_EQ(p["seq"].get<std::int64_t>(), last_seq + 1);
    }
    last_seq = p["seq"].get<std::int64_t>();
    if (p["event"]["kind"] == "hand_raised" || p["event"]["kind"] == "hand_lowered") {
      seen.emplace_back(p["event"]["kind"], p["event"]["member_id"]);
    }
  }
  const std::string ada_id = answers(*ada).front()["result"]["member"]["id"];
  const std::string bo_id = answers(*bo).front()["result"]["member"]["id"];
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, std::string>>{
                      {"hand_raised", ada_id}, {"hand_raised", bo_id}, {"hand_lowered", ada_id}}));
  EXPECT_EQ(log->last_seq(a.room_id), static_cast<std::uint64_t>(last_seq)) << "what was stored is what was sent";
  EXPECT_EQ(bo->pushes().back(), ada->pushes().back());
}

TEST_F(EngineTest, ABatchThatCannotBeStoredChangesNothingAndEveryCommandIsTold) {
  auto ada = joined(a, "Ada");
  auto bo = joined(a, "Bo");
  const auto stored = log->last_seq(a.room_id);
  const auto pushes = ada->pushes().size();
  log->hold(a.room_id);
  hub.on_text(ada, json{{"type", "hand_raise"}, {"id", "a1"}}.dump()); // in flight, stored
  hub.on_text(bo, json{{"type", "hand_raise"}, {"id", "b1"}}.dump());  // these two: one append, which fails
  hub.on_text(ada, json{{"type", "hand_lower"}, {"id", "a2"}}.dump());
  log->fail_next(1);
  log->release(a.room_id);
  EXPECT_EQ(answers(*bo).back()["code"], "unavailable");
  EXPECT_EQ(answers(*ada).back()["id"], "a2");
  EXPECT_EQ(answers(*ada).back()["code"], "unavailable");
  EXPECT_EQ(log->last_seq(a.room_id), stored + 1) << "only a1 was stored";
  EXPECT_EQ(ada->pushes().size(), pushes + 1) << "nobody saw the refused commands' events";
  // The room goes on from what was stored: Bo's hand can be raised now.
  hub.on_text(bo, json{{"type", "hand_raise"}, {"id", "b3"}}.dump());
  EXPECT_EQ(answers(*bo).back()["type"], "reply");
  EXPECT_EQ(log->last_seq(a.room_id), stored + 2);
}

TEST_F(EngineTest, EphemeralUpdatesAreCoalescedRelayedToOthersAndNeverLogged) {
  auto ada = joined(a, "Ada");
  auto bo = joined(a, "Bo");
  auto other_room = joined(b, "Cy");
  const auto seq = log->last_seq(a.room_id);
  for (int i = 1; i <= 5; ++i) {
    hub.on_text(ada, json{{"type", "ephemeral"}, {"id", "e" + std::to_string(i)}, {"kind", "cursor"},
                          {"data", {{"x", i * 10}, {"y", 1.5}}}}.dump());
  }
  EXPECT_TRUE(bo->ephemeral.empty()) << "relayed at the next flush, not one by one";
  now += 50;
  hub.fire_due_timers();
  ASSERT_EQ(bo->ephemeral.size(), 1u) << "five updates within one flush become one";
  EXPECT_EQ(bo->ephemeral[0], (json{{"type", "ephemeral"}, {"room", a.room_id}, {"from", "m1"}, {"kind", "cursor"},
                                    {"data", {{"x", 50.0}, {"y", 1.5}}}}));
  EXPECT_TRUE(ada->ephemeral.empty()) << "not echoed to the sender";
  EXPECT_TRUE(other_room->ephemeral.empty());
  EXPECT_EQ(log->last_seq(a.room_id), seq) << "never in the room log";
  EXPECT_EQ(answers(*ada).size(), 1u) << "no reply on success (only the join's)";

  hub.on_text(ada, json{{"type", "ephemeral"}, {"id", "bad"}, {"kind", "cursor"}, {"data", {{"x", 1e7}, {"y", 0}}}}.dump());
  EXPECT_EQ(ada->last()["code"], "invalid_field");
  hub.on_text(ada, json{{"type", "ephemeral"}, {"id", "bad2"}, {"kind", "typing"}, {"data", json::object()}}.dump());
  EXPECT_EQ(ada->last()["code"], "invalid_field");
}

TEST_F(EngineTest, EphemeralFloodIsRateLimitedPerConnection) {
  auto ada = joined(a, "Ada");
  int limited = 0;
  for (int i = 0; i < 100; ++i) {
    hub.on_text(ada, json{{"type", "ephemeral"}, {"id", "e"}, {"kind", "cursor"}, {"data", {{"x", i}, {"y", 0}}}}.dump());
    if (ada->last()["type"] == "error") limited += ada->last()["code"] == "rate_limited";
  }
  EXPECT_EQ(limited, 40) << "60 a second (a burst of 60) pass, the rest are refused";
  now += 1000;
  const auto before = ada->frames.size();
  hub.on_text(ada, json{{"type", "ephemeral"}, {"id", "e"}, {"kind", "cursor"}, {"data", {{"x", 1}, {"y", 0}}}}.dump());
  EXPECT_EQ(ada->frames.size(), before) << "a second later updates pass again";
}

} // namespace
} // namespace colloquy
