// Wire protocol v1: the shared conformance vectors and the encoders.
#include "protocol/codec.hpp"

#include <gtest/gtest.h>

#include <set>
#include <utility>

#include <fstream>
#include <sstream>

namespace colloquy::protocol {
namespace {

using json = nlohmann::json;

json load_vectors(const std::string& file) {
  std::ifstream in(std::string(COLLOQUY_PROTOCOL_DIR) + "/vectors/" + file);
  EXPECT_TRUE(in.good()) << "cannot read vectors/" << file;
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

std::string type_of(const ClientCommand& command) { return std::string(command_name(command)); }

TEST(CommandVectors, DecoderAgreesWithEveryCase) {
  const json vectors = load_vectors("commands.json");
  ASSERT_GE(vectors["cases"].size(), 30u);
  for (const auto& c : vectors["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    auto decoded = decode_command(c["frame"].get<std::string>());
    if (c["valid"].get<bool>()) {
      ASSERT_TRUE(std::holds_alternative<DecodedCommand>(decoded))
          << "refused with " << to_string(std::get<DecodeError>(decoded).code);
      EXPECT_EQ(type_of(std::get<DecodedCommand>(decoded).command), c["type"].get<std::string>());
    } else {
      ASSERT_TRUE(std::holds_alternative<DecodeError>(decoded)) << "accepted an invalid frame";
      const auto& error = std::get<DecodeError>(decoded);
      EXPECT_EQ(to_string(error.code), c["code"].get<std::string>());
      if (c["id"].is_null()) {
        EXPECT_FALSE(error.id.has_value());
      } else {
        ASSERT_TRUE(error.id.has_value());
        EXPECT_EQ(*error.id, c["id"].get<std::string>());
      }
      EXPECT_FALSE(error.message.empty());
    }
  }
}

TEST(CommandVectors, EventPushesRoundTripThroughTheEncoder) {
  const json vectors = load_vectors("server_messages.json");
  // Every event kind of the protocol (the alternatives of EventBody); a vector of another kind is
  // the forward-compatibility case.
  const std::set<std::string> kinds = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::set<std::string>{std::string(EventKind<std::variant_alternative_t<I, EventBody>>::value)...};
  }(std::make_index_sequence<std::variant_size_v<EventBody>>{});
  std::set<std::string> covered;
  for (const auto& c : vectors["cases"]) {
    if (!c["valid"].get<bool>()) continue;
    const json frame = json::parse(c["frame"].get<std::string>());
    if (frame["type"] != "event") continue;
    const std::string kind = frame["event"]["kind"];
    SCOPED_TRACE(c["name"].get<std::string>());
    auto body = event_from_wire(frame["event"]);
    if (!kinds.contains(kind)) {
      EXPECT_FALSE(body) << "an unknown kind must not decode as a known one";
      continue;
    }
    ASSERT_TRUE(body) << "the server cannot read its own event kind " << kind;
    Event event{frame["seq"].get<std::uint64_t>(), frame["time"].get<std::int64_t>(), *body, {}};
    EXPECT_EQ(json::parse(encode_event_push(frame["room"].get<std::string>(), event)), frame);
    covered.insert(kind);
  }
  EXPECT_EQ(covered, kinds) << "every event kind has a vector";
}

TEST(Decode, JoinCarriesCleanedNameAndCredential) {
  auto decoded = decode_command(R"({"type":"join","id":"1","room":"r","code":"c0de","name":"  Ada  "})");
  ASSERT_TRUE(std::holds_alternative<DecodedCommand>(decoded));
  const auto& join = std::get<JoinCommand>(std::get<DecodedCommand>(decoded).command);
  EXPECT_EQ(join.room, "r");
  EXPECT_EQ(join.credential, Credential::join_code);
  EXPECT_EQ(join.secret, "c0de");
  EXPECT_EQ(join.name, "Ada");
}

TEST(Decode, EphemeralCarriesTheCheckedData) {
  auto decoded = decode_command(R"({"type":"ephemeral","id":"e1","kind":"cursor","data":{"y":-2.5,"x":10}})");
  ASSERT_TRUE(std::holds_alternative<DecodedCommand>(decoded));
  const auto& e = std::get<EphemeralCommand>(std::get<DecodedCommand>(decoded).command);
  EXPECT_EQ(e.kind, EphemeralKind::cursor);
  EXPECT_EQ(e.data, json::parse(R"({"x":10.0,"y":-2.5})"));
  EXPECT_EQ(json::parse(encode_ephemeral("r", "m2", e.kind, e.data)),
            json::parse(R"({"type":"ephemeral","room":"r","from":"m2","kind":"cursor","data":{"x":10.0,"y":-2.5}})"));
  auto bad = decode_command(R"({"type":"ephemeral","id":"e2","kind":"cursor","data":{"x":1e7,"y":0}})");
  ASSERT_TRUE(std::holds_alternative<DecodeError>(bad));
  EXPECT_EQ(std::get<DecodeError>(bad).code, ErrorCode::invalid_field);
}

TEST(Decode, InvalidUtf8IsBadJson) {
  auto decoded = decode_command("{\"type\":\"ping\",\"id\":\"\xFF\"}");
  ASSERT_TRUE(std::holds_alternative<DecodeError>(decoded));
  EXPECT_EQ(std::get<DecodeError>(decoded).code, ErrorCode::bad_json);
}

TEST(Decode, DeeplyNestedInputIsRefusedNotCrashing) {
  std::string deep = R"({"type":"ping","id":"1","x":)" + std::string(5000, '[') + std::string(5000, ']') + "}";
  auto decoded = decode_command(deep);
  ASSERT_TRUE(std::holds_alternative<DecodeError>(decoded));
  EXPECT_EQ(std::get<DecodeError>(decoded).code, ErrorCode::unknown_field);
}

TEST(Encode, ErrorCarriesIdOrNull) {
  EXPECT_EQ(json::parse(encode_error(std::string("7"), ErrorCode::invalid_name, "bad")),
            json::parse(R"({"type":"error","id":"7","code":"invalid_name","message":"bad"})"));
  EXPECT_EQ(json::parse(encode_error(std::nullopt, ErrorCode::bad_json, "bad"))["id"], nullptr);
}

TEST(Encode, WelcomeAnnouncesVersionAndLimits) {
  const json w = json::parse(encode_welcome("colloquy/0.1.0", 42, 65536));
  EXPECT_EQ(w["type"], "welcome");
  EXPECT_EQ(w["protocol"], 1);
  EXPECT_EQ(w["minor"], 7) << "1.7: breakout groups";
  EXPECT_EQ(w["server_time"], 42);
  EXPECT_EQ(w["max_frame_bytes"], 65536);
}

TEST(Encode, EventsNeverCarrySecretHashes) {
  Event joined{2, 1, MemberJoined{{"m1", "Ada", Role::participant}, "deadbeefhash"}, {}};
  Event created{1, 1, RoomCreated{"T", "keyhash", "codehash"}, {}};
  EXPECT_EQ(encode_event_push("r", joined).find("deadbeefhash"), std::string::npos);
  const std::string c = encode_event_push("r", created);
  EXPECT_EQ(c.find("keyhash"), std::string::npos);
  EXPECT_EQ(c.find("codehash"), std::string::npos);
}

TEST(Encode, SnapshotListsMembersWithPresence) {
  RoomState state;
  state.id = "r";
  state.seq = 4;
  state.title = "Spring cohort";
  state.members = {{"m1", "Grace", Role::facilitator, Presence::online, "h1"},
                   {"m2", "Ada", Role::participant, Presence::away, "h2"}};
  state.members[1].airtime_ms = 61000;
  state.speaking.floor.queue = {"m2"};
  const json s = snapshot_to_wire(state);
  EXPECT_EQ(s["deck"]["cards"].size(), default_deck().size()) << "a new room has the built-in challenge deck";
  json without_deck = s;
  without_deck.erase("deck");
  EXPECT_EQ(without_deck, json::parse(R"({"room":"r","seq":4,"title":"Spring cohort","members":[
    {"id":"m1","name":"Grace","role":"facilitator","presence":"online","airtime_ms":0,"hand":false},
    {"id":"m2","name":"Ada","role":"participant","presence":"away","airtime_ms":61000,"hand":true}],
    "settings":{"airtime_visibility":"everyone"},"prompts":[],"audit":null,"round":null,
    "floor":{"queue":["m2"],"turn_seconds":null,"auto_advance":false,"quieter_first":false},"turn":null,
    "timers":{"phase":{"state":"idle","duration_ms":0,"ends_at":null,"remaining_ms":null},
              "turn":{"state":"idle","duration_ms":0,"ends_at":null,"remaining_ms":null}},
    "paused":null,"last_round":null,"groups":null})"));
  // That the deck survives storage (edited or not) is tests/unit/storage_codec_test.cpp's.
}

} // namespace
} // namespace colloquy::protocol
