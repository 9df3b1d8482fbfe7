#pragma once
// Every stable error code of the protocol: declared in protocol/messages.json (generated enum).
#include "core/generated/messages.hpp"

#include <string_view>

namespace colloquy {

// A refusal: the stable code and a sentence for people.
struct Error {
  ErrorCode code;
  std::string_view message;
};

} // namespace colloquy
