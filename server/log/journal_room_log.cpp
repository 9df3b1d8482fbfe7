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
#include <cstring>
#include <fstream>
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
  if (options_.fsync == FsyncPolicy::everysec) flusher_ = std::thread([this] { flush_loop(); });
}

JournalRoomLog::~JournalRoomLog() {
  {
    std::lock_guard lock(write_mutex_);
    stopping_ = true;
  }
  flush_wake_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  if (journal_fd_ >= 0) {
    ::fdatasync(journal_fd_);
    ::close(journal_fd_);
  }
  if (lock_fd_ >= 0) ::close(lock_fd_); // releases the flock
}

fs::path JournalRoomLog::journal_path(std::uint64_t generation) const {
  return options_.dir / ("journal-" + std::to_string(generation) + ".log");
}

void JournalRoomLog::recover() {
  const fs::path snapshot = options_.dir / "snapshot.json";
  std::error_code ec;
  if (fs::exists(snapshot, ec)) {
    const json doc = json::parse(read_file(snapshot), nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("generation") || !doc["generation"].is_number_unsigned() ||
        !doc.contains("rooms") || !doc["rooms"].is_array()) {
      throw JournalError(snapshot.string() + " is damaged; move the data directory aside to start empty");
    }
    generation_ = doc["generation"].get<std::uint64_t>();
    for (const auto& entry : doc["rooms"]) {
      auto base = entry.is_object() && entry.contains("base") ? storage::room_from_json(entry["base"]) : std::nullopt;
      if (!base || !entry.contains("events") || !entry["events"].is_array()) {
        throw JournalError(snapshot.string() + " has a damaged room; move the data directory aside to start empty");
      }
      RoomHistory history{std::move(*base), {}};
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

  // Replay the journal of this generation.
  const fs::path path = journal_path(generation_);
  std::string data;
  if (fs::exists(path, ec)) data = read_file(path);
  std::size_t offset = 0;
  while (offset < data.size()) {
    const auto newline = data.find('\n', offset);
    const bool last = newline == std::string::npos || newline + 1 == data.size();
    const std::string_view line(data.data() + offset, (newline == std::string::npos ? data.size() : newline) - offset);
    bool ok = newline != std::string::npos && line.size() > 9 && line[8] == ' ';
    json record;
    if (ok) {
      const std::string_view body = line.substr(9);
      ok = hex8(crc32(body)) == line.substr(0, 8);
      if (ok) {
        record = json::parse(body, nullptr, false);
        ok = !record.is_discarded() && record.is_object() && record.contains("room") && record["room"].is_string() &&
             record.contains("events") && record["events"].is_array() && !record["events"].empty();
      }
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
        logger::warn("journal " + path.string() + ": dropping an unfinished last record of " +
                     std::to_string(recovery_.torn_bytes) + " bytes");
        if (::truncate(path.c_str(), static_cast<off_t>(offset)) != 0) {
          throw JournalError("cannot truncate " + path.string() + ": " + errno_text());
        }
        break;
      }
      throw JournalError("journal " + path.string() + " is damaged at byte " + std::to_string(offset) +
                         "; move the data directory aside to start empty");
    }
    const std::string room_id = record["room"].get<std::string>();
    if (!memory_.append(room_id, events.front().seq - 1, events)) {
      throw JournalError("journal " + path.string() + " is out of order at byte " + std::to_string(offset) + " (room " +
                         room_id + ")");
    }
    recovery_.events_replayed += events.size();
    offset = newline + 1;
  }

  // Leftovers of an interrupted compaction belong to other generations.
  for (const auto& entry : fs::directory_iterator(options_.dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("journal-") && name.ends_with(".log") && entry.path() != path) fs::remove(entry.path(), ec);
  }
  fs::remove(options_.dir / "snapshot.json.tmp", ec);

  open_journal(generation_, /*truncate=*/false);
  recovery_.rooms = memory_.room_ids().size();
}

void JournalRoomLog::open_journal(std::uint64_t generation, bool truncate) {
  const fs::path path = journal_path(generation);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0600);
  if (fd < 0) throw JournalError("cannot open " + path.string() + ": " + errno_text());
  struct stat st {};
  ::fstat(fd, &st);
  sync_dir(options_.dir);
  if (journal_fd_ >= 0) ::close(journal_fd_);
  journal_fd_ = fd;
  generation_ = generation;
  journal_bytes_ = static_cast<std::uint64_t>(st.st_size);
}

