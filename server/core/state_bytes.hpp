#pragma once
// The bytes of a room's state, as a snapshot encodes it: an upper bound kept cheap enough for a
// decision. Every change that grows the room is checked against Limits::max_room_state_bytes
// (room_state_full), so that a snapshot of the room, and therefore every event (each carries a
// part of the state after it), always fits in one frame. The arithmetic is in
// protocol/README.md#the-bytes-of-a-room; tests/unit/limits_test.cpp checks that the estimate is
// never below the encoded size.
//
// Costs: the deck and the released prompts keep their own byte counts (updated by their evolve);
// members are summed here (at most member_records_per_place x --max-members records); the audit
// and the round's outcomes are a handful of items.
#include "core/decision.hpp"

#include <cstddef>
#include <optional>
#include <string_view>

namespace colloquy {

struct RoomState;
struct Audit;

namespace state_bytes {

// A string as JSON text: its quotes, and each byte as escaped (", \ and the short escapes: 2;
// other control characters: 6, \u00XX; the rest as is: the text cleaners allow no other control
// characters, and nlohmann::json writes UTF-8 as is, so a code point takes at most 4).
std::size_t text(std::string_view s);

// A member of the snapshot's `members`, with its share of the speaking state (its id in a round's
// order and remaining, and in the floor's queue).
std::size_t member(std::string_view id, std::string_view name);
// One turn outcome of the round in progress.
inline constexpr std::size_t outcome = 72;
// A card of the deck (and its id among the drawn).
std::size_t card(std::string_view id, std::string_view text);
// A released prompt (votes and posed_to at their largest).
std::size_t released_prompt(std::string_view id, std::string_view text);
// An audit: when open, its header and the largest results it can have (the comments' budget,
// max_audit_comment_bytes, reserved); once closed, what it holds.
std::size_t audit(const Audit& audit);
std::size_t open_audit(const std::vector<AuditItem>& items);
// The fixed part: room id, seq, title, settings, floor, turn, timers and the empty collections.
std::size_t fixed(std::string_view title);

// The whole room (an upper bound of its encoded snapshot).
std::size_t room(const RoomState& room);

// room_state_full when growing the room by `growth` bytes would take it past its limit.
std::optional<Error> check_growth(const RoomState& room, std::size_t growth, const Context& ctx);

} // namespace state_bytes
} // namespace colloquy
