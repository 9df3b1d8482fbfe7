// libFuzzer target: any bytes through the command decoder and, when accepted, the room core.
// Must never crash, leak or hit undefined behaviour; every refusal must carry a stable code.
#include "core/room.hpp"
#include "core/secret.hpp"
#include "protocol/codec.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace colloquy;
  const std::string_view frame(reinterpret_cast<const char*>(data), size);
  auto decoded = protocol::decode_command(frame);
  if (auto* error = std::get_if<protocol::DecodeError>(&decoded)) {
    if (to_string(error->code).empty() || error->message.empty()) std::abort();
    (void)protocol::encode_error(error->id, error->code, error->message);
    return 0;
  }
  auto& command = std::get<protocol::DecodedCommand>(decoded);
  if (auto* join = std::get_if<protocol::JoinCommand>(&command.command)) {
    RoomState state;
    state.id = "r";
    evolve(state, Event{1, 0, RoomCreated{"T", secret_hash("k"), secret_hash(join->secret)}, {}});
    auto result = decide(state, Join{join->credential, join->secret, join->name, secret_hash("t")}, 1);
    if (auto* decision = std::get_if<Decision>(&result)) {
      for (const auto& e : decision->events) {
        evolve(state, e);
        (void)protocol::encode_event_push(state.id, e);
      }
      (void)protocol::snapshot_to_wire(state).dump();
    }
  }
  return 0;
}