bool JournalRoomLog::append(std::string_view room_id, std::uint64_t expected_seq, const std::vector<Event>& events) {
  std::lock_guard lock(write_mutex_);
  if (memory_.last_seq(room_id) != expected_seq) return false;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].seq != expected_seq + 1 + i) return false;
  }
  if (events.empty()) return true;
  const std::string line = encode_line(room_id, events);
  try {
    write_all(journal_fd_, line, journal_path(generation_));
    if (options_.fsync == FsyncPolicy::always) sync_fd(journal_fd_, journal_path(generation_));
  } catch (const JournalError&) {
    // Leave no partial line behind, so the next append and the next start see a clean file.
    if (::ftruncate(journal_fd_, static_cast<off_t>(journal_bytes_)) != 0) {
      logger::error("cannot undo a failed journal write: " + errno_text());
    }
    throw;
  }
  journal_bytes_ += line.size();
  dirty_ = true;
  const bool stored = memory_.append(room_id, expected_seq, events);
  if (stored && journal_bytes_ > std::max<std::uint64_t>(options_.compact_bytes, snapshot_bytes_)) {
    try {
      compact_locked();
    } catch (const std::exception& e) {
      logger::warn(std::string("journal compaction failed (the journal keeps growing): ") + e.what());
    }
  }
  return stored;
}

void JournalRoomLog::compact() {
  std::lock_guard lock(write_mutex_);
  compact_locked();
}

// Snapshot every room, then switch to an empty journal of the next generation. The snapshot's
// rename is the commit point: before it the old snapshot and journal are whole, after it the new.
void JournalRoomLog::compact_locked() {
  const std::uint64_t next = generation_ + 1;
  const fs::path next_journal = journal_path(next);
  {
    const int fd = ::open(next_journal.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw JournalError("cannot create " + next_journal.string() + ": " + errno_text());
    ::close(fd);
  }
  json rooms = json::array();
  for (const auto& id : memory_.room_ids()) {
    auto history = memory_.history(id);
    if (!history) continue;
    json events = json::array();
    for (const auto& e : history->events) events.push_back(storage::event_to_json(e));
    rooms.push_back({{"base", storage::room_to_json(history->base)}, {"events", std::move(events)}});
  }
  const std::string doc = json{{"format", 1}, {"generation", next}, {"rooms", std::move(rooms)}}.dump();
  const fs::path tmp = options_.dir / "snapshot.json.tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw JournalError("cannot create " + tmp.string() + ": " + errno_text());
  try {
    write_all(fd, doc, tmp);
    if (::fsync(fd) != 0) throw JournalError("cannot sync " + tmp.string() + ": " + errno_text());
  } catch (...) {
    ::close(fd);
    std::error_code ec;
    fs::remove(tmp, ec);
    fs::remove(next_journal, ec);
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), (options_.dir / "snapshot.json").c_str()) != 0) {
    throw JournalError("cannot replace the snapshot: " + errno_text());
  }
  sync_dir(options_.dir);
  const fs::path old = journal_path(generation_);
  open_journal(next, /*truncate=*/false);
  std::error_code ec;
  fs::remove(old, ec);
  dirty_ = false;
  snapshot_bytes_ = doc.size();
  logger::info("journal compacted into a snapshot; generation " + std::to_string(next));
}

void JournalRoomLog::flush_loop() {
  std::unique_lock lock(write_mutex_);
  while (!stopping_) {
    flush_wake_.wait_for(lock, std::chrono::seconds(1));
    if (dirty_ && journal_fd_ >= 0) {
      if (::fdatasync(journal_fd_) != 0) logger::error("journal sync failed: " + errno_text());
      dirty_ = false;
    }
  }
}

std::optional<std::vector<Event>> JournalRoomLog::read(std::string_view room_id, std::uint64_t after_seq) const {
  return memory_.read(room_id, after_seq);
}
std::uint64_t JournalRoomLog::last_seq(std::string_view room_id) const { return memory_.last_seq(room_id); }
std::vector<std::string> JournalRoomLog::room_ids() const { return memory_.room_ids(); }
std::optional<RoomHistory> JournalRoomLog::history(std::string_view room_id) const { return memory_.history(room_id); }

} // namespace colloquy
