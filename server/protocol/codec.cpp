#include "protocol/codec.hpp"

namespace colloquy::protocol {
namespace {
using json = nlohmann::json;
} // namespace

std::string encode_reply(std::string_view id, const json& result) {
  return json{{"type", "reply"}, {"id", id}, {"result", result}}.dump();
}

std::string encode_error(const std::optional<std::string>& id, ErrorCode code, std::string_view message) {
  json out{{"type", "error"}, {"id", nullptr}, {"code", to_string(code)}, {"message", message}};
  if (id) out["id"] = *id;
  // Replace, never throw, if a message ever carried invalid UTF-8 from the input.
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string encode_prompts_pending(std::string_view room_id, const std::vector<PendingView>& prompts) {
  json list = json::array();
  for (const auto& p : prompts) list.push_back({{"id", p.id}, {"text", p.text}, {"held", p.held}});
  return json{{"type", "prompts_pending"}, {"room", room_id}, {"prompts", std::move(list)}}.dump();
}

std::string encode_welcome(std::string_view server, std::int64_t server_time_ms, std::size_t max_frame_bytes) {
  return json{{"type", "welcome"}, {"protocol", version}, {"server", server},
              {"server_time", server_time_ms}, {"max_frame_bytes", max_frame_bytes}}
      .dump();
}

json member_to_wire(const Member& member, bool with_presence) {
  json out{{"id", member.id}, {"name", member.name}, {"role", to_string(member.role)}};
  if (with_presence) {
    out["presence"] = to_string(member.presence);
    out["airtime_ms"] = member.airtime_ms;
  }
  return out;
}

namespace {
std::optional<std::int64_t> int_field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<std::int64_t>();
}
std::optional<std::vector<std::string>> id_list(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& v : *it) {
    if (!v.is_string()) return std::nullopt;
    out.push_back(v.get<std::string>());
  }
  return out;
}
std::optional<bool> bool_of(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}
} // namespace

namespace {
json audit_header(const std::string& id, std::int64_t k, const std::vector<AuditItem>& items) {
  return to_wire(AuditHeader{id, k, items});
}
// {"id", "text"} items (deck cards, released prompts) as a JSON list.
template <typename Item>
json id_text_to_wire(const std::vector<Item>& items) {
  json list = json::array();
  for (const auto& i : items) list.push_back({{"id", i.id}, {"text", i.text}});
  return list;
}

json cards_to_wire(const std::vector<DeckCard>& cards) { return id_text_to_wire(cards); }

std::optional<std::string> string_field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// A list of {"id", "text"} items (deck cards, released prompts).
template <typename Item>
std::optional<std::vector<Item>> id_text_list(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_array()) return std::nullopt;
  std::vector<Item> items;
  for (const auto& c : *it) {
    auto id = string_field(c, "id");
    auto text = string_field(c, "text");
    if (!id || !text) return std::nullopt;
    items.push_back(Item{*id, *text});
  }
  return items;
}

std::optional<std::vector<DeckCard>> cards_from(const json& j, const char* name) { return id_text_list<DeckCard>(j, name); }

// A string field naming one value of an enum, read with `parse` (e.g. role_from_string).
template <typename Parse>
auto enum_field(const json& j, const char* name, Parse parse) -> decltype(parse(std::string_view{})) {
  auto text = string_field(j, name);
  if (!text) return std::nullopt;
  return parse(*text);
}

std::optional<Timer> timer_from(const json& j) {
  Timer t;
  if (!from_wire(j, t)) return std::nullopt;
  return t;
}
} // namespace

std::string encode_event_push(std::string_view room_id, const Event& event) {
  return json{{"type", "event"}, {"room", room_id}, {"seq", event.seq}, {"time", event.time_ms},
              {"event", event_to_wire(event.body)}}
      .dump();
}

json live_state_to_wire(const RoomState& state) {
  json round = nullptr;
  if (state.round) {
    const Round& r = *state.round;
    json outcomes = json::array();
    for (const auto& o : r.outcomes) outcomes.push_back({{"member_id", o.member_id}, {"outcome", to_string(o.outcome)}, {"ms", o.ms}});
    round = {{"id", r.id}, {"order", r.order}, {"remaining", r.remaining}, {"turn_seconds", r.turn_seconds},
             {"auto_advance", r.auto_advance}, {"outcomes", std::move(outcomes)}};
  }
  json floor{{"queue", state.floor.queue}, {"turn_seconds", nullptr}, {"auto_advance", state.floor.auto_advance},
             {"quieter_first", state.floor.quieter_first}};
  if (state.floor.turn_seconds) floor["turn_seconds"] = *state.floor.turn_seconds;
  json turn = nullptr;
  if (state.turn) {
    turn = {{"member_id", state.turn->member_id}, {"mode", to_string(state.turn->mode)}, {"started_at", state.turn->started_at_ms}};
  }
  json prompts = json::array();
  for (const auto& p : state.prompts) {
    json item{{"id", p.id}, {"text", p.text}, {"votes", p.votes}};
    if (p.posed) item["posed_to"] = p.posed_to ? json(*p.posed_to) : json(nullptr);
    prompts.push_back(std::move(item));
  }
  json audit = nullptr;
  if (state.audit) {
    audit = audit_header(state.audit->id, state.audit->k, state.audit->items);
    audit["open"] = state.audit->open;
    if (!state.audit->open) {
      audit["responses"] = state.audit->responses;
      audit["results"] = state.audit->results ? to_wire(*state.audit->results) : json(nullptr);
    }
  }
  return {{"settings", {{"airtime_visibility", to_string(state.airtime_visibility)}}},
          {"prompts", std::move(prompts)},
          {"audit", std::move(audit)},
          {"deck", {{"cards", cards_to_wire(state.deck())}, {"drawn", state.deck_drawn}}},
          {"round", std::move(round)},
          {"floor", std::move(floor)},
          {"turn", std::move(turn)},
          {"timers", {{"phase", to_wire(state.phase_timer)}, {"turn", to_wire(state.turn_timer)}}}};
}

