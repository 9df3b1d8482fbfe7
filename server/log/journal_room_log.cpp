#include "log/journal_room_log.hpp"

#include "app/logger.hpp"
#include "core/secret.hpp"
#include "log/storage_codec.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <unordered_map>
#include <sstream>

namespace colloquy {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// CRC-32 (ISO-HDLC, as zlib and gzip): journals written before zlib did it still verify.
std::uint32_t crc32(std::string_view data) {
  return static_cast<std::uint32_t>(::crc32_z(0, reinterpret_cast<const Bytef*>(data.data()), data.size()));
}

std::string hex8(std::uint32_t v) {
  const std::array<std::uint8_t, 4> big_endian = {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
                                                  static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
  return to_hex(big_endian);
}

std::string errno_text() { return std::strerror(errno); }

void write_all(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw JournalError("cannot write " + path.string() + ": " + errno_text());
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

void sync_fd(int fd, const fs::path& path) {
  if (::fdatasync(fd) != 0) throw JournalError("cannot sync " + path.string() + ": " + errno_text());
}

void sync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw JournalError("cannot read " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return std::move(out).str();
}

// One journal line: the events of one append, all or nothing.
std::string encode_line(std::string_view room_id, const std::vector<Event>& events) {
  json list = json::array();
  for (const auto& e : events) list.push_back(storage::event_to_json(e));
  const std::string body = json{{"room", room_id}, {"events", std::move(list)}}.dump();
  return hex8(crc32(body)) + " " + body + "\n";
}

// The record of a room removed for good.
std::string encode_removal(std::string_view room_id) {
  const std::string body = json{{"room", room_id}, {"removed", true}}.dump();
  return hex8(crc32(body)) + " " + body + "\n";
}

} // namespace

JournalRoomLog::JournalRoomLog(JournalOptions options) : options_(std::move(options)), memory_(options_.keep_events) {
  std::error_code ec;
  fs::create_directories(options_.dir, ec);
  if (ec) throw JournalError("cannot create the data directory " + options_.dir.string() + ": " + ec.message());
  fs::permissions(options_.dir, fs::perms::owner_all, fs::perm_options::replace, ec);

  lock_fd_ = ::open((options_.dir / "LOCK").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) throw JournalError("cannot open " + (options_.dir / "LOCK").string() + ": " + errno_text());
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd_);
    throw JournalError("the data directory " + options_.dir.string() +
                       " is in use by another colloquy process (one server per data directory)");
  }
  try {
    recover();
  } catch (...) {
    if (journal_fd_ >= 0) ::close(journal_fd_);
    ::close(lock_fd_);
    throw;
  }
  // The previous process's heartbeat; a directory from before 1.6 has none (0: the rooms' last events count).
  alive_fd_ = ::open((options_.dir / "alive").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (alive_fd_ >= 0) {
    std::array<char, 24> text{};
    const ssize_t n = ::pread(alive_fd_, text.data(), text.size() - 1, 0);
    if (n > 0) previous_alive_ms_ = std::strtoll(text.data(), nullptr, 10);
  } else {
    logger::warn("cannot open {}: {}; a restart then pauses rounds from their last event", (options_.dir / "alive").string(), errno_text());
  }
  last_sync_ = std::chrono::steady_clock::now();
  writer_ = std::thread([this] { writer_loop(); });
  compactor_ = std::thread([this] { compactor_loop(); });
}

JournalRoomLog::~JournalRoomLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  writer_wake_.notify_all();
  compactor_wake_.notify_all();
  if (writer_.joinable()) writer_.join(); // completes what was queued first
  if (compactor_.joinable()) compactor_.join();
  if (journal_fd_ >= 0) {
    ::fdatasync(journal_fd_);
    ::close(journal_fd_);
  }
  if (alive_fd_ >= 0) ::close(alive_fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_); // releases the flock
}

