// The embedded durable room log: restart restores rooms; torn writes, damage, compaction, locking.
#include "app/connection.hpp"
#include "app/room_hub.hpp"
#include "log/journal_room_log.hpp"
#include "log/storage_codec.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace colloquy {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

Event joined(std::uint64_t seq, const std::string& id, const std::string& name) {
  return Event{seq, 1000 + static_cast<std::int64_t>(seq), MemberJoined{{id, name, Role::participant}, "hash-" + id}, {}};
}

Event created(const std::string& title) { return Event{1, 1000, RoomCreated{title, "key-hash", "code-hash"}, {}}; }

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string all_files(const fs::path& dir) {
  std::string text;
  for (const auto& e : fs::directory_iterator(dir)) text += slurp(e.path());
  return text;
}

class JournalTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("colloquy-journal-" + std::to_string(::getpid()) + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  std::unique_ptr<JournalRoomLog> open(FsyncPolicy fsync = FsyncPolicy::always, std::uint64_t compact_bytes = 16u << 20,
                                       std::size_t keep = 1024) {
    return std::make_unique<JournalRoomLog>(JournalOptions{dir, fsync, compact_bytes, keep});
  }

  // The room as the log's history rebuilds it.
  static RoomState rebuild(const RoomLog& log, const std::string& room) {
    auto history = log.history(room);
    EXPECT_TRUE(history);
    RoomState state = history->base;
    for (const auto& e : history->events) evolve(state, e);
    return state;
  }

  fs::path journal_file() const {
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().filename().string().starts_with("journal-")) return e.path();
    }
    return {};
  }

  fs::path dir;
};

TEST_F(JournalTest, RestartRestoresEveryRoomInOrder) {
  {
    auto log = open();
    ASSERT_TRUE(log->append("r1", 0, {created("Spring cohort"), joined(2, "m1", "Grace")}));
    ASSERT_TRUE(log->append("r2", 0, {created("Autumn set")}));
    ASSERT_TRUE(log->append("r1", 2, {joined(3, "m2", "Zoë Ó Briain")}));
  }
  auto log = open();
  EXPECT_EQ(log->recovery().rooms, 2u);
  EXPECT_EQ(log->recovery().events_replayed, 4u);
  EXPECT_EQ(log->last_seq("r1"), 3u);
  EXPECT_EQ(log->last_seq("r2"), 1u);
  const RoomState r1 = rebuild(*log, "r1");
  EXPECT_EQ(r1.title, "Spring cohort");
  ASSERT_EQ(r1.members.size(), 2u);
  EXPECT_EQ(r1.members[1].name, "Zoë Ó Briain");
  EXPECT_EQ(r1.members[1].token_hash, "hash-m2") << "hashes must survive a restart or resume tokens stop working";
  auto after = log->read("r1", 1);
  ASSERT_TRUE(after);
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0].seq, 2u);
  // And the restored log goes on where it stopped.
  EXPECT_FALSE(log->append("r1", 2, {joined(3, "m3", "Lin")}));
  EXPECT_TRUE(log->append("r1", 3, {joined(4, "m3", "Lin")}));
}

TEST_F(JournalTest, ARefusedAppendWritesNothing) {
  auto log = open();
  ASSERT_TRUE(log->append("r1", 0, {created("T")}));
  const auto size = fs::file_size(journal_file());
  EXPECT_FALSE(log->append("r1", 0, {created("T")})) << "expected seq is stale";
  EXPECT_FALSE(log->append("r1", 1, {joined(3, "m1", "A")})) << "events must be numbered from expected+1";
  EXPECT_EQ(fs::file_size(journal_file()), size);
  EXPECT_EQ(log->last_seq("r1"), 1u);
}

TEST_F(JournalTest, AnUnfinishedLastRecordIsDroppedAndTheLogGoesOn) {
  {
    auto log = open();
    ASSERT_TRUE(log->append("r1", 0, {created("T"), joined(2, "m1", "A")}));
  }
  const auto whole = fs::file_size(journal_file());
  const std::string torn = "1a2b3c4d {\"room\":\"r1\",\"ev"; // a crash mid-write
  { std::ofstream(journal_file(), std::ios::app) << torn; }
  {
    auto log = open();
    EXPECT_EQ(log->recovery().torn_bytes, torn.size());
    EXPECT_EQ(fs::file_size(journal_file()), whole);
    EXPECT_EQ(log->last_seq("r1"), 2u);
    ASSERT_TRUE(log->append("r1", 2, {joined(3, "m2", "B")}));
  }
  auto log = open();
  EXPECT_EQ(log->last_seq("r1"), 3u);
  EXPECT_EQ(log->recovery().torn_bytes, 0u);
}

