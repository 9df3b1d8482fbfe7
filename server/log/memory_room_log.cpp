#include "log/room_log.hpp"

namespace colloquy {

bool MemoryRoomLog::append(std::string_view room_id, std::uint64_t expected_seq, const std::vector<Event>& events) {
  std::lock_guard lock(mutex_);
  auto& log = rooms_[std::string(room_id)];
  if (log.size() != expected_seq) return false;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].seq != expected_seq + 1 + i) return false;
  }
  log.insert(log.end(), events.begin(), events.end());
  return true;
}

std::vector<Event> MemoryRoomLog::read(std::string_view room_id, std::uint64_t after_seq) const {
  std::lock_guard lock(mutex_);
  auto it = rooms_.find(std::string(room_id));
  if (it == rooms_.end() || after_seq >= it->second.size()) return {};
  return {it->second.begin() + static_cast<std::ptrdiff_t>(after_seq), it->second.end()};
}

std::uint64_t MemoryRoomLog::last_seq(std::string_view room_id) const {
  std::lock_guard lock(mutex_);
  auto it = rooms_.find(std::string(room_id));
  return it == rooms_.end() ? 0 : it->second.size();
}

} // namespace colloquy