void JournalRoomLog::mark_alive(std::int64_t now_ms) {
  if (alive_fd_ < 0) return;
  // Fixed width, so an overwrite in place never leaves digits of a longer value behind.
  std::array<char, 24> text{};
  const int n = std::snprintf(text.data(), text.size(), "%020lld\n", static_cast<long long>(now_ms));
  if (n > 0 && ::pwrite(alive_fd_, text.data(), static_cast<std::size_t>(n), 0) < 0) {
    logger::warn("cannot write the heartbeat {}: {}", (options_.dir / "alive").string(), errno_text());
  }
}

fs::path JournalRoomLog::journal_path(std::uint64_t generation) const {
  return options_.dir / ("journal-" + std::to_string(generation) + ".log");
}

namespace {
// "journal-<N>.log" -> N, or 0.
std::uint64_t journal_generation(const std::string& name) {
  if (!name.starts_with("journal-") || !name.ends_with(".log")) return 0;
  const std::string digits = name.substr(8, name.size() - 12);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 18) return 0;
  return std::stoull(digits);
}
} // namespace

void JournalRoomLog::recover() {
  const fs::path snapshot = options_.dir / "snapshot.json";
  std::error_code ec;
  std::uint64_t first = 1;
  if (fs::exists(snapshot, ec)) {
    const json doc = json::parse(read_file(snapshot), nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("generation") || !doc["generation"].is_number_unsigned() ||
        !doc.contains("rooms") || !doc["rooms"].is_array()) {
      throw JournalError(snapshot.string() + " is damaged; move the data directory aside to start empty");
    }
    first = doc["generation"].get<std::uint64_t>();
    for (const auto& entry : doc["rooms"]) {
      auto base = entry.is_object() && entry.contains("base") ? storage::room_from_json(entry["base"]) : std::nullopt;
      if (!base || !entry.contains("events") || !entry["events"].is_array()) {
        throw JournalError(snapshot.string() + " has a damaged room; move the data directory aside to start empty");
      }
      RoomHistory history{std::move(*base), {}, 0};
      if (entry.contains("last_change") && entry["last_change"].is_number_integer()) {
        history.last_change_ms = entry["last_change"].get<std::int64_t>();
      }
      for (const auto& e : entry["events"]) {
        auto event = storage::event_from_json(e);
        if (!event || event->seq != history.base.seq + history.events.size() + 1) {
          throw JournalError(snapshot.string() + " has a damaged event; move the data directory aside to start empty");
        }
        history.events.push_back(std::move(*event));
      }
      const std::string id = history.base.id;
      memory_.restore(id, std::move(history));
    }
  }

  // Replay every journal the snapshot does not cover, oldest first; older ones are leftovers.
  std::vector<std::uint64_t> generations;
  for (const auto& entry : fs::directory_iterator(options_.dir, ec)) {
    const std::uint64_t g = journal_generation(entry.path().filename().string());
    if (g == 0) continue;
    if (g < first) {
      fs::remove(entry.path(), ec);
    } else {
      generations.push_back(g);
    }
  }
  std::sort(generations.begin(), generations.end());
  for (std::size_t i = 0; i < generations.size(); ++i) replay(journal_path(generations[i]), i + 1 == generations.size());
  fs::remove(options_.dir / "snapshot.json.tmp", ec);

  open_journal(generations.empty() ? first : generations.back());
  recovery_.rooms = memory_.room_ids().size();
}