TEST_F(JournalTest, DamageBeforeTheEndStopsTheStartWithAClearMessage) {
  {
    auto log = open();
    ASSERT_TRUE(log->append("r1", 0, {created("T")}));
    ASSERT_TRUE(log->append("r1", 1, {joined(2, "m1", "A")}));
  }
  std::string text = slurp(journal_file());
  text[12] = text[12] == 'x' ? 'y' : 'x'; // flip a byte inside the first record
  std::ofstream(journal_file(), std::ios::binary | std::ios::trunc) << text;
  try {
    open();
    FAIL() << "a damaged journal must not be opened";
  } catch (const JournalError& e) {
    EXPECT_NE(std::string(e.what()).find("damaged at byte 0"), std::string::npos) << e.what();
  }
}

// A line written by the server before zlib computed the CRC (hand-rolled CRC-32 then): it must
// still verify, and the same body under any other checksum must not.
constexpr std::string_view pinned_line =
    R"(a3f19edd {"events":[{"audience":{"kind":"everyone"},"body":{"code_hash":"56bc3cc73439a9f28c18401e9ecb9dc62573f2a968e995ed49b93acc2fb25db3","key_hash":"42168cf5a133e9500b53c07f57b17d540f53dd0d082ceb75cfe7d4b6f0d4e1c9","kind":"room_created","title":"Pinned cohort"},"seq":1,"time":1796166931725}],"room":"wvkt6445sew5kepm"})"
    "\n";

TEST_F(JournalTest, AJournalLineFromAnEarlierServerStillVerifies) {
  fs::create_directories(dir);
  std::ofstream(dir / "journal-1.log", std::ios::binary) << pinned_line;
  {
    auto log = open();
    EXPECT_EQ(log->recovery().events_replayed, 1u);
    EXPECT_EQ(log->recovery().torn_bytes, 0u);
    EXPECT_EQ(log->last_seq("wvkt6445sew5kepm"), 1u);
    EXPECT_EQ(rebuild(*log, "wvkt6445sew5kepm").title, "Pinned cohort");
  }
  // The same line with another checksum, followed by a good one: damage, not a torn end.
  std::string wrong(pinned_line);
  wrong[7] = wrong[7] == 'd' ? 'e' : 'd';
  std::ofstream(dir / "journal-1.log", std::ios::binary | std::ios::trunc) << wrong << pinned_line;
  try {
    open();
    FAIL() << "a line whose checksum does not match must not load";
  } catch (const JournalError& e) {
    EXPECT_NE(std::string(e.what()).find("damaged at byte 0"), std::string::npos) << e.what();
  }
}

TEST_F(JournalTest, CompactionBoundsReplayAndKeepsEveryRoom) {
  RoomState before;
  {
    auto log = open(FsyncPolicy::always, /*compact_bytes=*/2048, /*keep=*/4);
    ASSERT_TRUE(log->append("r1", 0, {created("Spring cohort")}));
    for (std::uint64_t seq = 2; seq <= 60; ++seq) {
      ASSERT_TRUE(log->append("r1", seq - 1, {joined(seq, "m" + std::to_string(seq), "Member " + std::to_string(seq))}));
    }
    ASSERT_TRUE(log->append("r2", 0, {created("Other")}));
    before = rebuild(*log, "r1");
    EXPECT_FALSE(log->read("r1", 2)) << "events folded into the snapshot are not offered one by one";
    auto recent = log->read("r1", 58);
    ASSERT_TRUE(recent);
    EXPECT_EQ(recent->size(), 2u);
  }
  EXPECT_TRUE(fs::exists(dir / "snapshot.json"));
  int journals = 0;
  for (const auto& e : fs::directory_iterator(dir)) journals += e.path().filename().string().starts_with("journal-");
  EXPECT_EQ(journals, 1);

  auto log = open(FsyncPolicy::always, 2048, 4);
  EXPECT_LT(log->recovery().events_replayed, 30u) << "the snapshot must bound what is replayed";
  const RoomState after = rebuild(*log, "r1");
  EXPECT_EQ(after.seq, 60u);
  ASSERT_EQ(after.members.size(), before.members.size());
  EXPECT_EQ(after.members.back().name, "Member 60");
  EXPECT_EQ(log->last_seq("r2"), 1u);
}

