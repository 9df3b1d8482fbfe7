#pragma once
// Secrets (facilitator keys, join codes, resume tokens): stored only as SHA-256, compared in
// constant time so response timing reveals nothing about how close a guess was. Hashing, the
// comparison, base64url, hex and random bytes come from libsodium.
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace colloquy {

using Sha256 = std::array<std::uint8_t, 32>;

Sha256 sha256(std::string_view data);
// Lowercase hex, two digits per byte.
std::string to_hex(std::span<const std::uint8_t> bytes);

// SHA-256 of the secret, as 64 lowercase hex digits: the only form in which a secret is kept.
std::string secret_hash(std::string_view secret);

// Compares two strings without an early exit on the first difference.
bool constant_time_equal(std::string_view a, std::string_view b);

// base64url without padding (RFC 4648 section 5): 16 random bytes give a 22-character secret.
std::string base64url(std::span<const std::uint8_t> bytes);

// Lowercase RFC 4648 base32 without padding: 10 random bytes give a 16-character room id.
std::string base32(std::span<const std::uint8_t> bytes);

// Fills `out` from the operating system's CSPRNG (libsodium's randombytes_buf; never fails).
void random_bytes(std::span<std::uint8_t> out);

// `bytes` random bytes as 2 * bytes lowercase hex digits.
std::string random_hex(std::size_t bytes);

} // namespace colloquy