void JournalRoomLog::replay(const fs::path& path, bool newest) {
  const std::string data = read_file(path);
  std::size_t offset = 0;
  while (offset < data.size()) {
    const auto newline = data.find('\n', offset);
    const bool last = newest && (newline == std::string::npos || newline + 1 == data.size());
    const std::string_view line(data.data() + offset, (newline == std::string::npos ? data.size() : newline) - offset);
    bool ok = newline != std::string::npos && line.size() > 9 && line[8] == ' ';
    json record;
    if (ok) {
      const std::string_view body = line.substr(9);
      ok = hex8(crc32(body)) == line.substr(0, 8);
      if (ok) {
        record = json::parse(body, nullptr, false);
        ok = !record.is_discarded() && record.is_object() && record.contains("room") && record["room"].is_string() &&
             ((record.contains("events") && record["events"].is_array() && !record["events"].empty()) ||
              record.value("removed", false));
      }
    }
    if (ok && record.value("removed", false)) {
      memory_.erase(record["room"].get<std::string>());
      offset = newline + 1;
      continue;
    }
    std::vector<Event> events;
    if (ok) {
      for (const auto& e : record["events"]) {
        auto event = storage::event_from_json(e);
        if (!event) {
          ok = false;
          break;
        }
        events.push_back(std::move(*event));
      }
    }
    if (!ok) {
      if (last) { // a crash in the middle of the final write: the append was never acknowledged
        recovery_.torn_bytes = data.size() - offset;
        logger::warn("journal {}: dropping an unfinished last record of {} bytes", path.string(), recovery_.torn_bytes);
        if (::truncate(path.c_str(), static_cast<off_t>(offset)) != 0) {
          throw JournalError("cannot truncate " + path.string() + ": " + errno_text());
        }
        break;
      }
      throw JournalError("journal " + path.string() + " is damaged at byte " + std::to_string(offset) +
                         "; move the data directory aside to start empty");
    }
    const std::string room_id = record["room"].get<std::string>();
    const std::uint64_t have = memory_.last_seq(room_id);
    // The snapshot was taken room by room while this journal grew: what it holds already is skipped.
    std::erase_if(events, [&](const Event& e) { return e.seq <= have; });
    if (!events.empty()) {
      const std::size_t n = events.size();
      const std::uint64_t expected = events.front().seq - 1;
      if (!memory_.store(room_id, expected, std::move(events))) {
        throw JournalError("journal " + path.string() + " is out of order at byte " + std::to_string(offset) + " (room " +
                           room_id + ")");
      }
      recovery_.events_replayed += n;
    }
    offset = newline + 1;
  }
}

void JournalRoomLog::open_journal(std::uint64_t generation) {
  const fs::path path = journal_path(generation);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) throw JournalError("cannot open " + path.string() + ": " + errno_text());
  struct stat st {};
  ::fstat(fd, &st);
  sync_dir(options_.dir);
  if (journal_fd_ >= 0) {
    ::fdatasync(journal_fd_);
    ::close(journal_fd_);
  }
  journal_fd_ = fd;
  generation_ = generation;
  journal_bytes_ = static_cast<std::uint64_t>(st.st_size);
}

void JournalRoomLog::append_async(std::string_view room_id, std::uint64_t expected_seq, std::vector<Event> events,
                                  AppendDone done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      queue_.push_back(Request{std::string(room_id), expected_seq, std::move(events), std::move(done), {}});
      writer_wake_.notify_one();
      return;
    }
  }
  done(AppendResult{AppendStatus::failed, "the server is stopping"});
}

void JournalRoomLog::remove_async(std::string_view room_id, std::function<void(std::string)> done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      Request r;
      r.room = std::string(room_id);
      r.removed = std::move(done);
      queue_.push_back(std::move(r));
      writer_wake_.notify_one();
      return;
    }
  }
  done("the server is stopping");
}