// Group commit: appends queued together from many rooms share one write and one sync, and none
// is acknowledged before its record is in the file.
TEST_F(JournalTest, ManyRoomsShareOneSyncAndNothingIsAcknowledgedBeforeItIsWritten) {
  auto log = open(FsyncPolicy::always);
  constexpr int rooms = 200;
  std::mutex mutex;
  std::condition_variable all_done;
  int done = 0;
  int acknowledged_before_written = 0;
  for (int r = 0; r < rooms; ++r) {
    log->append_async("room-" + std::to_string(r), 0, {created("Room " + std::to_string(r))}, [&, r](AppendResult result) {
      // The record of an acknowledged append is in the journal file already.
      const bool in_file = slurp(journal_file()).find("Room " + std::to_string(r) + "\"") != std::string::npos;
      std::lock_guard lock(mutex);
      if (result.status != AppendStatus::ok || !in_file) ++acknowledged_before_written;
      if (++done == rooms) all_done.notify_one();
    });
  }
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(all_done.wait_for(lock, std::chrono::seconds(10), [&] { return done == rooms; }));
  }
  EXPECT_EQ(acknowledged_before_written, 0);
  const auto stats = log->stats();
  EXPECT_EQ(stats.appends, static_cast<std::uint64_t>(rooms));
  EXPECT_LT(stats.syncs, static_cast<std::uint64_t>(rooms) / 2) << "appends queued together are synced together";
  EXPECT_EQ(stats.writes, stats.syncs);
}

// Compaction runs beside the appends: rooms keep being written while a large snapshot is made,
// and a restart afterwards has every acknowledged event exactly once.
TEST_F(JournalTest, CompactionDoesNotStopAppendsAndLosesNothing) {
  constexpr int rooms = 2000;
  {
    auto log = open(FsyncPolicy::always, /*compact_bytes=*/1u << 30, /*keep=*/64);
    for (int r = 0; r < rooms; ++r) {
      std::vector<Event> events{created("Room " + std::to_string(r))};
      for (std::uint64_t seq = 2; seq <= 20; ++seq) events.push_back(joined(seq, "m" + std::to_string(seq), "Member of a large room"));
      log->append_async("room-" + std::to_string(r), 0, std::move(events), [](AppendResult) {});
    }
    ASSERT_TRUE(log->append("busy", 0, {created("Busy")}));
    std::atomic<bool> compacting{true};
    std::thread compactor([&] {
      log->compact();
      compacting = false;
    });
    std::uint64_t seq = 1;
    int during = 0;
    while (compacting && seq < 5000) {
      ASSERT_TRUE(log->append("busy", seq, {joined(seq + 1, "m" + std::to_string(seq + 1), "Writer")}));
      ++seq;
      if (compacting) ++during;
    }
    compactor.join();
    EXPECT_GT(during, 0) << "appends completed while the snapshot was being written";
    for (int i = 0; i < 5; ++i, ++seq) ASSERT_TRUE(log->append("busy", seq, {joined(seq + 1, "m", "After")}));
    EXPECT_EQ(log->stats().compactions, 1u);
    EXPECT_EQ(log->last_seq("busy"), seq);
  }
  auto log = open(FsyncPolicy::always, 1u << 30, 64);
  EXPECT_EQ(log->recovery().rooms, static_cast<std::size_t>(rooms + 1));
  const RoomState busy = rebuild(*log, "busy");
  EXPECT_EQ(busy.seq, log->last_seq("busy"));
  EXPECT_EQ(busy.members.size(), busy.seq - 1) << "every event once: none lost, none replayed twice";
  EXPECT_EQ(rebuild(*log, "room-1999").members.size(), 19u);
}

