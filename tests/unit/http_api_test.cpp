// The HTTP API as plain request -> response logic.
#include "app/http_api.hpp"
#include "app/room_hub.hpp"
#include "core/room.hpp"
#include "core/secret.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace colloquy {
namespace {

using json = nlohmann::json;

class HttpApiTest : public ::testing::Test {
protected:
  HttpResponse post_rooms(std::string_view body, std::string_view type = "application/json") {
    return handle_api(hub, HttpRequest{"POST", "/api/rooms", type, "colloquy.example:8080", "", body});
  }
  std::string code_of(const HttpResponse& r) { return json::parse(r.body)["error"]["code"]; }
  RoomHub hub{HubOptions{}};
};

TEST_F(HttpApiTest, CreateRoomReturnsLinksWithSecretsInTheFragment) {
  HttpResponse r = post_rooms(R"({"title":"  Spring cohort "})");
  ASSERT_EQ(r.status, 201) << r.body;
  json body = json::parse(r.body);
  const std::string room = body["room"];
  EXPECT_EQ(body["title"], "Spring cohort");
  EXPECT_EQ(body["facilitator_url"], "http://colloquy.example:8080/room/" + room + "#key=" + body["facilitator_key"].get<std::string>());
  EXPECT_EQ(body["invite_url"], "http://colloquy.example:8080/room/" + room + "#code=" + body["join_code"].get<std::string>());
  EXPECT_EQ(hub.stats().rooms, 1u);
}

TEST_F(HttpApiTest, ForwardedProtoMakesHttpsLinks) {
  HttpResponse r = handle_api(hub, HttpRequest{"POST", "/api/rooms", "application/json; charset=utf-8", "c.example", "https", R"({"title":"T"})"});
  ASSERT_EQ(r.status, 201);
  EXPECT_EQ(json::parse(r.body)["invite_url"].get<std::string>().rfind("https://c.example/room/", 0), 0u);
}

TEST_F(HttpApiTest, BadBodiesAreRefusedAndCreateNothing) {
  EXPECT_EQ(code_of(post_rooms("{")), "bad_json");
  EXPECT_EQ(code_of(post_rooms("[]")), "bad_json");
  EXPECT_EQ(code_of(post_rooms("{}")), "missing_field");
  EXPECT_EQ(code_of(post_rooms(R"({"title":"T","x":1})")), "unknown_field");
  EXPECT_EQ(code_of(post_rooms(R"({"title":""})")), "invalid_title");
  EXPECT_EQ(code_of(post_rooms(R"({"title":7})")), "invalid_title");
  EXPECT_EQ(code_of(post_rooms(R"({"title":")" + std::string(121, 'x') + "\"}")), "invalid_title");
  EXPECT_EQ(post_rooms(R"({"title":"T"})", "text/plain").status, 415);
  EXPECT_EQ(post_rooms(std::string(max_api_body_bytes + 1, ' ')).status, 413);
  EXPECT_EQ(post_rooms("{").status, 400);
  EXPECT_EQ(hub.stats().rooms, 0u);
}

TEST_F(HttpApiTest, WithACreateTokenOnlyItsBearerCreatesRooms) {
  ApiAccess access;
  access.create_token = "staff-only-0123456789";
  const auto post = [&](std::string_view authorization) {
    return handle_api(hub, HttpRequest{"POST", "/api/rooms", "application/json", "c.example", "", R"({"title":"T"})", "192.0.2.1", authorization}, &access);
  };
  for (std::string_view wrong : {"", "Bearer ", "Bearer staff-only-012345678", "Basic staff-only-0123456789", "staff-only-0123456789"}) {
    const HttpResponse r = post(wrong);
    EXPECT_EQ(r.status, 401) << wrong;
    EXPECT_EQ(code_of(r), "create_token_required") << wrong;
  }
  EXPECT_EQ(hub.stats().rooms, 0u) << "nothing was created";
  EXPECT_EQ(post("Bearer staff-only-0123456789").status, 201);
  EXPECT_EQ(post("bearer   staff-only-0123456789 ").status, 201) << "the scheme is case-insensitive";
  EXPECT_EQ(hub.stats().rooms, 2u);
}