// Takes everything queued, writes and syncs it as one, completes it; syncs each second with
// everysec; rotates to a new generation when the journal has grown past its limit.
void JournalRoomLog::writer_loop() {
  std::vector<Request> batch;
  for (;;) {
    bool stop = false;
    bool rotate_now = false;
    {
      std::unique_lock lock(mutex_);
      const auto wait = options_.fsync == FsyncPolicy::everysec && dirty_ ? std::chrono::milliseconds(200)
                                                                          : std::chrono::milliseconds(1000);
      writer_wake_.wait_for(lock, wait, [&] { return !queue_.empty() || stopping_ || compact_requested_; });
      batch.swap(queue_);
      stop = stopping_;
      rotate_now = compact_requested_ && !compacting_;
      if (rotate_now) compact_requested_ = false;
    }
    if (!batch.empty()) write_batch(batch);
    batch.clear();
    if (dirty_ && (stop || std::chrono::steady_clock::now() - last_sync_ >= std::chrono::seconds(1))) {
      if (::fdatasync(journal_fd_) != 0) logger::error("journal sync failed: {}", errno_text());
      dirty_ = false;
      last_sync_ = std::chrono::steady_clock::now();
      std::lock_guard lock(mutex_);
      ++stats_.syncs;
    }
    bool grown = false;
    {
      std::lock_guard lock(mutex_);
      grown = !compacting_ && journal_bytes_ > std::max<std::uint64_t>(options_.compact_bytes, snapshot_bytes_);
    }
    if ((rotate_now || grown) && !stop) {
      try {
        rotate();
      } catch (const std::exception& e) {
        logger::warn("journal compaction could not start (the journal keeps growing): {}", e.what());
        std::lock_guard lock(mutex_);
        compaction_error_ = e.what();
        ++compactions_done_;
        compaction_done_.notify_all();
      }
    }
    if (stop) {
      std::lock_guard lock(mutex_);
      if (queue_.empty()) return;
    }
  }
}

void JournalRoomLog::write_batch(std::vector<Request>& batch) {
  std::vector<AppendResult> results(batch.size());
  std::unordered_map<std::string_view, std::uint64_t> last; // rooms' last seq as this batch extends them
  std::string buffer;
  std::vector<std::size_t> accepted;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    Request& r = batch[i];
    if (r.removed) {
      buffer += encode_removal(r.room);
      accepted.push_back(i);
      continue;
    }
    auto it = last.find(r.room);
    const std::uint64_t current = it != last.end() ? it->second : memory_.last_seq(r.room);
    bool numbered = current == r.expected_seq;
    for (std::size_t k = 0; numbered && k < r.events.size(); ++k) numbered = r.events[k].seq == r.expected_seq + 1 + k;
    if (!numbered) {
      results[i] = AppendResult{AppendStatus::conflict, {}};
      continue;
    }
    if (r.events.empty()) continue;
    buffer += encode_line(r.room, r.events);
    last[r.room] = r.expected_seq + r.events.size();
    accepted.push_back(i);
  }
  if (!buffer.empty()) {
    try {
      write_all(journal_fd_, buffer, journal_path(generation_));
      if (options_.fsync == FsyncPolicy::always) {
        sync_fd(journal_fd_, journal_path(generation_));
        last_sync_ = std::chrono::steady_clock::now();
      } else {
        dirty_ = true;
      }
    } catch (const JournalError& e) {
      // Leave no partial line behind, so the next append and the next start see a clean file.
      if (::ftruncate(journal_fd_, static_cast<off_t>(journal_bytes_)) != 0) {
        logger::error("cannot undo a failed journal write: {}", errno_text());
      }
      logger::error("storing {} changes failed: {}", accepted.size(), e.what());
      for (std::size_t i : accepted) results[i] = AppendResult{AppendStatus::failed, e.what()};
      for (std::size_t i : accepted) {
        if (batch[i].removed) batch[i].removed(e.what());
      }
      accepted.clear();
    }
    if (!accepted.empty()) {
      journal_bytes_ += buffer.size();
      for (std::size_t i : accepted) {
        if (batch[i].removed) {
          memory_.erase(batch[i].room);
          memory_.prompts().forget_room(batch[i].room);
        } else {
          (void)memory_.store(batch[i].room, batch[i].expected_seq, std::move(batch[i].events));
        }
      }
    }
    std::lock_guard lock(mutex_);
    if (!accepted.empty()) {
      ++stats_.writes;
      if (options_.fsync == FsyncPolicy::always) ++stats_.syncs;
      stats_.appends += accepted.size();
    }
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].removed) {
      if (results[i].status == AppendStatus::ok) batch[i].removed({});
    } else {
      batch[i].done(std::move(results[i]));
    }
  }
}

// The commit point of a compaction is the snapshot's rename (in the compactor); this only opens
// the next journal so that appends go on while the snapshot is written.
void JournalRoomLog::rotate() {
  const std::uint64_t next = generation_ + 1;
  open_journal(next);
  std::lock_guard lock(mutex_);
  compacting_ = true;
  compaction_generation_ = next;
  compactor_wake_.notify_one();
}

