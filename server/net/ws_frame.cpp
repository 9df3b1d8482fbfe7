// RFC 6455 framing, server side: see ws_frame.hpp. Section numbers below are the RFC's.
#include "net/ws_frame.hpp"

#include <algorithm>
#include <cstring>

namespace colloquy::ws {
namespace {

constexpr std::uint64_t ascii_mask = 0x8080808080808080ull;

bool is_control(std::uint8_t opcode) { return (opcode & 0x8) != 0; }

bool known_opcode(std::uint8_t opcode) {
  switch (static_cast<Opcode>(opcode)) {
  case Opcode::continuation:
  case Opcode::text:
  case Opcode::binary:
  case Opcode::close:
  case Opcode::ping:
  case Opcode::pong:
    return true;
  }
  return false;
}

// Header bytes a client frame needs, judged from the bytes buffered so far.
std::size_t header_needed(const char* header, std::size_t buffered) {
  if (buffered < 2) return 2;
  const auto b1 = static_cast<std::uint8_t>(header[1]);
  const std::size_t length_bytes = (b1 & 0x7F) == 126 ? 2 : (b1 & 0x7F) == 127 ? 8 : 0;
  return 2 + length_bytes + ((b1 & 0x80) ? 4 : 0);
}

std::uint64_t read_big_endian(const char* bytes, std::size_t n) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < n; ++i) value = (value << 8) | static_cast<std::uint8_t>(bytes[i]);
  return value;
}

} // namespace

bool Utf8Validator::feed(std::string_view bytes) {
  if (failed_) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* const end = p + bytes.size();
  while (p < end) {
    if (need_ == 0) {
      // JSON is mostly ASCII: skip it eight bytes at a time.
      std::uint64_t word;
      while (end - p >= 8 && (std::memcpy(&word, p, 8), (word & ascii_mask) == 0)) p += 8;
      if (p == end) break;
      const unsigned c = *p++;
      if (c < 0x80) continue;
      low_ = 0x80;
      high_ = 0xBF;
      if (c >= 0xC2 && c <= 0xDF) {
        need_ = 1;
      } else if (c == 0xE0) {
        need_ = 2;
        low_ = 0xA0; // no overlong three-byte forms
      } else if (c == 0xED) {
        need_ = 2;
        high_ = 0x9F; // no surrogates
      } else if (c >= 0xE1 && c <= 0xEF) {
        need_ = 2;
      } else if (c == 0xF0) {
        need_ = 3;
        low_ = 0x90; // no overlong four-byte forms
      } else if (c >= 0xF1 && c <= 0xF3) {
        need_ = 3;
      } else if (c == 0xF4) {
        need_ = 3;
        high_ = 0x8F; // nothing past U+10FFFF
      } else {
        failed_ = true; // a stray continuation byte, C0/C1 (overlong), or F5-FF
        return false;
      }
    } else {
      const unsigned c = *p++;
      if (c < low_ || c > high_) {
        failed_ = true;
        return false;
      }
      --need_;
      low_ = 0x80;
      high_ = 0xBF;
    }
  }
  return true;
}

