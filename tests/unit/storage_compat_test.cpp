// A data directory written by the protocol 1.3 server (main at f1e1755: tests/fixtures/data-1.3/,
// made by tests/fixtures/make-data-1.3.mjs) loads with today's code into the room that server had:
// the same snapshot, the same secrets, the same counters. Half of the session is in snapshot.json,
// half in journal-2.log; both are records of storage format 1.
#include "core/room.hpp"
#include "core/secret.hpp"
#include "log/journal_room_log.hpp"
#include "log/storage_codec.hpp"
#include "protocol/codec.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace colloquy {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const fs::path fixture = fs::path(COLLOQUY_PROTOCOL_DIR).parent_path() / "tests" / "fixtures" / "data-1.3";

json read_json(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

class StorageCompat : public ::testing::Test {
protected:
  void SetUp() override {
    // The journal takes a lock and may tidy its directory: work on a copy.
    dir = fs::temp_directory_path() / ("colloquy-compat-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::copy(fixture, dir);
    expected = read_json(fixture / "expected.json");
    log = std::make_unique<JournalRoomLog>(JournalOptions{dir, FsyncPolicy::always, 16u << 20, 1024});
  }
  void TearDown() override {
    log.reset();
    fs::remove_all(dir);
  }

  RoomState rebuild(const std::string& room) {
    auto history = log->history(room);
    EXPECT_TRUE(history) << "room " << room << " is in the data directory";
    RoomState state = history ? history->base : RoomState{};
    state.id = room;
    if (history) {
      for (const auto& e : history->events) evolve(state, e);
    }
    return state;
  }

  fs::path dir;
  json expected;
  std::unique_ptr<JournalRoomLog> log;
};

// The 1.3 server's snapshot with what later versions add to it (1.6: no pause, no finished round
// kept, nothing paused or held in the turn): the room is otherwise exactly as it had it.
json with_later_fields(json snapshot) {
  snapshot["paused"] = nullptr;
  snapshot["last_round"] = nullptr;
  snapshot["groups"] = nullptr;
  if (snapshot["turn"].is_object()) {
    snapshot["turn"]["paused_ms"] = 0;
    snapshot["turn"]["held_until"] = nullptr;
  }
  return snapshot;
}

TEST_F(StorageCompat, TheFixtureHasASnapshotAndAJournal) {
  EXPECT_TRUE(fs::exists(fixture / "snapshot.json"));
  EXPECT_TRUE(fs::exists(fixture / "journal-2.log"));
  EXPECT_EQ(log->room_ids().size(), 2u);
  EXPECT_GT(log->recovery().events_replayed, 0u) << "part of the session is in the journal";
}

TEST_F(StorageCompat, TheRoomLoadsAsThe13ServerHadIt) {
  const RoomState state = rebuild(expected["room"]);
  const json snapshot = with_later_fields(expected["snapshot"]);
  EXPECT_EQ(state.seq, snapshot["seq"].get<std::uint64_t>());
  EXPECT_EQ(protocol::snapshot_to_wire(state), snapshot);
}

TEST_F(StorageCompat, SecretsStillOpenTheRoom) {
  const RoomState state = rebuild(expected["room"]);
  EXPECT_EQ(state.key_hash, secret_hash(expected["facilitator_key"].get<std::string>()));
  EXPECT_EQ(state.code_hash, secret_hash(expected["join_code"].get<std::string>()));
  auto back = decide(state, Join{Credential::resume_token, expected["resume_token"], "", ""}, state.created_at_ms + 1);
  ASSERT_TRUE(std::holds_alternative<Decision>(back)) << "the facilitator's resume token still works";
  EXPECT_EQ(std::get<Decision>(back).member_id, "m1");
}

TEST_F(StorageCompat, CountersCarryOn) {
  RoomState state = rebuild(expected["room"]);
  // The next audit is a2 (one audit was held), the next round is round 3.
  auto audit = decide(state, OpenAudit{"m1", 3}, state.created_at_ms + 10);
  ASSERT_TRUE(std::holds_alternative<Decision>(audit));
  EXPECT_EQ(std::get<AuditOpened>(std::get<Decision>(audit).events.at(0).body).audit.id, "a2");
  EXPECT_EQ(state.speaking.rounds_started, 2u);
}

TEST_F(StorageCompat, TheOtherRoomLoadsToo) {
  const RoomState traffic = rebuild(expected["traffic_room"]);
  EXPECT_EQ(traffic.title, "Traffic");
  EXPECT_GT(traffic.seq, 2000u);
}

TEST_F(StorageCompat, RewritingTheRoomInTodaysFormatKeepsIt) {
  const RoomState state = rebuild(expected["room"]);
  auto again = storage::room_from_json(storage::room_to_json(state));
  ASSERT_TRUE(again);
  EXPECT_EQ(storage::room_to_json(*again), storage::room_to_json(state));
  EXPECT_EQ(protocol::snapshot_to_wire(*again), with_later_fields(expected["snapshot"]));
}

} // namespace
} // namespace colloquy
