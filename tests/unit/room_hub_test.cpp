// The hub without a network: commands in, frames out to fake connections.
#include "app/room_hub.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace colloquy {
namespace {

using json = nlohmann::json;

// Records what the hub sends, as a browser would receive it.
class RecordingConnection : public Connection {
public:
  void send(Frame frame) override { frames.push_back(json::parse(*frame)); raw.push_back(frame); }
  void send_ephemeral(Frame frame) override { send(std::move(frame)); }
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
  EXPECT_EQ(g["type"], "reply");
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

TEST_F(RoomHubTest, EphemeralIsDecodedButNotServedYetAndNeverLeavesTheRoom) {
  // The ephemeral channel (1.4) is declared and decoded; until the hub serves it, it says so
  // (`unsupported`) and nothing changes: in particular it is not taken for another command.
  auto grace = connect();
  join(grace, "Grace", true);
  auto ada = connect();
  join(ada, "Ada");
  const auto seq_before = grace->pushes().size();
  json answer = send(ada, {{"type", "ephemeral"}, {"id", "e1"}, {"kind", "cursor"}, {"data", {{"x", 1}, {"y", 2}}}});
  EXPECT_EQ(answer["type"], "error");
  EXPECT_EQ(answer["code"], "unsupported");
  EXPECT_EQ(answer["id"], "e1");
  EXPECT_EQ(grace->pushes().size(), seq_before) << "nobody hears of it, and the member did not leave";
  EXPECT_EQ(send(ada, {{"type", "ping"}, {"id", "p"}})["type"], "reply");
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

} // namespace
} // namespace colloquy
