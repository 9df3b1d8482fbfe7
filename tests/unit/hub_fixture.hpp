#pragma once
// A hub with a fake clock and fake randomness, and connections that record every frame: for the
// tests of the activities the hub serves with the core (prompts, the audit, the deck).
#include "app/connection.hpp"
#include "app/room_hub.hpp"
#include "core/templates.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace colloquy::testing {

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

} // namespace colloquy::testing