bool valid_close_code(std::uint16_t code) {
  // 1004-1006 and 1015 are reserved and never sent; 1016-2999 are unassigned; 3000-4999 are
  // for libraries and applications.
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

Item FrameParser::next(std::span<char>& input) {
  if (release_pending_) release_message();
  while (!input.empty()) {
    if (state_ == State::done) {
      input = {}; // nothing after a close frame is read (5.5.1)
      break;
    }
    if (state_ == State::payload) {
      Item item = take_payload(input);
      if (item.kind != Item::Kind::need_more) return item;
      continue;
    }
    std::size_t needed = header_needed(header_, header_size_);
    while (header_size_ < needed && !input.empty()) {
      const std::size_t n = std::min(needed - header_size_, input.size());
      std::memcpy(header_ + header_size_, input.data(), n);
      header_size_ = static_cast<std::uint8_t>(header_size_ + n);
      input = input.subspan(n);
      needed = header_needed(header_, header_size_);
    }
    if (header_size_ < needed) break;
    Item item = start_frame();
    if (item.kind != Item::Kind::need_more) return item;
  }
  return {};
}

Item FrameParser::start_frame() {
  const auto b0 = static_cast<std::uint8_t>(header_[0]);
  const auto b1 = static_cast<std::uint8_t>(header_[1]);
  fin_ = (b0 & 0x80) != 0;
  opcode_ = b0 & 0x0F;
  masked_ = (b1 & 0x80) != 0;
  std::uint64_t size = b1 & 0x7F;
  std::size_t at = 2;
  bool minimal = true; // 5.2: "the minimal number of bytes MUST be used to encode the length"
  if (size == 126) {
    size = read_big_endian(header_ + at, 2);
    at += 2;
    minimal = size >= 126;
  } else if (size == 127) {
    size = read_big_endian(header_ + at, 8);
    at += 8;
    minimal = size > 0xFFFF && (size >> 63) == 0;
  }
  if (masked_) std::memcpy(mask_, header_ + at, 4);
  header_size_ = 0;
  mask_offset_ = 0;
  frame_size_ = remaining_ = size;
  state_ = State::payload;
  skip_frame_ = false;
  if (is_control(opcode_)) control_start_ = message_.size();

  if (discarding_) {
    if (static_cast<Opcode>(opcode_) != Opcode::close) {
      skip_frame_ = true;
    } else if (size > max_control_payload) {
      state_ = State::done; // too big to be a real close frame, but the peer is closing: stop
      return {Item::Kind::close, {}, close_code::no_status, {}};
    }
  } else {
    const std::uint8_t rsv = b0 & 0x70;
    // Every violation below is a protocol error (1002): 5.2 (reserved bits, opcodes, masking),
    // 5.4 (continuations), 5.5 (control frames).
    if (rsv != 0) return fail(close_code::protocol_error, "reserved_bits");
    if (!known_opcode(opcode_)) return fail(close_code::protocol_error, "unknown_opcode");
    if (!masked_) return fail(close_code::protocol_error, "unmasked_frame");
    if (!minimal) return fail(close_code::protocol_error, "bad_length");
    if (is_control(opcode_)) {
      if (!fin_) return fail(close_code::protocol_error, "fragmented_control_frame");
      if (size > max_control_payload) return fail(close_code::protocol_error, "control_frame_too_large");
    } else if (static_cast<Opcode>(opcode_) == Opcode::continuation) {
      if (message_opcode_ == 0) return fail(close_code::protocol_error, "unexpected_continuation");
    } else if (message_opcode_ != 0) {
      return fail(close_code::protocol_error, "expected_continuation");
    }
    if (!is_control(opcode_)) {
      if (size > max_message_ - message_size_) return fail(close_code::too_big, "frame_too_large");
      message_size_ += static_cast<std::size_t>(size);
      if (static_cast<Opcode>(opcode_) != Opcode::continuation) {
        message_opcode_ = opcode_;
        utf8_.reset();
      }
    }
  }
  if (remaining_ > 0) return {};
  std::span<char> empty;
  return take_payload(empty);
}

Item FrameParser::take_payload(std::span<char>& input) {
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, input.size()));
  const bool whole = remaining_ == frame_size_ && n == frame_size_;
  std::span<char> chunk = input.first(n);
  input = input.subspan(n);
  remaining_ -= n;
  if (skip_frame_) {
    if (remaining_ == 0) state_ = State::header;
    return {};
  }
  if (masked_) {
    // Eight bytes at a time with the mask turned to the current offset, then the tail.
    std::uint8_t turned[8];
    for (std::size_t i = 0; i < 8; ++i) turned[i] = mask_[(mask_offset_ + i) & 3];
    std::uint64_t mask64;
    std::memcpy(&mask64, turned, 8);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      std::uint64_t word;
      std::memcpy(&word, chunk.data() + i, 8);
      word ^= mask64;
      std::memcpy(chunk.data() + i, &word, 8);
    }
    for (; i < n; ++i) chunk[i] = static_cast<char>(chunk[i] ^ static_cast<char>(turned[i & 7]));
    mask_offset_ = static_cast<std::uint8_t>((mask_offset_ + n) & 3);
  }
  const std::string_view bytes(chunk.data(), n);

  if (is_control(opcode_)) {
    if (whole) {
      state_ = State::header;
      return finish_control(bytes);
    }
    message_.append(bytes); // after the fragments of a message in progress, cut off again later
    if (remaining_ > 0) return {};
    state_ = State::header;
    return finish_control(std::string_view(message_).substr(control_start_));
  }

  if (static_cast<Opcode>(message_opcode_) == Opcode::text && !utf8_.feed(bytes)) {
    return fail(close_code::invalid_payload, "invalid_utf8"); // noticed at once, not at the end (8.1)
  }
  if (whole && fin_ && message_.empty()) {
    state_ = State::header;
    return finish_message(bytes); // the common case: one frame within one read, never copied
  }
  message_.append(bytes);
  if (remaining_ > 0) return {};
  state_ = State::header;
  if (!fin_) return {};
  return finish_message(message_);
}