// A crash between switching journals and writing the snapshot leaves two journals; both are
// replayed in order, skipping what a room already holds.
TEST_F(JournalTest, EveryJournalTheSnapshotDoesNotCoverIsReplayedInOrder) {
  const fs::path other = dir.string() + "-other";
  fs::remove_all(other);
  {
    auto log = open();
    ASSERT_TRUE(log->append("r1", 0, {created("T")}));
    ASSERT_TRUE(log->append("r1", 1, {joined(2, "m1", "A")}));
  }
  {
    // The same history one append further, written elsewhere: its last two lines become journal-2.
    auto log = std::make_unique<JournalRoomLog>(JournalOptions{other, FsyncPolicy::always, 16u << 20, 1024});
    ASSERT_TRUE(log->append("r1", 0, {created("T")}));
    ASSERT_TRUE(log->append("r1", 1, {joined(2, "m1", "A")}));
    ASSERT_TRUE(log->append("r1", 2, {joined(3, "m2", "B")}));
  }
  const std::string lines = slurp(other / "journal-1.log");
  const auto second = lines.find('\n') + 1;
  std::ofstream(dir / "journal-2.log", std::ios::binary) << lines.substr(second); // overlaps journal-1 by one append
  fs::remove_all(other);
  auto log = open();
  EXPECT_EQ(log->last_seq("r1"), 3u);
  EXPECT_EQ(rebuild(*log, "r1").members.size(), 2u);
  ASSERT_TRUE(log->append("r1", 3, {joined(4, "m3", "C")})) << "appends go on in the newest journal";
}

// A removed room stays removed across a restart and a compaction, and its records go with it.
TEST_F(JournalTest, ARemovedRoomIsGoneAfterARestartAndCompaction) {
  {
    auto log = open();
    ASSERT_TRUE(log->append("gone", 0, {created("Gone")}));
    ASSERT_TRUE(log->append("kept", 0, {created("Kept")}));
    std::promise<std::string> removed;
    log->remove_async("gone", [&](std::string error) { removed.set_value(std::move(error)); });
    EXPECT_EQ(removed.get_future().get(), "");
    EXPECT_EQ(log->last_seq("gone"), 0u);
  }
  {
    auto log = open();
    EXPECT_EQ(log->last_seq("gone"), 0u) << "the removal was recorded";
    EXPECT_EQ(log->last_seq("kept"), 1u);
    log->compact();
  }
  EXPECT_EQ(all_files(dir).find("Gone"), std::string::npos) << "compaction drops what a removed room had";
  auto log = open();
  EXPECT_EQ(log->room_ids(), std::vector<std::string>{"kept"});
}

TEST_F(JournalTest, OneServerPerDataDirectory) {
  auto first = open();
  EXPECT_THROW(open(), JournalError);
  first.reset();
  EXPECT_NO_THROW(open());
}

TEST_F(JournalTest, EverySecondPolicyAlsoRestores) {
  {
    auto log = open(FsyncPolicy::everysec);
    ASSERT_TRUE(log->append("r1", 0, {created("T")}));
  }
  EXPECT_EQ(open(FsyncPolicy::everysec)->last_seq("r1"), 1u);
}

// The stored records themselves (every kind, every format): tests/unit/storage_codec_test.cpp.

// The hub over the journal: what a facilitator and members notice across a restart.
class NullConnection : public Connection {
public:
  void send(Frame frame) override { frames.push_back(json::parse(*frame)); }
  void send_ephemeral(Frame frame) override { send(std::move(frame)); }
  void close(std::uint16_t, std::string) override {}
  std::vector<json> frames;
};

TEST_F(JournalTest, HubRestartKeepsRoomsMembersAndSecretsWithoutStoringSecrets) {
  CreatedRoom room;
  std::string token;
  std::string member_id;
  {
    HubOptions o;
    o.log = std::shared_ptr<RoomLog>(open());
    RoomHub hub(std::move(o));
    room = std::get<CreatedRoom>(hub.create_room("Spring cohort"));
    auto c = std::make_shared<NullConnection>();
    hub.on_open(c);
    hub.on_text(c, json{{"type", "join"}, {"id", "1"}, {"room", room.room_id}, {"code", room.join_code}, {"name", "Ada"}}.dump());
    ASSERT_TRUE(hub.wait_idle()); // the reply comes once the journal has synced
    token = c->frames.back()["result"]["resume_token"];
    member_id = c->frames.back()["result"]["member"]["id"];
  } // the process ends with Ada still connected

  const std::string stored = all_files(dir);
  for (const std::string& secret : {room.facilitator_key, room.join_code, token}) {
    EXPECT_EQ(stored.find(secret), std::string::npos) << "a secret was written to the data directory";
  }

  HubOptions o;
  o.log = std::shared_ptr<RoomLog>(open());
  RoomHub hub(std::move(o));
  EXPECT_EQ(hub.restored().rooms, 1u);
  EXPECT_EQ(hub.restored().members_marked_away, 1u);
  EXPECT_EQ(hub.stats().rooms, 1u);

  auto c = std::make_shared<NullConnection>();
  hub.on_open(c);
  hub.on_text(c, json{{"type", "join"}, {"id", "2"}, {"room", room.room_id}, {"resume", token}}.dump());
  ASSERT_TRUE(hub.wait_idle());
  const json& reply = c->frames.back();
  ASSERT_EQ(reply["type"], "reply") << reply.dump();
  EXPECT_EQ(reply["result"]["member"]["id"], member_id) << "the same member, not a new one";
  EXPECT_EQ(reply["result"]["snapshot"]["title"], "Spring cohort");
  EXPECT_EQ(reply["result"]["snapshot"]["members"].size(), 1u);

  auto f = std::make_shared<NullConnection>();
  hub.on_open(f);
  hub.on_text(f, json{{"type", "join"}, {"id", "3"}, {"room", room.room_id}, {"key", room.facilitator_key}, {"name", "Grace"}}.dump());
  ASSERT_TRUE(hub.wait_idle());
  ASSERT_GE(f->frames.size(), 2u);
  EXPECT_EQ(f->frames[1]["result"]["member"]["role"], "facilitator") << "the facilitator key still works";
}

