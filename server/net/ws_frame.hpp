#pragma once
// WebSocket framing (RFC 6455), server side: a parser fed client bytes incrementally and an encoder
// of server frame headers. No I/O, no Asio or Beast: the session feeds it what it reads.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace colloquy::ws {

enum class Opcode : std::uint8_t { continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA };

// The close codes this server sends (RFC 6455 7.4.1) besides its own 4000-4999.
namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t no_status = 1005; // never sent: stands for a close frame without a code
inline constexpr std::uint16_t invalid_payload = 1007;
inline constexpr std::uint16_t too_big = 1009;
} // namespace close_code

inline constexpr std::size_t max_control_payload = 125;
inline constexpr std::size_t max_close_reason = max_control_payload - 2;
inline constexpr std::size_t max_server_header = 10; // unmasked: 2 + 8 bytes of length at most

// Incremental UTF-8 validation (Unicode 15, table 3-7): rejects overlong forms, surrogates and code
// points past U+10FFFF as soon as the offending byte arrives, so a sequence may span many feeds.
class Utf8Validator {
public:
  // False once the bytes so far cannot begin valid UTF-8; stays false.
  bool feed(std::string_view bytes);
  // True when everything fed is valid and no sequence is left open.
  bool complete() const { return !failed_ && need_ == 0; }
  void reset() { *this = Utf8Validator(); }

private:
  std::uint8_t need_ = 0;    // continuation bytes still expected
  std::uint8_t low_ = 0x80;  // the range the next continuation byte must be in
  std::uint8_t high_ = 0xBF;
  bool failed_ = false;
};

// Whether a close code may appear in a close frame from the peer (RFC 6455 7.4, IANA registry).
bool valid_close_code(std::uint16_t code);

// One thing the parser found. Views point into the bytes fed or into the parser and stay valid
// until the next call to next() (and, for the bytes fed, as long as the caller keeps them).
struct Item {
  enum class Kind : std::uint8_t { need_more, text, binary, ping, pong, close, fail };
  Kind kind = Kind::need_more;
  std::string_view payload;  // the message, or the ping/pong payload, or the close reason
  std::uint16_t code = 0;    // close: the peer's code (no_status when it gave none); fail: ours
  std::string_view reason;   // fail: the reason to close with (static text)
};

// Parses the frames a client sends. Messages come whole (fragments joined, text validated as
// UTF-8 across them); control frames come as they arrive, also between fragments. A violation
// gives one `fail` with the close code and reason to answer; from then on (as after
// discard_data()) data is skipped and only the peer's close frame is still reported, so the close
// handshake can finish. After a close frame nothing more is parsed.
class FrameParser {
public:
  // Messages (all fragments together) larger than this fail with 1009 "frame_too_large".
  explicit FrameParser(std::size_t max_message_bytes) : max_message_(max_message_bytes) {}

  // Consumes bytes from the front of `input` (unmasking payloads in place) and returns the next
  // item, or need_more once `input` is empty.
  Item next(std::span<char>& input);

  // We are closing: skip data frames and pings from now on, report only the peer's close.
  void discard_data() { discarding_ = true; }

  // Bytes the frame in progress still needs: a hint for sizing the next read (at least 1).
  std::size_t bytes_wanted() const;

  // At a frame boundary with no message in progress and no buffered bytes.
  bool idle() const { return state_ == State::header && header_size_ == 0 && message_opcode_ == 0; }

private:
  enum class State : std::uint8_t { header, payload, done };

  Item start_frame();
  Item take_payload(std::span<char>& input);
  Item finish_control(std::string_view payload);
  Item finish_message(std::string_view payload);
  Item fail(std::uint16_t code, std::string_view reason);
  void release_message();

  std::size_t max_message_;
  std::string message_;             // fragments so far, then (after them) a control frame's payload
  std::size_t control_start_ = 0;   // where a buffered control payload starts in message_
  std::uint64_t remaining_ = 0;     // payload bytes of the current frame still to come
  std::uint64_t frame_size_ = 0;    // payload bytes of the current frame
  std::size_t message_size_ = 0;    // payload bytes of the message in progress (all fragments)
  Utf8Validator utf8_;
  State state_ = State::header;
  char header_[14] = {};
  std::uint8_t header_size_ = 0;    // header bytes buffered so far
  std::uint8_t mask_[4] = {};
  std::uint8_t mask_offset_ = 0;
  std::uint8_t opcode_ = 0;         // of the current frame
  std::uint8_t message_opcode_ = 0; // text or binary while a fragmented message is in progress
  bool fin_ = false;
  bool masked_ = false;
  bool skip_frame_ = false;         // the current frame's payload is dropped
  bool discarding_ = false;
  bool release_pending_ = false;    // message_ holds what the last item pointed to
};

// Writes the header of one unfragmented, unmasked server frame into `out`; returns its size.
std::size_t encode_header(Opcode opcode, std::uint64_t payload_size, std::span<char, max_server_header> out);

// The payload of a close frame: the code (big-endian) and the reason, cut to 123 bytes at a
// character boundary.
std::string close_payload(std::uint16_t code, std::string_view reason);

} // namespace colloquy::ws
