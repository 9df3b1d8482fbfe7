#pragma once
// A room of the pure core with a fake clock, for the activities' unit tests: Grace (facilitator),
// Ada, Lin and Kim (participants) have joined.
#include "core/room.hpp"
#include "core/secret.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace colloquy::testing {

inline constexpr std::int64_t t0 = 1'700'000'000'000;

class CoreTest : public ::testing::Test {
protected:
  void SetUp() override {
    state.id = "r";
    apply_ok(CreateRoom{"Spring cohort", secret_hash("key"), secret_hash("code")});
    grace = join("Grace", true);
    ada = join("Ada");
    lin = join("Lin");
    kim = join("Kim");
  }

  // Decides at `now` and applies; the test fails on an error.
  std::vector<Event> apply_ok(const Command& c) {
    auto result = decide(state, c, now, limits);
    if (auto* e = std::get_if<Error>(&result)) {
      ADD_FAILURE() << "refused: " << to_string(e->code) << " " << e->message;
      return {};
    }
    auto events = std::get<Decision>(result).events;
    for (const auto& e : events) evolve(state, e);
    return events;
  }

  // Decides and expects a refusal with `code` that changes nothing.
  void refused(const Command& c, ErrorCode code) {
    const auto seq = state.seq;
    auto result = decide(state, c, now, limits);
    ASSERT_TRUE(std::holds_alternative<Error>(result)) << "expected " << to_string(code);
    EXPECT_EQ(std::get<Error>(result).code, code) << std::get<Error>(result).message;
    EXPECT_EQ(state.seq, seq);
  }

  std::string join(const std::string& name, bool facilitator = false) {
    auto result = decide(state, Join{facilitator ? Credential::facilitator_key : Credential::join_code,
                                     facilitator ? "key" : "code", name, secret_hash("token-" + name)}, now, limits);
    auto& d = std::get<Decision>(result);
    for (const auto& e : d.events) evolve(state, e);
    return d.member_id;
  }

  std::string speaker() const { return state.speaking.turn ? state.speaking.turn->member_id : ""; }

  // Lets `ms` pass and submits the expiry the server's ticker would.
  std::vector<Event> pass_time(std::int64_t ms) {
    now += ms;
    auto next = next_deadline(state);
    if (!next || next->ends_at_ms > now) return {};
    return apply_ok(Expire{next->timer, next->ends_at_ms, next->speaker_hold, next->groups});
  }

  template <typename T>
  static int count(const std::vector<Event>& events) {
    return static_cast<int>(std::count_if(events.begin(), events.end(), [](const Event& e) { return std::holds_alternative<T>(e.body); }));
  }

  RoomState state;
  Limits limits; // speaker grace 20 s, as the server's default
  std::int64_t now = t0;
  std::string grace, ada, lin, kim;
};

} // namespace colloquy::testing
