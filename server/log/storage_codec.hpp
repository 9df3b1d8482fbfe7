#pragma once
// How events and room snapshots are stored (journal files now, Redis streams later). Unlike the
// wire form this keeps the hashes of secrets, so a restarted server still checks keys, codes and
// resume tokens; it never holds a secret itself.
#include "core/room.hpp"

#include <nlohmann/json.hpp>

#include <optional>

namespace colloquy::storage {

nlohmann::json event_to_json(const Event& event);
std::optional<Event> event_from_json(const nlohmann::json& json);

nlohmann::json room_to_json(const RoomState& state);
std::optional<RoomState> room_from_json(const nlohmann::json& json);

} // namespace colloquy::storage
