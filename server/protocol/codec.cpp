#include "protocol/codec.hpp"

namespace colloquy::protocol {
namespace {
using json = nlohmann::json;

template <typename T>
json list_of(const std::vector<T>& items) {
  json out = json::array();
  for (const auto& item : items) out.push_back(to_wire(item));
  return out;
}

// The live parts of a room as in the snapshot (settings, prompts, audit, deck, round, floor, turn, timers).
json live_state_to_wire(const RoomState& state) {
  json round = nullptr;
  if (state.speaking.round) {
    const Round& r = *state.speaking.round;
    round = {{"id", r.id}, {"order", r.order}, {"remaining", r.remaining}, {"turn_seconds", r.turn_seconds},
             {"auto_advance", r.auto_advance}, {"outcomes", list_of(r.outcomes)}};
  }
  json floor{{"queue", state.speaking.floor.queue}, {"turn_seconds", nullptr}, {"auto_advance", state.speaking.floor.auto_advance},
             {"quieter_first", state.speaking.floor.quieter_first}};
  if (state.speaking.floor.turn_seconds) floor["turn_seconds"] = *state.speaking.floor.turn_seconds;
  json turn = nullptr;
  if (state.speaking.turn) {
    const Turn& t = *state.speaking.turn;
    turn = {{"member_id", t.member_id}, {"mode", to_string(t.mode)}, {"started_at", t.started_at_ms}, {"paused_ms", t.paused_ms},
            {"held_until", t.held_until_ms ? json(*t.held_until_ms) : json(nullptr)}};
  }
  json paused = nullptr;
  if (const auto& p = state.speaking.paused) paused = {{"reason", to_string(p->reason)}, {"since", p->since_ms}};
  json last_round = nullptr;
  if (const auto& l = state.speaking.last_round) {
    last_round = {{"id", l->id}, {"reason", to_string(l->reason)}, {"outcomes", list_of(l->outcomes)}};
  }
  json prompts = json::array();
  for (const auto& p : state.prompts.released()) {
    json item{{"id", p.id}, {"text", p.text}, {"votes", p.votes}};
    if (p.posed) item["posed_to"] = p.posed_to ? json(*p.posed_to) : json(nullptr);
    prompts.push_back(std::move(item));
  }
  json audit = nullptr;
  if (state.audit.current) {
    audit = to_wire(AuditHeader{state.audit.current->id, state.audit.current->k, state.audit.current->items});
    audit["open"] = state.audit.current->open;
    if (!state.audit.current->open) {
      audit["responses"] = state.audit.current->responses;
      audit["results"] = state.audit.current->results ? to_wire(*state.audit.current->results) : json(nullptr);
    }
  }
  return {{"settings", {{"airtime_visibility", to_string(state.presence.airtime_visibility)}}},
          {"prompts", std::move(prompts)},
          {"audit", std::move(audit)},
          {"deck", {{"cards", list_of(state.deck.cards())}, {"drawn", state.deck.drawn()}}},
          {"round", std::move(round)},
          {"floor", std::move(floor)},
          {"turn", std::move(turn)},
          {"paused", std::move(paused)},
          {"last_round", std::move(last_round)},
          {"timers", {{"phase", to_wire(state.timers.phase)}, {"turn", to_wire(state.timers.turn)}}}};
}
} // namespace

std::string encode_reply(std::string_view id, const json& result) {
  return json{{"type", "reply"}, {"id", id}, {"result", result}}.dump();
}

std::string encode_error(const std::optional<std::string>& id, ErrorCode code, std::string_view message,
                         std::int64_t retry_after_ms) {
  json out{{"type", "error"}, {"id", nullptr}, {"code", to_string(code)}, {"message", message}};
  if (id) out["id"] = *id;
  if (retry_after_ms > 0) out["retry_after_ms"] = retry_after_ms;
  // Replace, never throw, if a message ever carried invalid UTF-8 from the input.
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string encode_prompts_pending(std::string_view room_id, const std::vector<PendingView>& prompts) {
  json list = json::array();
  for (const auto& p : prompts) list.push_back({{"id", p.id}, {"text", p.text}, {"held", p.held}});
  return json{{"type", "prompts_pending"}, {"room", room_id}, {"prompts", std::move(list)}}.dump();
}

std::string encode_welcome(std::string_view server, std::int64_t server_time_ms, std::size_t max_frame_bytes) {
  return json{{"type", "welcome"}, {"protocol", version}, {"minor", protocol_minor}, {"server", server},
              {"server_time", server_time_ms}, {"max_frame_bytes", max_frame_bytes}}
      .dump();
}

std::string encode_event_push(std::string_view room_id, const Event& event) {
  return json{{"type", "event"}, {"room", room_id}, {"seq", event.seq}, {"time", event.time_ms},
              {"event", event_to_wire(event.body)}}
      .dump();
}

std::string encode_ephemeral(std::string_view room_id, std::string_view from, EphemeralKind kind, const json& data) {
  return json{{"type", "ephemeral"}, {"room", room_id}, {"from", from}, {"kind", to_string(kind)}, {"data", data}}.dump();
}

json member_to_wire(const Member& member, bool with_presence) {
  json out{{"id", member.id}, {"name", member.name}, {"role", to_string(member.role)}};
  if (with_presence) {
    out["presence"] = to_string(member.presence);
    out["airtime_ms"] = member.airtime_ms;
  }
  return out;
}

static json groups_to_wire(const RoomState& state, std::string_view viewer) {
  const auto& open = state.groups.open;
  if (!open) return nullptr;
  const Member* v = viewer.empty() ? nullptr : state.find_member(viewer);
  const bool lead = v && leads(v->role);
  const BreakoutGroup* own = viewer.empty() ? nullptr : state.groups.group_of(viewer);
  json list = json::array();
  for (const auto& g : open->groups) {
    BreakoutGroup shown = g;
    if (!lead && &g != own) shown.done = shown.more_time = shown.help = false; // another group's flags
    list.push_back(to_wire(shown));
  }
  auto opt = [](const std::optional<std::int64_t>& t) { return t ? json(*t) : json(nullptr); };
  return {{"groups", std::move(list)},
          {"method", to_string(open->method)},
          {"ends_at", opt(open->ends_at_ms)},
          {"recall_ends_at", opt(open->recall_ends_at_ms)},
          {"closes_at", opt(open->closes_at_ms)},
          {"message", open->message ? json(*open->message) : json(nullptr)}};
}

json snapshot_to_wire(const RoomState& state, std::string_view viewer) {
  json members = json::array();
  for (const auto& m : state.members) {
    json member = member_to_wire(m, true);
    member["hand"] = state.speaking.hand_raised(m.id);
    members.push_back(std::move(member));
  }
  json out{{"room", state.id}, {"seq", state.seq}, {"title", state.title}, {"members", std::move(members)}};
  out.update(live_state_to_wire(state));
  out["groups"] = groups_to_wire(state, viewer);
  return out;
}

} // namespace colloquy::protocol