void JournalRoomLog::compactor_loop() {
  for (;;) {
    std::uint64_t generation = 0;
    {
      std::unique_lock lock(mutex_);
      compactor_wake_.wait(lock, [&] { return compaction_generation_ != 0 || stopping_; });
      if (compaction_generation_ == 0) return;
      generation = compaction_generation_;
    }
    std::string error;
    try {
      write_snapshot(generation);
    } catch (const std::exception& e) {
      error = e.what();
      logger::warn("journal compaction failed (the journal keeps growing): {}", e.what());
    }
    std::lock_guard lock(mutex_);
    compaction_generation_ = 0;
    compacting_ = false;
    compaction_error_ = error;
    ++compactions_done_;
    if (error.empty()) ++stats_.compactions;
    compaction_done_.notify_all();
  }
}

// Every room, one at a time (each copied under its own lock only), as of some moment after the
// switch to `generation`; replay from journal-<generation> on skips what a room already holds.
void JournalRoomLog::write_snapshot(std::uint64_t generation) {
  const fs::path tmp = options_.dir / "snapshot.json.tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw JournalError("cannot create " + tmp.string() + ": " + errno_text());
  std::uint64_t bytes = 0;
  try {
    std::string chunk = R"({"format":1,"generation":)" + std::to_string(generation) + R"(,"rooms":[)";
    bool first = true;
    for (const auto& id : memory_.room_ids()) {
      auto history = memory_.history(id);
      if (!history) continue;
      json events = json::array();
      for (const auto& e : history->events) events.push_back(storage::event_to_json(e));
      if (!first) chunk += ',';
      first = false;
      chunk += json{{"base", storage::room_to_json(history->base)}, {"events", std::move(events)},
                    {"last_change", history->last_change_ms}}.dump();
      if (chunk.size() > (1u << 20)) {
        write_all(fd, chunk, tmp);
        bytes += chunk.size();
        chunk.clear();
      }
    }
    chunk += "]}";
    write_all(fd, chunk, tmp);
    bytes += chunk.size();
    if (::fsync(fd) != 0) throw JournalError("cannot sync " + tmp.string() + ": " + errno_text());
  } catch (...) {
    ::close(fd);
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), (options_.dir / "snapshot.json").c_str()) != 0) {
    throw JournalError("cannot replace the snapshot: " + errno_text());
  }
  sync_dir(options_.dir);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(options_.dir, ec)) {
    const std::uint64_t g = journal_generation(entry.path().filename().string());
    if (g != 0 && g < generation) fs::remove(entry.path(), ec);
  }
  {
    std::lock_guard lock(mutex_);
    snapshot_bytes_ = bytes;
  }
  logger::info("journal compacted into a snapshot; generation {}", generation);
}

void JournalRoomLog::compact() {
  std::unique_lock lock(mutex_);
  // One already running covers appends made before it started, not necessarily ours: wait it out first.
  compaction_done_.wait(lock, [&] { return !compacting_ || stopping_; });
  const std::uint64_t target = compactions_done_ + 1;
  compact_requested_ = true;
  writer_wake_.notify_one();
  compaction_done_.wait(lock, [&] { return compactions_done_ >= target || stopping_; });
  if (!compaction_error_.empty()) throw JournalError(compaction_error_);
}

JournalRoomLog::Stats JournalRoomLog::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

std::optional<std::vector<Event>> JournalRoomLog::read(std::string_view room_id, std::uint64_t after_seq) const {
  return memory_.read(room_id, after_seq);
}
std::uint64_t JournalRoomLog::last_seq(std::string_view room_id) const { return memory_.last_seq(room_id); }
std::vector<std::string> JournalRoomLog::room_ids() const { return memory_.room_ids(); }
std::optional<RoomHistory> JournalRoomLog::history(std::string_view room_id) const { return memory_.history(room_id); }

} // namespace colloquy
