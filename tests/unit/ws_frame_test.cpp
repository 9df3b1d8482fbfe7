// WebSocket framing (RFC 6455, server side): the parser fed whole, in chunks and byte by byte;
// every protocol rule; the limits exactly at and one past; UTF-8 across fragments; the encoder.
#include "net/ws_frame.hpp"

#include <gtest/gtest.h>

#include <array>
#include <initializer_list>
#include <string>
#include <vector>

namespace colloquy::ws {
namespace {

using Kind = Item::Kind;

constexpr std::uint8_t fin = 0x80;
constexpr std::uint8_t text_op = 0x1, binary_op = 0x2, close_op = 0x8, ping_op = 0x9, pong_op = 0xA;

enum class Length { minimal, form16, form64 };

// A client frame: first byte as given, masked unless told otherwise, length in the form asked.
std::string client_frame(std::uint8_t b0, std::string_view payload, bool masked = true, Length form = Length::minimal,
                         std::array<std::uint8_t, 4> key = {0x37, 0xFA, 0x21, 0x3D}) {
  std::string out(1, static_cast<char>(b0));
  const std::uint8_t mask_bit = masked ? 0x80 : 0;
  const std::size_t n = payload.size();
  if (form == Length::minimal && n < 126) {
    out.push_back(static_cast<char>(mask_bit | n));
  } else if (form == Length::form64 || (form == Length::minimal && n > 0xFFFF)) {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((std::uint64_t{n} >> shift) & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xFF));
  }
  if (masked) out.append(reinterpret_cast<const char*>(key.data()), 4);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(masked ? static_cast<char>(payload[i] ^ static_cast<char>(key[i % 4])) : payload[i]);
  }
  return out;
}

