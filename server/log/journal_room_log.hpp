#pragma once
// The embedded default's durable room log: the in-memory log plus an append-only journal file in
// a data directory, with snapshots that bound replay at start. A restart restores every room.
//
// Appends are group-committed: one writer thread takes every append queued since its last write
// (from all rooms), writes them with one write() and one fdatasync (--fsync always), and only then
// completes them, so nothing is acknowledged before it is on disk and one sync serves many rooms.
// Compaction never stops the world: the writer switches to a new journal generation (O(1)) and a
// compactor thread writes the snapshot beside it, copying one room at a time.
//
// Files in the data directory (see deploy/README.md#data-directory):
//   LOCK               held with flock while a server uses the directory: one server per directory
//   snapshot.json      every room as of the snapshot (state + recent events) and its generation G
//   journal-<N>.log    one line per append (or room removal): "<crc32 hex> <json>\n"; replayed for every N >= G, in
//                      order, skipping events a room's snapshot already holds (the snapshot is
//                      taken room by room while appends go on into journal-G)
// A line cut short by a crash (the last one of the newest journal) is dropped at start; damage
// anywhere else stops the server with a message naming the file and byte, rather than starting
// with silently lost events.
#include "log/room_log.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace colloquy {

enum class FsyncPolicy {
  always,   // an append returns after its bytes are on disk (fdatasync): nothing acknowledged is lost
  everysec, // a background flush each second: a power cut may lose the last second
};

struct JournalOptions {
  std::filesystem::path dir;
  FsyncPolicy fsync = FsyncPolicy::always;
  std::uint64_t compact_bytes = 16u << 20; // write a snapshot and start a new journal past this size
                                           // (or past the last snapshot's size, if larger)
  std::size_t keep_events = 1024;          // per room, kept one by one for catching up
};

struct JournalRecovery {
  std::size_t rooms = 0;
  std::size_t events_replayed = 0; // from the journal, after the snapshot
  std::uint64_t torn_bytes = 0;    // an unfinished last line that was dropped
};

class JournalError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

class JournalRoomLog final : public RoomLog {
public:
  // Opens or creates the directory, locks it and recovers. Throws JournalError.
  explicit JournalRoomLog(JournalOptions options);
  ~JournalRoomLog() override;
  JournalRoomLog(const JournalRoomLog&) = delete;
  JournalRoomLog& operator=(const JournalRoomLog&) = delete;

  void append_async(std::string_view room_id, std::uint64_t expected_seq, std::vector<Event> events,
                    AppendDone done) override;
  // A removal is a record of its own ("removed"), synced like an append; compaction drops the room.
  void remove_async(std::string_view room_id, std::function<void(std::string error)> done) override;
  std::optional<std::vector<Event>> read(std::string_view room_id, std::uint64_t after_seq) const override;
  std::uint64_t last_seq(std::string_view room_id) const override;
  std::vector<std::string> room_ids() const override;
  std::optional<RoomHistory> history(std::string_view room_id) const override;
  // The heartbeat lives in the file `alive` (decimal ms since the epoch), overwritten in place and
  // never synced: after a power cut it may be older than the last beat, which only credits less.
  void mark_alive(std::int64_t now_ms) override;
  std::int64_t last_alive_ms() const override { return previous_alive_ms_; }

  // Pending prompts and votes are kept in memory only, never in the journal (see the README).
  PromptStore& prompts() override { return memory_.prompts(); }

  const JournalRecovery& recovery() const { return recovery_; }
  // Starts a new journal generation and writes a snapshot now (also done by itself past
  // compact_bytes); returns when the snapshot is in place. Throws JournalError.
  void compact();

  struct Stats {
    std::uint64_t writes = 0;     // write() calls carrying appends
    std::uint64_t syncs = 0;      // fdatasync calls
    std::uint64_t appends = 0;    // appends stored
    std::uint64_t compactions = 0;
  };
  Stats stats() const;

private:
  struct Request {
    std::string room;
    std::uint64_t expected_seq = 0;
    std::vector<Event> events;
    AppendDone done;
    std::function<void(std::string)> removed; // set: a removal, not an append
  };
  void recover();
  void replay(const std::filesystem::path& path, bool newest);
  void open_journal(std::uint64_t generation);
  void writer_loop();
  void write_batch(std::vector<Request>& batch);
  // Switches to journal generation+1 and hands the snapshot to the compactor. Writer thread.
  void rotate();
  void compactor_loop();
  void write_snapshot(std::uint64_t generation);
  std::filesystem::path journal_path(std::uint64_t generation) const;

  JournalOptions options_;
  MemoryRoomLog memory_;
  JournalRecovery recovery_;
  int lock_fd_ = -1;
  int alive_fd_ = -1;
  std::int64_t previous_alive_ms_ = 0;

  // Owned by the writer thread once it runs.
  int journal_fd_ = -1;
  std::uint64_t generation_ = 1;
  std::uint64_t journal_bytes_ = 0;
  bool dirty_ = false; // written since the last fdatasync (everysec)
  std::chrono::steady_clock::time_point last_sync_;

  mutable std::mutex mutex_; // queue_, stopping_, the compaction hand-off, stats_
  std::condition_variable writer_wake_;
  std::condition_variable compactor_wake_;
  std::condition_variable compaction_done_;
  std::vector<Request> queue_;
  bool stopping_ = false;
  bool compact_requested_ = false;        // compact(): rotate at the next chance
  std::uint64_t compaction_generation_ = 0; // to snapshot; 0 = none pending
  bool compacting_ = false;
  std::uint64_t snapshot_bytes_ = 0; // the next compaction waits until the journal is at least this big
  std::uint64_t compactions_done_ = 0;
  std::string compaction_error_;
  Stats stats_;
  std::thread writer_;
  std::thread compactor_;
};

} // namespace colloquy
