#pragma once
// Every stable error code of the protocol, in one place (protocol/README.md#error-codes mirrors it).
#include <string_view>

namespace colloquy {

enum class ErrorCode {
  bad_json,
  bad_frame,
  unknown_type,
  missing_field,
  invalid_field,
  unknown_field,
  invalid_name,
  invalid_title,
  room_not_found,
  bad_credentials,
  room_full,
  server_full,
  already_joined,
  not_joined,
  not_found,
  method_not_allowed,
  payload_too_large,
  unsupported_media_type,
  bad_request,
  forbidden_origin,
  unavailable,
  forbidden,
  not_your_turn,
  no_round,
  no_turn,
  round_in_progress,
  queue_empty,
  hand_already_raised,
  hand_not_raised,
  unknown_member,
  invalid_duration,
  timer_not_running,
  facilitator_present,
  invalid_text,
  rate_limited,
  unknown_prompt,
  already_voted,
  no_audit,
  audit_in_progress,
  invalid_answer,
  already_answered,
  unknown_card,
  deck_empty,
  busy,
  outcome_unknown,
  internal,
};

constexpr std::string_view to_string(ErrorCode code) {
  switch (code) {
  case ErrorCode::bad_json: return "bad_json";
  case ErrorCode::bad_frame: return "bad_frame";
  case ErrorCode::unknown_type: return "unknown_type";
  case ErrorCode::missing_field: return "missing_field";
  case ErrorCode::invalid_field: return "invalid_field";
  case ErrorCode::unknown_field: return "unknown_field";
  case ErrorCode::invalid_name: return "invalid_name";
  case ErrorCode::invalid_title: return "invalid_title";
  case ErrorCode::room_not_found: return "room_not_found";
  case ErrorCode::bad_credentials: return "bad_credentials";
  case ErrorCode::room_full: return "room_full";
  case ErrorCode::server_full: return "server_full";
  case ErrorCode::already_joined: return "already_joined";
  case ErrorCode::not_joined: return "not_joined";
  case ErrorCode::not_found: return "not_found";
  case ErrorCode::method_not_allowed: return "method_not_allowed";
  case ErrorCode::payload_too_large: return "payload_too_large";
  case ErrorCode::unsupported_media_type: return "unsupported_media_type";
  case ErrorCode::bad_request: return "bad_request";
  case ErrorCode::forbidden_origin: return "forbidden_origin";
  case ErrorCode::unavailable: return "unavailable";
  case ErrorCode::forbidden: return "forbidden";
  case ErrorCode::not_your_turn: return "not_your_turn";
  case ErrorCode::no_round: return "no_round";
  case ErrorCode::no_turn: return "no_turn";
  case ErrorCode::round_in_progress: return "round_in_progress";
  case ErrorCode::queue_empty: return "queue_empty";
  case ErrorCode::hand_already_raised: return "hand_already_raised";
  case ErrorCode::hand_not_raised: return "hand_not_raised";
  case ErrorCode::unknown_member: return "unknown_member";
  case ErrorCode::invalid_duration: return "invalid_duration";
  case ErrorCode::timer_not_running: return "timer_not_running";
  case ErrorCode::facilitator_present: return "facilitator_present";
  case ErrorCode::invalid_text: return "invalid_text";
  case ErrorCode::rate_limited: return "rate_limited";
  case ErrorCode::unknown_prompt: return "unknown_prompt";
  case ErrorCode::already_voted: return "already_voted";
  case ErrorCode::no_audit: return "no_audit";
  case ErrorCode::audit_in_progress: return "audit_in_progress";
  case ErrorCode::invalid_answer: return "invalid_answer";
  case ErrorCode::already_answered: return "already_answered";
  case ErrorCode::unknown_card: return "unknown_card";
  case ErrorCode::deck_empty: return "deck_empty";
  case ErrorCode::busy: return "busy";
  case ErrorCode::outcome_unknown: return "outcome_unknown";
  case ErrorCode::internal: return "internal";
  }
  return "internal";
}

// A refusal: the stable code and a sentence for people.
struct Error {
  ErrorCode code;
  std::string_view message;
};

} // namespace colloquy
