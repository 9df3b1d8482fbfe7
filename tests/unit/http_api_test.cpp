// The HTTP API as plain request -> response logic.
#include "app/http_api.hpp"
#include "app/room_hub.hpp"

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