TEST_F(HttpApiTest, CreationIsLimitedPerClientAddressAndSaysWhenToComeBack) {
  std::int64_t now = 1'000'000;
  ApiAccess access;
  access.creations = std::make_shared<AddressRates>(30 / 3600.0, 10.0); // 30 an hour, bursts of 10
  access.now_ms = [&] { return now; };
  const auto post = [&](std::string_view address) {
    return handle_api(hub, HttpRequest{"POST", "/api/rooms", "application/json", "c.example", "", R"({"title":"T"})", address, ""}, &access);
  };
  for (int i = 0; i < 10; ++i) ASSERT_EQ(post("198.51.100.4").status, 201) << i;
  const HttpResponse limited = post("198.51.100.4");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(code_of(limited), "rate_limited");
  EXPECT_EQ(limited.retry_after_ms, 120'000) << "one room every two minutes";
  EXPECT_EQ(json::parse(limited.body)["error"]["retry_after_ms"], 120'000);
  EXPECT_EQ(hub.stats().rooms, 10u);
  EXPECT_EQ(post("198.51.100.5").status, 201) << "another address is not held up";
  // A bad request does not spend the allowance.
  EXPECT_EQ(handle_api(hub, HttpRequest{"POST", "/api/rooms", "application/json", "c.example", "", "{", "203.0.113.1", ""}, &access).status, 400);
  now += 120'000;
  EXPECT_EQ(post("198.51.100.4").status, 201);
  EXPECT_EQ(post("198.51.100.4").status, 429);
}

TEST_F(HttpApiTest, RoutesAndMethods) {
  EXPECT_TRUE(is_api_path("/api/rooms"));
  EXPECT_TRUE(is_api_path("/healthz?x=1"));
  EXPECT_FALSE(is_api_path("/room/abc"));
  EXPECT_FALSE(is_api_path("/apis"));
  HttpResponse get_rooms = handle_api(hub, HttpRequest{"GET", "/api/rooms", "", "", "", ""});
  EXPECT_EQ(get_rooms.status, 405);
  EXPECT_EQ(code_of(get_rooms), "method_not_allowed");
  HttpResponse unknown = handle_api(hub, HttpRequest{"GET", "/api/nothing", "", "", "", ""});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(code_of(unknown), "not_found");
}

TEST_F(HttpApiTest, HealthReportsCounts) {
  post_rooms(R"({"title":"T"})");
  HttpResponse r = handle_api(hub, HttpRequest{"GET", "/healthz", "", "", "", ""});
  ASSERT_EQ(r.status, 200);
  json body = json::parse(r.body);
  EXPECT_EQ(body["status"], "ok");
  EXPECT_EQ(body["rooms"], 1);
  EXPECT_EQ(body["connections"], 0);
}

class InviteCheckTest : public HttpApiTest {
protected:
  void SetUp() override {
    const json created = json::parse(post_rooms(R"({"title":"Spring cohort"})").body);
    room = created["room"];
    code = created["join_code"];
    key = created["facilitator_key"];
  }
  HttpResponse check(std::string_view room_id, std::string_view body, std::string_view method = "POST",
                     std::string_view type = "application/json") {
    target = "/api/rooms/" + std::string(room_id) + "/invite-check";
    return handle_api(hub, HttpRequest{method, target, type, "c.example", "", body});
  }
  std::string room, code, key, target;
};

TEST_F(InviteCheckTest, AGoodCodeOrKeyAnswersWithTheTitleAndTheRoleItGives) {
  HttpResponse r = check(room, json{{"code", code}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body), (json{{"room", room}, {"title", "Spring cohort"}, {"role", "participant"}}));
  r = check(room, json{{"key", key}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["role"], "facilitator");
  EXPECT_EQ(r.body.find(code), std::string::npos) << "no secret is echoed";
  EXPECT_EQ(r.body.find(key), std::string::npos);
}

TEST_F(InviteCheckTest, AWrongSecretIsBadCredentialsWhicheverItIsAndAnUnknownRoomIsNotFound) {
  // One code for every wrong secret: a key given as the code, the code as the key, a near miss.
  for (const json& body : {json{{"code", key}}, json{{"key", code}}, json{{"code", code.substr(1)}}, json{{"code", code + "x"}}}) {
    const HttpResponse r = check(room, body.dump());
    EXPECT_EQ(r.status, 403) << body.dump();
    EXPECT_EQ(code_of(r), "bad_credentials") << body.dump();
  }
  const HttpResponse missing = check("nosuchroom00000a", json{{"code", code}}.dump());
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(code_of(missing), "room_not_found");
  EXPECT_EQ(code_of(check(std::string(300, 'r'), json{{"code", code}}.dump())), "room_not_found");
}

TEST_F(InviteCheckTest, BadRequestsAreRefusedWithTheirCode) {
  EXPECT_EQ(code_of(check(room, "{")), "bad_json");
  EXPECT_EQ(code_of(check(room, "[]")), "bad_json");
  EXPECT_EQ(code_of(check(room, "{}")), "missing_field");
  EXPECT_EQ(code_of(check(room, json{{"code", code}, {"key", key}}.dump())), "invalid_field");
  EXPECT_EQ(code_of(check(room, json{{"code", code}, {"name", "Ada"}}.dump())), "unknown_field");
  EXPECT_EQ(code_of(check(room, json{{"resume", code}}.dump())), "unknown_field") << "a resume token is no invitation";
  EXPECT_EQ(code_of(check(room, R"({"code":7})")), "invalid_field");
  EXPECT_EQ(code_of(check(room, R"({"code":""})")), "invalid_field");
  EXPECT_EQ(code_of(check(room, json{{"code", std::string(129, 'c')}}.dump())), "invalid_field");
  EXPECT_EQ(check(room, json{{"code", code}}.dump(), "POST", "text/plain").status, 415);
  const HttpResponse get = check(room, "", "GET");
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(get.allow, "POST");
  EXPECT_EQ(handle_api(hub, HttpRequest{"POST", "/api/rooms//invite-check", "application/json", "", "", "{}"}).status, 404);
  EXPECT_EQ(handle_api(hub, HttpRequest{"POST", "/api/rooms/a/b/invite-check", "application/json", "", "", "{}"}).status, 404);
}

TEST(CheckInvitation, TheCoreRuleThatJoinSharesClosedRoomsTakeNobody) {
  RoomState state;
  state.seq = 3;
  state.title = "T";
  state.code_hash = secret_hash("the-code");
  state.key_hash = secret_hash("the-key");
  EXPECT_FALSE(presence::check_invitation(state, Credential::join_code, "the-code"));
  EXPECT_FALSE(presence::check_invitation(state, Credential::facilitator_key, "the-key"));
  EXPECT_EQ(presence::check_invitation(state, Credential::join_code, "the-key")->code, ErrorCode::bad_credentials);
  EXPECT_EQ(presence::check_invitation(state, Credential::resume_token, "the-code")->code, ErrorCode::bad_credentials);
  state.closed = true;
  EXPECT_EQ(presence::check_invitation(state, Credential::join_code, "the-code")->code, ErrorCode::room_not_found);
  state = RoomState{};
  EXPECT_EQ(presence::check_invitation(state, Credential::join_code, "the-code")->code, ErrorCode::room_not_found);
}

TEST(WebSocketOrigin, OriginsAreComparedNormalised) {
  EXPECT_EQ(normalize_origin("http://localhost:8080"), "http://localhost:8080");
  EXPECT_EQ(normalize_origin("HTTPS://Colloquy.Example.ORG"), "https://colloquy.example.org:443");
  EXPECT_EQ(normalize_origin("https://colloquy.example.org:443"), "https://colloquy.example.org:443");
  EXPECT_EQ(normalize_origin("http://colloquy.example.org"), "http://colloquy.example.org:80");
  EXPECT_EQ(normalize_origin("http://[::1]:8080"), "http://[::1]:8080");
  EXPECT_EQ(normalize_origin("http://[::FFFF:127.0.0.1]"), "http://[::ffff:127.0.0.1]:80");
  EXPECT_EQ(normalize_origin("http://x.example:08080"), "http://x.example:8080");
  for (const char* bad : {"", "null", "localhost:8080", "ftp://x.example", "http://", "http://:80", "http://x.example:",
                          "http://x.example:0", "http://x.example:65536", "http://x.example:123456", "http://x.example/",
                          "http://x.example/path", "http://x.example?q", "http://user@x.example", "http://x.example:80:80",
                          "http://[::1", "http://[]:80", "http://[::1]x", "http://[g::1]", "http://x example",
                          "http://x.example:8o"}) {
    EXPECT_FALSE(normalize_origin(bad)) << bad;
  }
}

TEST(WebSocketOrigin, WithoutPublicOriginsOnlyLoopbackOnTheServersPort) {
  const OriginPolicy policy = origin_policy({}, 8080);
  EXPECT_TRUE(websocket_origin_allowed("", policy)) << "non-browser clients send no Origin";
  EXPECT_TRUE(websocket_origin_allowed("http://localhost:8080", policy));
  EXPECT_TRUE(websocket_origin_allowed("http://LOCALHOST:8080", policy));
  EXPECT_TRUE(websocket_origin_allowed("http://127.0.0.1:8080", policy));
  EXPECT_TRUE(websocket_origin_allowed("http://[::1]:8080", policy));
  EXPECT_FALSE(websocket_origin_allowed("http://localhost:8081", policy)) << "another port";
  EXPECT_FALSE(websocket_origin_allowed("https://localhost:8080", policy)) << "another scheme";
  EXPECT_FALSE(websocket_origin_allowed("http://localhost", policy)) << "port 80 is not 8080";
  EXPECT_FALSE(websocket_origin_allowed("http://evil.example:8080", policy)) << "DNS rebinding: Host would say the same";
  EXPECT_FALSE(websocket_origin_allowed("http://127.0.0.1.evil.example:8080", policy));
  EXPECT_FALSE(websocket_origin_allowed("null", policy));
  EXPECT_TRUE(websocket_origin_allowed("http://localhost", origin_policy({}, 80))) << "the default port, normalised";
}

TEST(WebSocketOrigin, PublicOriginsReplaceLoopback) {
  const OriginPolicy policy = origin_policy({"https://colloquy.example.org:443", "http://b.example:8080"}, 8080);
  EXPECT_TRUE(websocket_origin_allowed("https://colloquy.example.org", policy));
  EXPECT_TRUE(websocket_origin_allowed("https://Colloquy.Example.Org:443", policy));
  EXPECT_TRUE(websocket_origin_allowed("http://b.example:8080", policy));
  EXPECT_TRUE(websocket_origin_allowed("", policy));
  EXPECT_FALSE(websocket_origin_allowed("http://colloquy.example.org", policy)) << "http is another origin";
  EXPECT_FALSE(websocket_origin_allowed("https://colloquy.example.org:8443", policy));
  EXPECT_FALSE(websocket_origin_allowed("http://b.example", policy));
  EXPECT_FALSE(websocket_origin_allowed("http://localhost:8080", policy)) << "loopback only when none is given";
  EXPECT_FALSE(websocket_origin_allowed("https://evil.example", policy));
  EXPECT_FALSE(websocket_origin_allowed("https://colloquy.example.org.evil.example", policy));
}

} // namespace
} // namespace colloquy
