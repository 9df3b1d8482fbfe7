#pragma once
// One ordered log per room, the source of truth: compare-and-append on the expected sequence,
// and range reads for catching up. Issue 4 adds the journal file and Redis behind this interface.
#include "core/room.hpp"

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace colloquy {

class RoomLog {
public:
  virtual ~RoomLog() = default;
  // Appends the events (numbered expected_seq+1, +2, …) only if the room's last sequence is
  // expected_seq; returns false and appends nothing otherwise, so two writers never both win.
  virtual bool append(std::string_view room_id, std::uint64_t expected_seq, const std::vector<Event>& events) = 0;
  // Every event of the room with seq > after_seq, in order.
  virtual std::vector<Event> read(std::string_view room_id, std::uint64_t after_seq) const = 0;
  virtual std::uint64_t last_seq(std::string_view room_id) const = 0;
};

// The embedded default's in-process log (the journal file comes with issue 4).
class MemoryRoomLog final : public RoomLog {
public:
  bool append(std::string_view room_id, std::uint64_t expected_seq, const std::vector<Event>& events) override;
  std::vector<Event> read(std::string_view room_id, std::uint64_t after_seq) const override;
  std::uint64_t last_seq(std::string_view room_id) const override;

private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::vector<Event>> rooms_;
};

} // namespace colloquy
