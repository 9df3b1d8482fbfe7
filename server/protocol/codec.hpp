#pragma once
// Wire protocol v1 (protocol/README.md): strict decoding of client commands and encoding of
// replies, errors and pushes. No I/O.
#include "core/error_code.hpp"
#include "core/room.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace colloquy::protocol {

inline constexpr int version = 1;
inline constexpr std::size_t max_id_chars = 64;
inline constexpr std::size_t max_room_chars = 64;
inline constexpr std::size_t max_secret_chars = 128;
inline constexpr std::uint64_t max_seq = (std::uint64_t{1} << 53) - 1; // the largest integer JavaScript holds exactly

struct JoinCommand {
  std::string room;
  Credential credential = Credential::join_code;
  std::string secret;
  std::string name; // cleaned (trimmed, checked); empty for resume
  std::optional<std::uint64_t> after; // resume only: the last seq the client applied (catch up from there)
};
struct LeaveCommand {};
struct PingCommand {};

using ClientCommand = std::variant<JoinCommand, LeaveCommand, PingCommand>;

struct DecodedCommand {
  std::string id;
  ClientCommand command;
};

struct DecodeError {
  ErrorCode code;
  std::optional<std::string> id; // the command's id when it could be read
  std::string message;
};

std::variant<DecodedCommand, DecodeError> decode_command(std::string_view frame);

std::string encode_reply(std::string_view id, const nlohmann::json& result);
std::string encode_error(const std::optional<std::string>& id, ErrorCode code, std::string_view message);
std::string encode_welcome(std::string_view server, std::int64_t server_time_ms, std::size_t max_frame_bytes);

// The wire form of an event body: never includes hashes of secrets.
nlohmann::json event_to_wire(const EventBody& body);
// Reads the wire form back (for conformance tests and clients of the log); nothing if malformed.
std::optional<EventBody> event_from_wire(const nlohmann::json& json);
std::string encode_event_push(std::string_view room_id, const Event& event);

nlohmann::json member_to_wire(const Member& member, bool with_presence);
nlohmann::json snapshot_to_wire(const RoomState& state);

} // namespace colloquy::protocol
