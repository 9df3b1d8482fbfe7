#pragma once
// What every activity's decide() shares: the result, the context, and the emitter that numbers a
// decision's events. Nothing here applies an event: decide reads the committed state only.
#include "core/error_code.hpp"
#include "core/event.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace colloquy {

struct Limits {
  std::size_t max_members = default_max_members;                   // present: online or away
  std::size_t max_room_state_bytes = default_max_room_state_bytes; // core/state_bytes.hpp
  std::int64_t speaker_grace_ms = default_speaker_grace_seconds * 1000; // a dropped speaker keeps the turn this long
  // Member records a room keeps, present, left and removed together.
  std::size_t max_member_records() const { return member_records_per_place * max_members; }
};

struct Decision {
  std::vector<Event> events; // seq and time already assigned
  std::string member_id;     // for Join: the member it resolved to
};

using DecideResult = std::variant<Decision, Error>;

// What a decision may read besides the room: the time (server clock) and the configured limits.
struct Context {
  std::int64_t now_ms = 0;
  Limits limits;
};

// Numbers a decision's events seq + 1, seq + 2, … at the decision's time.
class Emitter {
public:
  Emitter(std::uint64_t last_seq, std::int64_t now_ms) : next_seq_(last_seq + 1), now_ms_(now_ms) {}
  void emit(EventBody body, Audience audience = {}) {
    decision_.events.push_back(Event{next_seq_++, now_ms_, std::move(body), std::move(audience)});
  }
  std::int64_t now() const { return now_ms_; }
  Decision take(std::string member_id = {}) {
    decision_.member_id = std::move(member_id);
    return std::move(decision_);
  }

private:
  std::uint64_t next_seq_;
  std::int64_t now_ms_;
  Decision decision_;
};

inline Error forbidden(std::string_view why) { return Error{ErrorCode::forbidden, why}; }

inline bool valid_duration(std::int64_t seconds) { return seconds >= 1 && seconds <= max_duration_seconds; }

} // namespace colloquy
