#include "core/state_bytes.hpp"

#include "core/room.hpp"

namespace colloquy::state_bytes {

std::size_t text(std::string_view s) {
  std::size_t n = 2;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') {
      n += 2;
    } else if (c < 0x20) {
      n += 6;
    } else {
      n += 1;
    }
  }
  return n;
}

// {"id":…,"name":…,"role":"co_facilitator","presence":"online","airtime_ms":<16 digits>,"hand":false},
// and the id three times more (order, remaining, queue), each with its comma.
std::size_t member(std::string_view id, std::string_view name) { return 110 + 4 * text(id) + 3 + text(name); }

// {"id":…,"text":…}, and the id in `drawn`, with commas.
std::size_t card(std::string_view id, std::string_view body) { return 20 + 2 * text(id) + text(body); }

// {"id":…,"text":…,"votes":<16 digits>,"posed_to":<a member id>},
std::size_t released_prompt(std::string_view id, std::string_view body) { return 72 + text(id) + text(body); }

namespace {
// The header: {"id":…,"k":NN,"items":[{"id":…,"text":…},…],"open":false,"responses":N,"results":
std::size_t header(std::string_view id, const std::vector<AuditItem>& items) {
  std::size_t n = 96 + text(id);
  for (const auto& item : items) n += 12 + text(item.id) + text(item.text);
  return n;
}
// {"items":[{"id":…,"counts":[n,n,n,n,n]},…],"comments":[…]} without the comments themselves.
std::size_t results_frame(const std::vector<AuditItem>& items) {
  std::size_t n = 32;
  for (const auto& item : items) n += 20 + text(item.id) + audit_scale * 17;
  return n;
}
} // namespace

std::size_t open_audit(const std::vector<AuditItem>& items) {
  // The id is "a" and a number: 24 bytes covers it.
  return header("a12345678901234567890", items) + results_frame(items) + max_audit_comment_bytes;
}

std::size_t audit(const Audit& a) {
  if (a.open) return open_audit(a.items);
  std::size_t n = header(a.id, a.items);
  if (a.results) {
    n += results_frame(a.items);
    for (const auto& comment : a.results->comments) n += text(comment) + 1;
  }
  return n;
}

std::size_t fixed(std::string_view title) { return 1024 + text(title); }

std::size_t room(const RoomState& r) {
  std::size_t n = fixed(r.title);
  for (const auto& m : r.members) n += member(m.id, m.name);
  if (r.speaking.round) n += r.speaking.round->outcomes.size() * outcome;
  if (r.speaking.last_round) n += r.speaking.last_round->outcomes.size() * outcome;
  n += r.prompts.bytes();
  n += r.deck.bytes();
  if (r.audit.current) n += audit(*r.audit.current);
  return n;
}

std::optional<Error> check_growth(const RoomState& r, std::size_t growth, const Context& ctx) {
  if (room(r) + growth <= ctx.limits.max_room_state_bytes) return std::nullopt;
  return Error{ErrorCode::room_state_full,
               "the room holds as much as it can (its state would no longer fit in one frame); nothing was changed"};
}

} // namespace colloquy::state_bytes
