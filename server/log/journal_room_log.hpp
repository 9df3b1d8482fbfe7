#pragma once
// The embedded default's durable room log: the in-memory log plus an append-only journal file in
// a data directory, with snapshots that bound replay at start. A restart restores every room.
//
// Files in the data directory (see deploy/README.md#data-directory):
//   LOCK               held with flock while a server uses the directory: one server per directory
//   snapshot.json      every room as of the snapshot (state + recent events) and the journal generation
//   journal-<G>.log    one line per append since that snapshot: "<crc32 hex> <json>\n"
// A line cut short by a crash (the last one) is dropped at start; damage anywhere else stops the
// server with a message naming the file and byte, rather than starting with silently lost events.
#include "log/room_log.hpp"

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

  bool append(std::string_view room_id, std::uint64_t expected_seq, const std::vector<Event>& events) override;
  std::optional<std::vector<Event>> read(std::string_view room_id, std::uint64_t after_seq) const override;
  std::uint64_t last_seq(std::string_view room_id) const override;
  std::vector<std::string> room_ids() const override;
  std::optional<RoomHistory> history(std::string_view room_id) const override;

  // Pending prompts and votes are kept in memory only, never in the journal (see the README).
  PromptStore& prompts() override { return memory_.prompts(); }

  const JournalRecovery& recovery() const { return recovery_; }
  // Writes a snapshot now and starts a new journal (also done by itself past compact_bytes).
  void compact();

private:
  void recover();
  void open_journal(std::uint64_t generation, bool truncate);
  void compact_locked();
  void flush_loop();
  std::filesystem::path journal_path(std::uint64_t generation) const;

  JournalOptions options_;
  MemoryRoomLog memory_;
  JournalRecovery recovery_;
  std::mutex write_mutex_; // orders appends to the file and the memory log
  int lock_fd_ = -1;
  int journal_fd_ = -1;
  std::uint64_t generation_ = 1;
  std::uint64_t journal_bytes_ = 0;
  std::uint64_t snapshot_bytes_ = 0; // the next compaction waits until the journal is at least this big
  bool dirty_ = false; // written since the last fdatasync (everysec)
  bool stopping_ = false;
  std::condition_variable flush_wake_;
  std::thread flusher_;
};

} // namespace colloquy
