#pragma once
// An event of a room: what happened (the bodies are generated from protocol/messages.json), its
// place in the room's order, and who may see it.
#include "core/generated/messages.hpp"

#include <cstdint>
#include <string>

namespace colloquy {

// Who may see an event. Fan-out filters by it; private data never reaches another connection.
// leads: facilitators and co-facilitators. group: the members of one breakout group.
struct Audience {
  enum class Kind { everyone, member, leads, group };
  Kind kind = Kind::everyone;
  std::string member_id; // for Kind::member
  std::string group_id;  // for Kind::group
};

// Stored in the room log; storage-only fields of the body (hashes) never leave the server.
struct Event {
  std::uint64_t seq = 0;
  std::int64_t time_ms = 0;
  EventBody body;
  Audience audience;
};

} // namespace colloquy