TEST_F(JournalTest, HubRestartMidRoundPausesItFromTheLastHeartbeatInTheSameAppendAsTheAbsences) {
  std::int64_t now = 1'700'000'000'000;
  const std::int64_t started = now;
  CreatedRoom room;
  std::string token;
  std::string speaker;
  {
    HubOptions o;
    o.log = std::shared_ptr<RoomLog>(open());
    o.run_timers = false;
    o.now_ms = [&] { return now; };
    RoomHub hub(std::move(o));
    room = std::get<CreatedRoom>(hub.create_room("Check-in"));
    auto f = std::make_shared<NullConnection>();
    hub.on_open(f);
    hub.on_text(f, json{{"type", "join"}, {"id", "1"}, {"room", room.room_id}, {"key", room.facilitator_key}, {"name", "Grace"}}.dump());
    auto a = std::make_shared<NullConnection>();
    hub.on_open(a);
    hub.on_text(a, json{{"type", "join"}, {"id", "2"}, {"room", room.room_id}, {"code", room.join_code}, {"name", "Ada"}}.dump());
    ASSERT_TRUE(hub.wait_idle());
    token = f->frames[1]["result"]["resume_token"];
    speaker = a->frames[1]["result"]["member"]["id"];
    hub.on_text(f, json{{"type", "round_start"}, {"id", "3"}, {"order", json::array({speaker})}, {"turn_seconds", 600}}.dump());
    ASSERT_TRUE(hub.wait_idle());
    now += 5000; // she speaks five seconds, then the server stops (its last heartbeat)
  }
  const auto seq_before = [&] {
    auto log = open();
    return log->last_seq(room.room_id);
  }();
  now += 60'000; // a minute down

  HubOptions o;
  o.log = std::shared_ptr<RoomLog>(open());
  o.run_timers = false;
  o.now_ms = [&] { return now; };
  RoomHub hub(std::move(o));
  EXPECT_EQ(hub.restored().rooms_paused, 1u);
  EXPECT_EQ(hub.restored().members_marked_away, 2u);
  hub.fire_due_timers();
  auto c = std::make_shared<NullConnection>();
  hub.on_open(c);
  hub.on_text(c, json{{"type", "join"}, {"id", "4"}, {"room", room.room_id}, {"resume", token}, {"after", seq_before}}.dump());
  ASSERT_TRUE(hub.wait_idle());
  std::vector<std::string> kinds;
  for (const auto& frame : c->frames) {
    if (frame["type"] == "event") kinds.push_back(frame["event"]["kind"]);
  }
  // One append: the pause first, its timer, then both absences; nothing skipped. Then she is back.
  EXPECT_EQ(kinds, (std::vector<std::string>{"activity_paused", "timer_set", "member_connection_lost", "member_connection_lost", "member_back"}));
  ASSERT_GE(c->frames.size(), 3u);
  const json& paused = c->frames[2];
  EXPECT_EQ(paused["event"]["since"], started + 5000) << "from the heartbeat written at the stop";
  EXPECT_EQ(c->frames[3]["event"]["state"]["remaining_ms"], 595'000) << "the outage is not counted";
}

} // namespace
} // namespace colloquy
