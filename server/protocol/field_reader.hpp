#pragma once
// The field readers the generated command decoders (protocol/generated/messages.cpp) are made of:
// each checks one JSON value and says what is wrong with it, with the protocol's error codes.
#include "core/error_code.hpp"
#include "core/text.hpp"
#include "protocol/generated/messages.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace colloquy::protocol::reader {

using json = nlohmann::json;

inline bool valid_length(const std::string& s, std::size_t max_chars) {
  const auto n = utf8_length(s);
  return n && *n >= 1 && *n <= max_chars;
}

inline const json* find(const json& object, const char* name) {
  auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

inline DecodeError fail(ErrorCode code, const std::optional<std::string>& id, std::string message) {
  return DecodeError{code, id, std::move(message)};
}
inline DecodeError missing(const std::string& id, const char* name) {
  return fail(ErrorCode::missing_field, id, std::string("missing field '") + name + "'");
}
inline DecodeError invalid(const std::string& id, const char* name, const char* what) {
  return fail(ErrorCode::invalid_field, id, std::string("field '") + name + "' " + what);
}

// The first field that is neither allowed nor (in a command, not in an object inside it) the
// envelope's `type` and `id`, if any.
inline std::optional<DecodeError> only_fields(const json& object, const std::string& id,
                                              std::initializer_list<std::string_view> allowed, bool envelope = true) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    const std::string& key = it.key();
    if (envelope && (key == "type" || key == "id")) continue;
    bool known = false;
    for (auto a : allowed) known = known || key == a;
    if (!known) return fail(ErrorCode::unknown_field, id, "unknown field '" + key + "'");
  }
  return std::nullopt;
}

// A string of 1..max_chars code points.
inline std::optional<DecodeError> read_string(const json& v, const std::string& id, const char* name, std::size_t max_chars) {
  if (!v.is_string()) return invalid(id, name, "must be a string");
  if (!valid_length(v.get_ref<const std::string&>(), max_chars)) {
    return fail(ErrorCode::invalid_field, id,
                std::string("field '") + name + "' must be 1 to " + std::to_string(max_chars) + " characters");
  }
  return std::nullopt;
}

// A JSON integer (not 1.0, not "1") in [min, max] and none of `excluded`; out of range is `range_error`.
inline std::optional<DecodeError> read_integer(const json& v, const std::string& id, const char* name, std::int64_t min,
                                               std::int64_t max, ErrorCode range_error,
                                               std::initializer_list<std::int64_t> excluded, std::int64_t& out) {
  if (!v.is_number_integer()) return invalid(id, name, "must be a whole number");
  const bool too_big = v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX);
  const std::int64_t n = too_big ? INT64_MAX : v.get<std::int64_t>();
  bool out_of_range = too_big || n < min || n > max;
  for (auto x : excluded) out_of_range = out_of_range || n == x;
  if (out_of_range) return fail(range_error, id, std::string("field '") + name + "' is out of range");
  out = n;
  return std::nullopt;
}

// A finite JSON number in [min, max].
inline std::optional<DecodeError> read_number(const json& v, const std::string& id, const char* name, double min, double max,
                                              double& out) {
  if (!v.is_number()) return invalid(id, name, "must be a number");
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < min || x > max) return invalid(id, name, "is out of range");
  out = x;
  return std::nullopt;
}

} // namespace colloquy::protocol::reader