std::string close_body(std::uint16_t code, std::string_view reason = {}) {
  std::string body{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
  return body.append(reason);
}

struct Got {
  Kind kind;
  std::string payload;
  std::uint16_t code;
  std::string reason;
  bool operator==(const Got&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Got& g) {
  return os << "{kind " << static_cast<int>(g.kind) << ", payload '" << g.payload << "', code " << g.code << ", reason '"
            << g.reason << "'}";
}

// Feeds `bytes` in pieces of `chunk` bytes (0: all at once) and collects every item.
std::vector<Got> parse(std::string bytes, std::size_t chunk = 0, std::size_t max = 1024, FrameParser* use = nullptr) {
  FrameParser own(max);
  FrameParser& parser = use ? *use : own;
  std::vector<Got> out;
  const std::size_t step = chunk == 0 ? bytes.size() : chunk;
  for (std::size_t at = 0; at < bytes.size(); at += step) {
    std::span<char> input(bytes.data() + at, std::min(step, bytes.size() - at));
    for (;;) {
      const Item item = parser.next(input);
      if (item.kind == Kind::need_more) break;
      out.push_back({item.kind, std::string(item.payload), item.code, std::string(item.reason)});
    }
    EXPECT_TRUE(input.empty());
  }
  return out;
}

// The same items whole, in chunks of 1, 2, 3, 7 and 64 bytes.
void expect_items(const std::string& bytes, const std::vector<Got>& expected, std::size_t max = 1024) {
  for (std::size_t chunk : {0, 1, 2, 3, 7, 64}) {
    EXPECT_EQ(parse(bytes, chunk, max), expected) << "fed in chunks of " << chunk;
  }
}

Got text(std::string s) { return {Kind::text, std::move(s), 0, ""}; }
Got failed(std::uint16_t code, std::string reason) { return {Kind::fail, "", code, std::move(reason)}; }
Got closed(std::uint16_t code, std::string reason = "", std::string payload = "") {
  return {Kind::close, std::move(payload), code, std::move(reason)};
}

TEST(FrameParser, ReadsAMaskedTextFrame) {
  expect_items(client_frame(fin | text_op, R"({"type":"ping","id":"1"})"), {text(R"({"type":"ping","id":"1"})")});
}

TEST(FrameParser, ReadsSeveralFramesInOneReadAndByteByByte) {
  const std::string bytes = client_frame(fin | text_op, "one") + client_frame(fin | ping_op, "p") +
                            client_frame(fin | text_op, "") + client_frame(fin | binary_op, std::string_view("\xFF\x00", 2)) +
                            client_frame(fin | pong_op, "") + client_frame(fin | text_op, "two");
  expect_items(bytes, {text("one"), {Kind::ping, "p", 0, ""}, text(""), {Kind::binary, std::string("\xFF\x00", 2), 0, ""},
                       {Kind::pong, "", 0, ""}, text("two")});
}

TEST(FrameParser, UnmasksAcrossReadsAtEveryOffset) {
  std::string payload;
  for (int i = 0; i < 1000; ++i) payload.push_back(static_cast<char>('a' + i % 26));
  for (std::size_t chunk : {5, 9, 13, 333}) {
    EXPECT_EQ(parse(client_frame(fin | text_op, payload), chunk), std::vector<Got>{text(payload)});
  }
}

TEST(FrameParser, JoinsFragmentsWithControlFramesBetweenThem) {
  const std::string bytes = client_frame(text_op, "{\"type\":") + client_frame(fin | ping_op, "are you there") +
                            client_frame(0x0, "\"ping\",") + client_frame(fin | pong_op, "x") + client_frame(0x0, "") +
                            client_frame(fin | 0x0, "\"id\":\"f\"}") + client_frame(fin | text_op, "next");
  expect_items(bytes, {{Kind::ping, "are you there", 0, ""},
                       {Kind::pong, "x", 0, ""},
                       text(R"({"type":"ping","id":"f"})"),
                       text("next")});
}

TEST(FrameParser, JoinsBinaryFragments) {
  expect_items(client_frame(binary_op, "ab") + client_frame(fin | 0x0, "cd"), {{Kind::binary, "abcd", 0, ""}});
}

TEST(FrameParser, ACloseBetweenFragmentsEndsTheConnection) {
  expect_items(client_frame(text_op, "half") + client_frame(fin | close_op, close_body(1000)) + client_frame(fin | 0x0, "rest"),
               {closed(1000)});
}

TEST(FrameParser, AnUnmaskedFrameIsAProtocolError) {
  expect_items(client_frame(fin | text_op, "hello", false), {failed(1002, "unmasked_frame")});
}

TEST(FrameParser, ReservedBitsAreAProtocolError) {
  for (int rsv : {0x40, 0x20, 0x10, 0x70}) {
    expect_items(client_frame(static_cast<std::uint8_t>(fin | rsv | text_op), "x"), {failed(1002, "reserved_bits")});
  }
}

TEST(FrameParser, UnknownOpcodesAreAProtocolError) {
  for (int op : {0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    expect_items(client_frame(static_cast<std::uint8_t>(fin | op), "x"), {failed(1002, "unknown_opcode")});
  }
}

TEST(FrameParser, ControlFramesAreAtMost125BytesAndNeverFragmented) {
  const std::string at_limit(125, 'p');
  expect_items(client_frame(fin | ping_op, at_limit), {{Kind::ping, at_limit, 0, ""}});
  expect_items(client_frame(fin | ping_op, at_limit + "p"), {failed(1002, "control_frame_too_large")});
  expect_items(client_frame(fin | close_op, close_body(1000, std::string(124, 'r'))), {failed(1002, "control_frame_too_large")});
  expect_items(client_frame(ping_op, "p"), {failed(1002, "fragmented_control_frame")});
  expect_items(client_frame(close_op, close_body(1000)), {failed(1002, "fragmented_control_frame")});
}

TEST(FrameParser, ContinuationsMustContinueAMessage) {
  expect_items(client_frame(fin | 0x0, "orphan"), {failed(1002, "unexpected_continuation")});
  expect_items(client_frame(text_op, "a") + client_frame(fin | text_op, "b"), {failed(1002, "expected_continuation")});
  expect_items(client_frame(text_op, "a") + client_frame(fin | binary_op, "b"), {failed(1002, "expected_continuation")});
}

TEST(FrameParser, LengthsMustUseTheShortestForm) {
  expect_items(client_frame(fin | text_op, "short", true, Length::form16), {failed(1002, "bad_length")});
  expect_items(client_frame(fin | text_op, std::string(300, 'a'), true, Length::form64), {failed(1002, "bad_length")});
  std::string top_bit = client_frame(fin | text_op, "", true, Length::form64);
  top_bit[2] = static_cast<char>(0x80);
  expect_items(top_bit, {failed(1002, "bad_length")});
  // Both long forms are read when they are the shortest.
  const std::string mid(126, 'm'), big(70'000, 'b');
  EXPECT_EQ(parse(client_frame(fin | text_op, mid), 0, 100'000), std::vector<Got>{text(mid)});
  EXPECT_EQ(parse(client_frame(fin | text_op, big), 0, 100'000), std::vector<Got>{text(big)});
}

TEST(FrameParser, AMessageOfExactlyTheLimitIsRead) {
  const std::string payload(1024, 'x');
  expect_items(client_frame(fin | text_op, payload), {text(payload)});
  // The limit counts all fragments together.
  expect_items(client_frame(text_op, payload.substr(0, 1000)) + client_frame(fin | 0x0, payload.substr(1000)), {text(payload)});
}

TEST(FrameParser, OneByteOverTheLimitIs1009FrameTooLarge) {
  const std::string payload(1025, 'x');
  expect_items(client_frame(fin | text_op, payload), {failed(1009, "frame_too_large")});
  expect_items(client_frame(text_op, payload.substr(0, 1000)) + client_frame(fin | 0x0, payload.substr(1000)),
               {failed(1009, "frame_too_large")});
  expect_items(client_frame(fin | binary_op, payload), {failed(1009, "frame_too_large")});
}

TEST(FrameParser, TheLimitIsNoticedFromTheHeaderBeforeAnyPayload) {
  FrameParser parser(1024);
  std::string frame = client_frame(fin | text_op, std::string(5000, 'x'));
  std::span<char> header(frame.data(), 8); // 2 + 2 length bytes + 4 mask bytes
  EXPECT_EQ(parser.next(header).kind, Kind::fail);
}

TEST(FrameParser, InvalidUtf8InTextIs1007) {
  for (std::string bad : {"\xC0\x80", "\xC1\xBF", "\xE0\x80\x80", "\xE0\x9F\xBF", "\xF0\x80\x80\x80", "\xF0\x8F\xBF\xBF", // overlong
                          "\xED\xA0\x80", "\xED\xBF\xBF",                                                                  // surrogates
                          "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xFF", "\xFE",                                          // past U+10FFFF
                          "\x80", "a\xBF", "\xC3(", "\xE2\x82(", "\xE2\x82"}) {                                             // stray, cut
    expect_items(client_frame(fin | text_op, "ok " + bad), {failed(1007, "invalid_utf8")});
  }
}

TEST(FrameParser, Utf8IsValidatedAcrossFragments) {
  // U+20AC (E2 82 AC) and U+1F600 (F0 9F 98 80) split between fragments, with a ping between.
  const std::string ok = client_frame(text_op, "price \xE2") + client_frame(0x0, "\x82") + client_frame(fin | ping_op, "") +
                         client_frame(0x0, "\xAC smile \xF0\x9F") + client_frame(fin | 0x0, "\x98\x80");
  expect_items(ok, {{Kind::ping, "", 0, ""}, text("price \xE2\x82\xAC smile \xF0\x9F\x98\x80")});
  // A sequence still open when the message ends.
  expect_items(client_frame(text_op, "a") + client_frame(fin | 0x0, "\xE2\x82"), {failed(1007, "invalid_utf8")});
  // A surrogate split between fragments.
  expect_items(client_frame(text_op, "a\xED") + client_frame(fin | 0x0, "\xA0\x80"), {failed(1007, "invalid_utf8")});
}

TEST(FrameParser, InvalidUtf8IsNoticedBeforeTheMessageEnds) {
  FrameParser parser(1024);
  std::string first = client_frame(text_op, "abc\xFF" + std::string(100, 'a'));
  std::span<char> part(first.data(), 6 + 4); // the header and the first four payload bytes
  EXPECT_EQ(parser.next(part).kind, Kind::fail);
}

TEST(FrameParser, BinaryMessagesAreNotCheckedAsText) {
  expect_items(client_frame(fin | binary_op, "\xC0\x80\xFF"), {{Kind::binary, "\xC0\x80\xFF", 0, ""}});
}

TEST(FrameParser, ReadsCloseFrames) {
  expect_items(client_frame(fin | close_op, ""), {closed(close_code::no_status)});
  expect_items(client_frame(fin | close_op, close_body(1000, "bye")), {closed(1000, "", "bye")});
  expect_items(client_frame(fin | close_op, close_body(4001, "caf\xC3\xA9")), {closed(4001, "", "caf\xC3\xA9")});
  for (std::uint16_t code : std::initializer_list<std::uint16_t>{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4000, 4999}) {
    expect_items(client_frame(fin | close_op, close_body(code)), {closed(code)});
  }
}

TEST(FrameParser, AMalformedCloseFrameIsAnsweredWithOurCode) {
  expect_items(client_frame(fin | close_op, "\x03"), {closed(1002, "bad_close_payload")});
  for (std::uint16_t code : std::initializer_list<std::uint16_t>{0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}) {
    expect_items(client_frame(fin | close_op, close_body(code)), {closed(1002, "bad_close_code")});
  }
  expect_items(client_frame(fin | close_op, close_body(1000, "\xED\xA0\x80")), {closed(1007, "invalid_utf8")});
}

TEST(FrameParser, NothingIsReadAfterAClose) {
  expect_items(client_frame(fin | close_op, close_body(1000)) + client_frame(fin | text_op, "late") + "\xFF\xFF garbage",
               {closed(1000)});
}

TEST(FrameParser, AfterAFailureDataIsSkippedButThePeersCloseIsStillSeen) {
  // An unmasked frame, then more data, a ping, and the peer's answer to our close.
  expect_items(client_frame(fin | text_op, "bad", false) + client_frame(fin | text_op, "skipped") +
                   client_frame(fin | ping_op, "skipped") + client_frame(fin | close_op, close_body(1002)),
               {failed(1002, "unmasked_frame"), closed(close_code::no_status)});
  // The oversized frame's payload is skipped whole, however it arrives.
  expect_items(client_frame(fin | text_op, std::string(3000, 'x')) + client_frame(fin | close_op, ""),
               {failed(1009, "frame_too_large"), closed(close_code::no_status)});
  // Invalid UTF-8 mid-frame: the rest of the frame is skipped.
  expect_items(client_frame(fin | text_op, "\xFF" + std::string(50, 'x')) + client_frame(fin | close_op, close_body(1000)),
               {failed(1007, "invalid_utf8"), closed(close_code::no_status)});
}

TEST(FrameParser, DiscardDataSkipsMessagesUntilTheClose) {
  FrameParser parser(1024);
  parser.discard_data();
  EXPECT_EQ(parse(client_frame(fin | text_op, "x") + client_frame(fin | ping_op, "") + client_frame(text_op, "frag") +
                      client_frame(fin | close_op, close_body(1000)),
                  0, 1024, &parser),
            std::vector<Got>{closed(close_code::no_status)});
}

TEST(FrameParser, ReportsWhatTheFrameInProgressStillNeeds) {
  FrameParser parser(100'000);
  EXPECT_TRUE(parser.idle());
  EXPECT_EQ(parser.bytes_wanted(), 2u);
  std::string frame = client_frame(fin | text_op, std::string(5000, 'w'));
  std::span<char> first(frame.data(), 2);
  EXPECT_EQ(parser.next(first).kind, Kind::need_more);
  EXPECT_EQ(parser.bytes_wanted(), 6u); // 2 length bytes and the mask
  std::span<char> more(frame.data() + 2, 6 + 1000);
  EXPECT_EQ(parser.next(more).kind, Kind::need_more);
  EXPECT_FALSE(parser.idle());
  EXPECT_EQ(parser.bytes_wanted(), 4000u);
  std::span<char> rest(frame.data() + 1008, frame.size() - 1008);
  EXPECT_EQ(parser.next(rest).kind, Kind::text);
  EXPECT_TRUE(parser.idle());
}

TEST(Utf8Validator, AcceptsEveryBoundaryCodePoint) {
  for (std::string ok : {"\x7F", "\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xEC\xBF\xBF", "\xED\x9F\xBF", "\xEE\x80\x80",
                         "\xEF\xBF\xBF", "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF", "plain ASCII, longer than eight bytes"}) {
    Utf8Validator v;
    EXPECT_TRUE(v.feed(ok) && v.complete()) << ok;
    // And byte by byte.
    Utf8Validator bytes;
    for (char c : ok) EXPECT_TRUE(bytes.feed(std::string_view(&c, 1)));
    EXPECT_TRUE(bytes.complete());
  }
}

TEST(Utf8Validator, StaysFailed) {
  Utf8Validator v;
  EXPECT_FALSE(v.feed("\xC0"));
  EXPECT_FALSE(v.feed("a"));
  EXPECT_FALSE(v.complete());
  v.reset();
  EXPECT_TRUE(v.feed("a") && v.complete());
}

TEST(Encoder, WritesUnmaskedHeadersInTheShortestForm) {
  std::array<char, max_server_header> out{};
  const auto header = [&](std::uint64_t size) {
    const std::size_t n = encode_header(Opcode::text, size, out);
    return std::string(out.data(), n);
  };
  EXPECT_EQ(header(0), std::string("\x81\x00", 2));
  EXPECT_EQ(header(125), "\x81\x7D");
  EXPECT_EQ(header(126), std::string("\x81\x7E\x00\x7E", 4));
  EXPECT_EQ(header(65535), "\x81\x7E\xFF\xFF");
  EXPECT_EQ(header(65536), std::string("\x81\x7F\x00\x00\x00\x00\x00\x01\x00\x00", 10));
  EXPECT_EQ(encode_header(Opcode::close, 2, out), 2u);
  EXPECT_EQ(static_cast<std::uint8_t>(out[0]), 0x88);
  EXPECT_EQ(encode_header(Opcode::pong, 0, out), 2u);
  EXPECT_EQ(static_cast<std::uint8_t>(out[0]), 0x8A);
}

TEST(Encoder, WhatItWritesTheParserReads) {
  // A server frame, masked the way a client would, round-trips (the header's form is shared).
  for (std::size_t size : {0u, 125u, 126u, 65535u, 65536u}) {
    const std::string payload(size, 'z');
    std::array<char, max_server_header> out{};
    const std::size_t n = encode_header(Opcode::text, size, out);
    std::string frame(out.data(), n);
    frame[1] = static_cast<char>(frame[1] | 0x80); // masked, key 0: the payload is unchanged
    frame.append(4, '\0').append(payload);
    EXPECT_EQ(parse(frame, 0, 100'000), std::vector<Got>{text(payload)}) << size;
  }
}

TEST(Encoder, ClosePayloadHasTheCodeAndACutReason) {
  EXPECT_EQ(close_payload(4001, "slow_consumer"), "\x0F\xA1slow_consumer");
  EXPECT_EQ(close_payload(1000, "").size(), 2u);
  const std::string long_reason(200, 'r');
  EXPECT_EQ(close_payload(1000, long_reason).size(), 125u);
  // Never cut inside a character: 122 ASCII bytes then "é" (2 bytes) cuts before it.
  const std::string accent = std::string(122, 'a') + "\xC3\xA9";
  EXPECT_EQ(close_payload(1000, accent), close_body(1000, std::string(122, 'a')));
}

} // namespace
} // namespace colloquy::ws
