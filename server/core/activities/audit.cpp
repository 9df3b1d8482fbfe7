#include "core/activities/audit.hpp"

#include "core/room.hpp"
#include "core/state_bytes.hpp"
#include "core/templates.hpp"

#include <algorithm>

namespace colloquy {

std::vector<std::int64_t> audit_values(const Audit& audit, const CheckAuditAnswer& answer) {
  std::vector<std::int64_t> values;
  for (const auto& item : audit.items) {
    auto it = std::find_if(answer.answers.begin(), answer.answers.end(), [&](const auto& a) { return a.first == item.id; });
    values.push_back(it == answer.answers.end() ? 0 : it->second);
  }
  return values;
}

namespace audit {

DecideResult decide(const RoomState& room, const OpenAudit& c, const Context& ctx) {
  if (!presence::lead(room, c.actor)) return forbidden("only facilitators open an audit");
  if (room.audit.current && room.audit.current->open) return Error{ErrorCode::audit_in_progress, "an audit is open; close it first"};
  if (c.k < min_audit_k || c.k > max_audit_k) return Error{ErrorCode::invalid_field, "k is 3 to 50"};
  // The largest results the audit can have are reserved now, so that closing it always fits.
  const std::size_t before = room.audit.current ? state_bytes::audit(*room.audit.current) : 0;
  const std::size_t after = state_bytes::open_audit(default_audit_items());
  if (after > before) {
    if (auto full = state_bytes::check_growth(room, after - before, ctx)) return *full;
  }
  Emitter out(room.seq, ctx.now_ms);
  out.emit(AuditOpened{AuditHeader{"a" + std::to_string(room.audit.started + 1), c.k, default_audit_items()}});
  return out.take();
}

DecideResult decide(const RoomState& room, const CheckAuditAnswer& c, const Context&) {
  const Member* a = presence::actor(room, c.actor);
  if (!a || a->role == Role::observer) return forbidden("observers do not answer the audit");
  if (!room.audit.current || !room.audit.current->open) return Error{ErrorCode::no_audit, "no audit is open"};
  const auto& items = room.audit.current->items;
  if (c.answers.size() != items.size()) return Error{ErrorCode::invalid_answer, "answer every statement once"};
  for (const auto& item : items) {
    auto it = std::find_if(c.answers.begin(), c.answers.end(), [&](const auto& answer) { return answer.first == item.id; });
    if (it == c.answers.end()) return Error{ErrorCode::invalid_answer, "answer every statement once"};
    if (it->second < 1 || it->second > audit_scale) return Error{ErrorCode::invalid_answer, "answers are 1 to 5"};
  }
  return Decision{};
}

DecideResult decide(const RoomState& room, const CloseAudit& c, const Context& ctx) {
  if (!presence::lead(room, c.actor)) return forbidden("only facilitators close an audit");
  if (!room.audit.current || !room.audit.current->open) return Error{ErrorCode::no_audit, "no audit is open"};
  // Results only from k answers: fewer could point at individuals.
  std::optional<AuditResults> results;
  if (c.responses >= room.audit.current->k) results = c.tally;
  Emitter out(room.seq, ctx.now_ms);
  out.emit(AuditClosed{room.audit.current->id, c.responses, std::move(results)});
  return out.take();
}

void evolve(State& s, const AuditOpened& e, std::int64_t) {
  s.current = Audit{e.audit.id, e.audit.k, e.audit.items, true, 0, std::nullopt};
  s.started += 1;
}
void evolve(State& s, const AuditClosed& e, std::int64_t) {
  if (!s.current || s.current->id != e.audit_id) return;
  s.current->open = false;
  s.current->responses = e.responses;
  s.current->results = e.results;
}

} // namespace audit
} // namespace colloquy