bool live_state_from_wire(const json& j, RoomState& state) {
  if (!j.is_object()) return false;
  auto settings = j.find("settings");
  if (settings == j.end() || !settings->is_object()) return false;
  auto visibility = string_field(*settings, "airtime_visibility");
  auto parsed = visibility ? airtime_visibility_from_string(*visibility) : std::nullopt;
  if (!parsed) return false;
  state.airtime_visibility = *parsed;

  auto round = j.find("round");
  if (round == j.end()) return false;
  state.round.reset();
  if (!round->is_null()) {
    Round r;
    auto id = int_field(*round, "id");
    auto order = id_list(*round, "order");
    auto remaining = id_list(*round, "remaining");
    auto seconds = int_field(*round, "turn_seconds");
    auto automatic = bool_of(*round, "auto_advance");
    auto outcomes = round->find("outcomes");
    if (!id || !order || !remaining || !seconds || !automatic || outcomes == round->end() || !outcomes->is_array()) return false;
    r = Round{static_cast<std::uint64_t>(*id), *order, *remaining, *seconds, *automatic, {}};
    for (const auto& o : *outcomes) {
      auto member = string_field(o, "member_id");
      auto outcome_text = string_field(o, "outcome");
      auto outcome = outcome_text ? outcome_from_string(*outcome_text) : std::nullopt;
      auto ms = int_field(o, "ms");
      if (!member || !outcome || !ms) return false;
      r.outcomes.push_back(RoundOutcome{*member, *outcome, *ms});
    }
    state.round = std::move(r);
  }

  auto floor = j.find("floor");
  if (floor == j.end() || !floor->is_object()) return false;
  auto queue = id_list(*floor, "queue");
  auto automatic = bool_of(*floor, "auto_advance");
  auto quieter = bool_of(*floor, "quieter_first");
  auto limit = floor->find("turn_seconds");
  if (!queue || !automatic || !quieter || limit == floor->end()) return false;
  state.floor = Floor{*queue, std::nullopt, *automatic, *quieter};
  if (limit->is_number_integer()) state.floor.turn_seconds = limit->get<std::int64_t>();

  auto turn = j.find("turn");
  if (turn == j.end()) return false;
  state.turn.reset();
  if (!turn->is_null()) {
    auto member = string_field(*turn, "member_id");
    auto mode = enum_field(*turn, "mode", turn_mode_from_string);
    auto started = int_field(*turn, "started_at");
    if (!member || !mode || !started) return false;
    state.turn = Turn{*member, *mode, *started};
  }

  auto timers = j.find("timers");
  if (timers == j.end() || !timers->is_object() || !timers->contains("phase") || !timers->contains("turn")) return false;
  auto phase = timer_from((*timers)["phase"]);
  auto turn_timer = timer_from((*timers)["turn"]);
  if (!phase || !turn_timer) return false;
  state.phase_timer = *phase;
  state.turn_timer = *turn_timer;
  // The deck: stored as edited (a room never edited keeps following the built-in template).
  state.deck_drawn.clear();
  state.deck_cards.reset();
  if (auto deck = j.find("deck"); deck != j.end() && deck->is_object()) { // absent before 1.3
    if (auto drawn = id_list(*deck, "drawn")) state.deck_drawn = *drawn;
    auto cards = cards_from(*deck, "cards");
    if (!cards) return false;
    if (*cards != default_deck()) state.deck_cards = std::move(*cards);
  }
  state.audit.reset();
  if (auto audit = j.find("audit"); audit != j.end() && !audit->is_null()) { // absent before 1.3
    AuditHeader head;
    if (!from_wire(*audit, head) || !audit->contains("open") || !(*audit)["open"].is_boolean()) return false;
    Audit a{head.id, head.k, head.items, (*audit)["open"].get<bool>(), 0, std::nullopt};
    if (!a.open) {
      a.responses = int_field(*audit, "responses").value_or(0);
      if (audit->contains("results") && !(*audit)["results"].is_null()) {
        AuditResults results;
        if (!from_wire((*audit)["results"], results)) return false;
        a.results = std::move(results);
      }
    }
    state.audit = std::move(a);
  }
  state.prompts.clear();
  if (auto prompts = j.find("prompts"); prompts != j.end()) { // absent before 1.3
    if (!prompts->is_array()) return false;
    for (const auto& p : *prompts) {
      auto id = string_field(p, "id");
      auto text = string_field(p, "text");
      auto votes = int_field(p, "votes");
      if (!id || !text || !votes) return false;
      ReleasedPrompt r{*id, *text, *votes, false, std::nullopt};
      if (auto posed = p.find("posed_to"); posed != p.end()) {
        r.posed = true;
        if (posed->is_string()) r.posed_to = posed->get<std::string>();
      }
      state.prompts.push_back(std::move(r));
    }
  }
  return true;
}

json snapshot_to_wire(const RoomState& state) {
  json members = json::array();
  for (const auto& m : state.members) {
    json member = member_to_wire(m, true);
    member["hand"] = state.hand_raised(m.id);
    members.push_back(std::move(member));
  }
  json out{{"room", state.id}, {"seq", state.seq}, {"title", state.title}, {"members", std::move(members)}};
  out.update(live_state_to_wire(state));
  return out;
}

} // namespace colloquy::protocol
