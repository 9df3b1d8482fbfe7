#pragma once
// How events and room snapshots are stored (journal files, Redis streams and keys): versioned
// records ("v" on every record; see storage_codec.cpp for the formats). Unlike the wire form this
// keeps the hashes of secrets, so a restarted server still checks keys, codes and resume tokens;
// it never holds a secret itself. Records of every earlier format are read.
#include "core/room.hpp"

#include <nlohmann/json.hpp>

#include <optional>

namespace colloquy::storage {

nlohmann::json event_to_json(const Event& event);
std::optional<Event> event_from_json(const nlohmann::json& json);

nlohmann::json room_to_json(const RoomState& state);
std::optional<RoomState> room_from_json(const nlohmann::json& json);

// A timer of a format-1 room (the 1.3 wire form).
bool timer_from_record_v1(const nlohmann::json& json, Timer& out);

} // namespace colloquy::storage
