#pragma once
// Wire protocol (protocol/README.md): the command decoders, command structs and event codecs are
// generated from protocol/messages.json (protocol/generated/); this adds the envelopes the server
// sends and the snapshot, which is made from the room's composed state. No I/O.
#include "core/error_code.hpp"
#include "core/room.hpp"
#include "protocol/generated/messages.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace colloquy::protocol {

inline constexpr int version = protocol_major;

std::string encode_reply(std::string_view id, const nlohmann::json& result);
// retry_after_ms > 0: when the command would be accepted (rate_limited).
std::string encode_error(const std::optional<std::string>& id, ErrorCode code, std::string_view message,
                         std::int64_t retry_after_ms = 0);
// {"type":"prompts_pending","room":…,"prompts":[{"id","text","held"}]} (1.3).
struct PendingView { std::string id; std::string text; bool held = false; };
std::string encode_prompts_pending(std::string_view room_id, const std::vector<PendingView>& prompts);

std::string encode_welcome(std::string_view server, std::int64_t server_time_ms, std::size_t max_frame_bytes);

std::string encode_event_push(std::string_view room_id, const Event& event);

// {"type":"ephemeral","room":…,"from":member,"kind":…,"data":…} (1.4): one member's ephemeral
// message to the others; `data` as the decoder checked it (EphemeralCommand::data).
std::string encode_ephemeral(std::string_view room_id, std::string_view from, EphemeralKind kind, const nlohmann::json& data);

nlohmann::json member_to_wire(const Member& member, bool with_presence);
// The room as `viewer` sees it (empty: as anyone sees it): a breakout group's flags only for its
// members and the facilitators.
nlohmann::json snapshot_to_wire(const RoomState& state, std::string_view viewer = {});

} // namespace colloquy::protocol