Item FrameParser::finish_control(std::string_view payload) {
  release_pending_ = true;
  switch (static_cast<Opcode>(opcode_)) {
  case Opcode::ping:
    return {Item::Kind::ping, payload, 0, {}};
  case Opcode::pong:
    return {Item::Kind::pong, payload, 0, {}};
  default:
    break;
  }
  // A close frame (5.5.1): answered with the peer's own code, or with ours when it is malformed.
  state_ = State::done;
  if (payload.empty()) return {Item::Kind::close, {}, close_code::no_status, {}};
  if (discarding_) return {Item::Kind::close, {}, close_code::no_status, {}}; // we closed first
  if (payload.size() == 1) return {Item::Kind::close, {}, close_code::protocol_error, "bad_close_payload"};
  const auto code = static_cast<std::uint16_t>(read_big_endian(payload.data(), 2));
  if (!valid_close_code(code)) return {Item::Kind::close, {}, close_code::protocol_error, "bad_close_code"};
  const std::string_view reason = payload.substr(2);
  Utf8Validator utf8;
  if (!utf8.feed(reason) || !utf8.complete()) return {Item::Kind::close, {}, close_code::invalid_payload, "invalid_utf8"};
  return {Item::Kind::close, reason, code, {}};
}

Item FrameParser::finish_message(std::string_view payload) {
  const auto opcode = static_cast<Opcode>(message_opcode_);
  message_opcode_ = 0;
  message_size_ = 0;
  control_start_ = 0;
  release_pending_ = true;
  if (opcode == Opcode::binary) return {Item::Kind::binary, payload, 0, {}};
  if (!utf8_.complete()) return fail(close_code::invalid_payload, "invalid_utf8"); // a sequence cut off at the end
  return {Item::Kind::text, payload, 0, {}};
}

Item FrameParser::fail(std::uint16_t code, std::string_view reason) {
  discarding_ = true;
  skip_frame_ = true; // the rest of this frame, if any
  if (state_ == State::payload && remaining_ == 0) state_ = State::header;
  message_opcode_ = 0;
  message_size_ = 0;
  control_start_ = 0;
  release_message();
  return {Item::Kind::fail, {}, code, reason};
}

void FrameParser::release_message() {
  release_pending_ = false;
  message_.resize(control_start_);
  // Keep a small buffer for the next message; give a big one back, so idle connections stay small.
  if (message_.empty() && message_.capacity() > 256) std::string().swap(message_);
}

std::size_t FrameParser::bytes_wanted() const {
  if (state_ == State::header) return header_needed(header_, header_size_) - header_size_;
  if (state_ == State::payload && remaining_ > 0) {
    return static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, max_message_ + 1));
  }
  return 1;
}

std::size_t encode_header(Opcode opcode, std::uint64_t payload_size, std::span<char, max_server_header> out) {
  out[0] = static_cast<char>(0x80 | static_cast<std::uint8_t>(opcode)); // FIN, no RSV bits
  if (payload_size < 126) {
    out[1] = static_cast<char>(payload_size);
    return 2;
  }
  if (payload_size <= 0xFFFF) {
    out[1] = 126;
    out[2] = static_cast<char>(payload_size >> 8);
    out[3] = static_cast<char>(payload_size & 0xFF);
    return 4;
  }
  out[1] = 127;
  for (std::size_t i = 0; i < 8; ++i) out[2 + i] = static_cast<char>((payload_size >> (56 - 8 * i)) & 0xFF);
  return 10;
}

std::string close_payload(std::uint16_t code, std::string_view reason) {
  std::size_t cut = std::min(reason.size(), max_close_reason);
  while (cut > 0 && cut < reason.size() && (static_cast<std::uint8_t>(reason[cut]) & 0xC0) == 0x80) --cut;
  std::string payload;
  payload.reserve(2 + cut);
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason.substr(0, cut));
  return payload;
}

} // namespace colloquy::ws
