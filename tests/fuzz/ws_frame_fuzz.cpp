// libFuzzer target: any bytes through the WebSocket frame parser, fed whole and in pieces.
// Must never crash or hit undefined behaviour, and must find the same items however the bytes
// are split; what it reports must keep the RFC's rules (checked independently of the parser).
#include "core/text.hpp"
#include "net/ws_frame.hpp"

#include <cstdlib>
#include <string>
#include <vector>

namespace {

using colloquy::ws::FrameParser;
using colloquy::ws::Item;

constexpr std::size_t max_message = 1024; // small, so the fuzzer reaches the limit

struct Got {
  Item::Kind kind;
  std::string payload;
  std::uint16_t code;
  std::string reason;
  bool operator==(const Got&) const = default;
};

void check(bool ok) {
  if (!ok) std::abort();
}

std::vector<Got> parse(std::string bytes, std::size_t chunk, bool discard_at_start) {
  FrameParser parser(max_message);
  if (discard_at_start) parser.discard_data();
  std::vector<Got> out;
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    std::span<char> input(bytes.data() + at, std::min(chunk, bytes.size() - at));
    for (;;) {
      const Item item = parser.next(input);
      if (item.kind == Item::Kind::need_more) break;
      out.push_back({item.kind, std::string(item.payload), item.code, std::string(item.reason)});
    }
    check(input.empty());
    check(parser.bytes_wanted() >= 1);
  }
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte chooses how the rest is split, and whether we are closing already.
  const std::size_t chunk = (data[0] & 0x3F) + 1;
  const bool discarding = (data[0] & 0x40) != 0;
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);

  const auto whole = parse(bytes, bytes.size() + 1, discarding);
  check(parse(bytes, chunk, discarding) == whole);

  bool failed = false;
  for (std::size_t i = 0; i < whole.size(); ++i) {
    const Got& got = whole[i];
    switch (got.kind) {
    case Item::Kind::text:
      check(colloquy::utf8_length(got.payload).has_value());
      [[fallthrough]];
    case Item::Kind::binary:
      check(got.payload.size() <= max_message);
      check(!failed && !discarding);
      break;
    case Item::Kind::ping:
    case Item::Kind::pong:
      check(got.payload.size() <= colloquy::ws::max_control_payload);
      check(!failed && !discarding);
      break;
    case Item::Kind::fail:
      check(!failed && !discarding); // one failure, then only the peer's close
      check(got.code == 1002 || got.code == 1007 || got.code == 1009);
      check(!got.reason.empty());
      failed = true;
      break;
    case Item::Kind::close:
      check(i + 1 == whole.size()); // nothing after a close
      check(got.code == colloquy::ws::close_code::no_status || colloquy::ws::valid_close_code(got.code));
      check(colloquy::utf8_length(got.payload).has_value());
      break;
    case Item::Kind::need_more:
      check(false);
    }
  }
  return 0;
}
