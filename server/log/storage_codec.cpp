#include "log/storage_codec.hpp"

#include "log/generated/records.hpp"

// Record formats (the "v" of every record; none = 1):
//   1  written up to protocol 1.3 (main at f1e1755). Event bodies in the 1.3 wire form, except
//      room_created (+ key_hash, code_hash) and member_joined (flat: member_id, name, role,
//      token_hash); rooms as {id, title, key_hash, code_hash, seq, created_at, members,
//      rounds_started} plus the 1.3 snapshot's live fields (settings, round, floor, turn, timers,
//      prompts, audit, deck).
//   2  the records of log/generated/records.cpp (every declared field, hashes included, member
//      as {id, name, role}); rooms as below (room_to_json), grouped by the core's activities, the
//      deck with the order its next draw chooses from and the number of its next card.
// This file never uses the wire codec (server/protocol/): colloquy_storage does not link it.

namespace colloquy::storage {
namespace {

using json = nlohmann::json;

std::optional<std::string> text(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

template <typename T>
std::optional<T> number(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<T>();
}

std::optional<bool> flag(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

std::optional<std::vector<std::string>> strings(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& v : *it) {
    if (!v.is_string()) return std::nullopt;
    out.push_back(v.get<std::string>());
  }
  return out;
}

template <typename Parse>
auto named(const json& j, const char* key, Parse parse) -> decltype(parse(std::string_view{})) {
  auto t = text(j, key);
  if (!t) return std::nullopt;
  return parse(*t);
}

// A list of records of one shape (from_record for each).
template <typename T>
std::optional<std::vector<T>> records(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return std::nullopt;
  std::vector<T> out;
  for (const auto& v : *it) {
    T item;
    if (!from_record(v, item)) return std::nullopt;
    out.push_back(std::move(item));
  }
  return out;
}

template <typename T>
json list(const std::vector<T>& items) {
  json out = json::array();
  for (const auto& i : items) out.push_back(to_record(i));
  return out;
}

int format_of(const json& j) {
  auto it = j.find("v");
  if (it == j.end()) return 1;
  return it->is_number_integer() ? it->get<int>() : -1;
}

// ---- format 1 event bodies: the generated records read them, but for the flat member_joined.
std::optional<EventBody> body_v1(const json& j) {
  if (text(j, "kind") == "member_joined") {
    auto id = text(j, "member_id");
    auto name = text(j, "name");
    auto role = named(j, "role", role_from_string);
    auto token = text(j, "token_hash");
    if (!id || !name || !role || !token) return std::nullopt;
    return MemberJoined{MemberInfo{*id, *name, *role}, *token};
  }
  return body_from_record(j);
}

json audience_to_json(const Audience& a) {
  switch (a.kind) {
  case Audience::Kind::everyone: return {{"kind", "everyone"}};
  case Audience::Kind::leads: return {{"kind", "leads"}};
  case Audience::Kind::member: return {{"kind", "member"}, {"member_id", a.member_id}};
  case Audience::Kind::group: return {{"kind", "group"}, {"group_id", a.group_id}};
  }
  return {{"kind", "everyone"}};
}

std::optional<Audience> audience_from_json(const json& j) {
  if (!j.is_object()) return std::nullopt;
  const auto kind = text(j, "kind");
  if (!kind) return std::nullopt;
  if (*kind == "everyone") return Audience{};
  // "facilitators" is the name records of format 1 use for the same audience.
  if (*kind == "leads" || *kind == "facilitators") return Audience{Audience::Kind::leads, {}, {}};
  if (*kind == "member") {
    auto id = text(j, "member_id");
    if (!id) return std::nullopt;
    return Audience{Audience::Kind::member, *id, {}};
  }
  if (*kind == "group") {
    auto id = text(j, "group_id");
    if (!id) return std::nullopt;
    return Audience{Audience::Kind::group, {}, *id};
  }
  return std::nullopt;
}

// ---- rooms

json member_to_json(const Member& m) {
  return {{"id", m.id}, {"name", m.name}, {"role", to_string(m.role)}, {"presence", to_string(m.presence)},
          {"token_hash", m.token_hash}, {"airtime_ms", m.airtime_ms}, {"away_since", m.away_since_ms}};
}

std::optional<Member> member_from_json(const json& m) {
  auto id = text(m, "id");
  auto name = text(m, "name");
  auto role = named(m, "role", role_from_string);
  auto presence = named(m, "presence", presence_from_string);
  auto token = text(m, "token_hash");
  if (!id || !name || !role || !presence || !token) return std::nullopt;
  Member member{*id, *name, *role, *presence, *token};
  member.airtime_ms = number<std::int64_t>(m, "airtime_ms").value_or(0);
  member.away_since_ms = number<std::int64_t>(m, "away_since").value_or(0);
  return member;
}

json round_to_json(const std::optional<Round>& round) {
  if (!round) return nullptr;
  json out{{"id", round->id}, {"order", round->order}, {"remaining", round->remaining}, {"turn_seconds", round->turn_seconds},
           {"auto_advance", round->auto_advance}, {"outcomes", list(round->outcomes)}};
  // Optional within format 2 (absent: nobody was skipped for being away; records before it lack it).
  if (!round->skipped_away.empty()) out["skipped_away"] = round->skipped_away;
  return out;
}

// A round, floor and turn as both formats write them; false if malformed.
bool speaking_from_json(const json& round, const json& floor, const json& turn, speaking::State& s) {
  s.round.reset();
  if (!round.is_null()) {
    auto id = number<std::uint64_t>(round, "id");
    auto order = strings(round, "order");
    auto remaining = strings(round, "remaining");
    auto seconds = number<std::int64_t>(round, "turn_seconds");
    auto automatic = flag(round, "auto_advance");
    auto outcomes = records<RoundOutcome>(round, "outcomes");
    std::optional<std::vector<std::string>> away = std::vector<std::string>{};
    if (round.contains("skipped_away")) away = strings(round, "skipped_away");
    if (!id || !order || !remaining || !seconds || !automatic || !outcomes || !away) return false;
    s.round = Round{*id, *order, *remaining, *seconds, *automatic, *outcomes, *away};
  }
  auto queue = strings(floor, "queue");
  auto automatic = flag(floor, "auto_advance");
  auto quieter = flag(floor, "quieter_first");
  auto limit = floor.find("turn_seconds");
  if (!queue || !automatic || !quieter || limit == floor.end()) return false;
  s.floor = Floor{*queue, std::nullopt, *automatic, *quieter};
  if (limit->is_number_integer()) s.floor.turn_seconds = limit->get<std::int64_t>();
  s.turn.reset();
  if (!turn.is_null()) {
    auto member = text(turn, "member_id");
    auto mode = named(turn, "mode", turn_mode_from_string);
    auto started = number<std::int64_t>(turn, "started_at");
    if (!member || !mode || !started) return false;
    s.turn = Turn{*member, *mode, *started, number<std::int64_t>(turn, "paused_ms").value_or(0), std::nullopt,
                  number<std::int64_t>(turn, "held_since").value_or(0)};
    if (auto held = number<std::int64_t>(turn, "held_until")) s.turn->held_until_ms = *held;
  }
  return true;
}

// Optional within format 2 (since 1.6; absent: not paused, no finished round kept).
bool pause_and_summary_from_json(const json& speaking, speaking::State& s) {
  s.paused.reset();
  s.last_round.reset();
  if (auto p = speaking.find("paused"); p != speaking.end() && !p->is_null()) {
    auto reason = named(*p, "reason", pause_reason_from_string);
    auto since = number<std::int64_t>(*p, "since");
    if (!reason || !since) return false;
    s.paused = Pause{*reason, *since};
  }
  if (auto l = speaking.find("last_round"); l != speaking.end() && !l->is_null()) {
    auto id = number<std::uint64_t>(*l, "id");
    auto reason = named(*l, "reason", round_end_reason_from_string);
    auto outcomes = records<RoundOutcome>(*l, "outcomes");
    if (!id || !reason || !outcomes) return false;
    s.last_round = RoundSummary{*id, *reason, std::move(*outcomes)};
  }
  return true;
}

bool timers_from_json(const json& t, timers::State& s) {
  if (!t.is_object() || !t.contains("phase") || !t.contains("turn")) return false;
  return timer_from_record_v1(t["phase"], s.phase) && timer_from_record_v1(t["turn"], s.turn);
}

std::optional<ReleasedPrompt> prompt_from_json(const json& p, bool v1) {
  auto id = text(p, "id");
  auto words = text(p, "text");
  auto votes = number<std::int64_t>(p, "votes");
  if (!id || !words || !votes) return std::nullopt;
  ReleasedPrompt r{*id, *words, *votes, false, std::nullopt};
  if (v1) {
    // Format 1: posed_to absent (never posed), null (to the group) or a member id.
    if (auto posed = p.find("posed_to"); posed != p.end()) {
      r.posed = true;
      if (posed->is_string()) r.posed_to = posed->get<std::string>();
    }
  } else {
    r.posed = flag(p, "posed").value_or(false);
    if (auto to = text(p, "posed_to")) r.posed_to = *to;
  }
  return r;
}

std::optional<Audit> audit_from_json(const json& a) {
  auto id = text(a, "id");
  auto k = number<std::int64_t>(a, "k");
  auto items = records<AuditItem>(a, "items");
  auto open = flag(a, "open");
  if (!id || !k || !items || !open) return std::nullopt;
  Audit audit{*id, *k, *items, *open, number<std::int64_t>(a, "responses").value_or(0), std::nullopt};
  if (auto r = a.find("results"); r != a.end() && !r->is_null()) {
    AuditResults results;
    if (!from_record(*r, results)) return std::nullopt;
    audit.results = std::move(results);
  }
  return audit;
}

// The number N of an id "<prefix>N" (a1, c13), or 0.
std::uint64_t id_number(const std::string& id) {
  if (id.size() < 2) return 0;
  std::uint64_t n = 0;
  for (std::size_t i = 1; i < id.size(); ++i) {
    if (id[i] < '0' || id[i] > '9') return 0;
    n = n * 10 + static_cast<std::uint64_t>(id[i] - '0');
  }
  return n;
}

// Format 1 rooms carry the 1.3 snapshot's live fields.
bool live_v1(const json& j, RoomState& s) {
  auto visibility = j.contains("settings") ? named(j["settings"], "airtime_visibility", airtime_visibility_from_string) : std::nullopt;
  if (!visibility || !j.contains("round") || !j.contains("floor") || !j.contains("turn")) return false;
  s.presence.airtime_visibility = *visibility;
  if (!speaking_from_json(j["round"], j["floor"], j["turn"], s.speaking)) return false;
  if (!j.contains("timers") || !timers_from_json(j["timers"], s.timers)) return false;
  if (auto deck = j.find("deck"); deck != j.end() && deck->is_object()) { // absent before 1.3
    auto drawn = strings(*deck, "drawn").value_or(std::vector<std::string>{});
    auto cards = records<DeckCard>(*deck, "cards");
    if (!cards) return false;
    const bool edited = *cards != default_deck(); // an unedited deck follows the template
    s.deck.replace(edited ? std::move(*cards) : default_deck(), edited, drawn, {}, 0);
  }
  if (auto audit = j.find("audit"); audit != j.end() && !audit->is_null()) { // absent before 1.3
    s.audit.current = audit_from_json(*audit);
    if (!s.audit.current) return false;
    s.audit.started = id_number(s.audit.current->id); // not stored in format 1: audit ids count from it
  }
  if (auto prompts = j.find("prompts"); prompts != j.end()) { // absent before 1.3
    if (!prompts->is_array()) return false;
    for (const auto& p : *prompts) {
      auto prompt = prompt_from_json(p, true);
      if (!prompt) return false;
      s.prompts.add(std::move(*prompt));
    }
  }
  return true;
}

// Breakout groups (format 2 since 1.7; absent before): the open groups, the count made and the
// pairings remembered for fresh groups, as [a, b, count] member numbers.
json groups_to_json(const groups::State& g) {
  json pairings = json::array();
  for (const auto& p : g.pairings) pairings.push_back(json::array({p.a, p.b, p.count}));
  json open = nullptr;
  if (g.open) {
    auto opt = [](const std::optional<std::int64_t>& t) { return t ? json(*t) : json(nullptr); };
    open = {{"groups", list(g.open->groups)},
            {"method", to_string(g.open->method)},
            {"ends_at", opt(g.open->ends_at_ms)},
            {"recall_ends_at", opt(g.open->recall_ends_at_ms)},
            {"closes_at", opt(g.open->closes_at_ms)},
            {"message", g.open->message ? json(*g.open->message) : json(nullptr)}};
  }
  return {{"made", g.groups_made}, {"open", std::move(open)}, {"pairings", std::move(pairings)}};
}

bool groups_from_json(const json& j, groups::State& g) {
  auto made = number<std::uint64_t>(j, "made");
  auto pairings = j.find("pairings");
  auto open = j.find("open");
  if (!made || pairings == j.end() || !pairings->is_array() || open == j.end()) return false;
  g.groups_made = *made;
  for (const auto& p : *pairings) {
    if (!p.is_array() || p.size() != 3 || !p[0].is_number_unsigned() || !p[1].is_number_unsigned() || !p[2].is_number_unsigned()) return false;
    g.pairings.push_back(groups::Pairing{p[0].get<std::uint32_t>(), p[1].get<std::uint32_t>(), p[2].get<std::uint32_t>()});
  }
  if (open->is_null()) return true;
  if (!open->is_object()) return false;
  auto list_of = records<BreakoutGroup>(*open, "groups");
  auto method = named(*open, "method", group_method_from_string);
  if (!list_of || !method) return false;
  auto time = [&](const char* key, std::optional<std::int64_t>& out) {
    auto it = open->find(key);
    if (it == open->end() || it->is_null()) return true;
    if (!it->is_number_integer()) return false;
    out = it->get<std::int64_t>();
    return true;
  };
  groups::Open o;
  o.groups = std::move(*list_of);
  o.method = *method;
  if (!time("ends_at", o.ends_at_ms) || !time("recall_ends_at", o.recall_ends_at_ms) || !time("closes_at", o.closes_at_ms)) return false;
  if (auto m = open->find("message"); m != open->end() && m->is_string()) o.message = m->get<std::string>();
  g.open = std::move(o);
  return true;
}

bool live_v2(const json& j, RoomState& s) {
  auto settings = j.find("settings");
  auto speaking = j.find("speaking");
  auto timers = j.find("timers");
  auto prompts = j.find("prompts");
  auto audit = j.find("audit");
  auto deck = j.find("deck");
  if (settings == j.end() || speaking == j.end() || !speaking->is_object() || timers == j.end() || prompts == j.end() ||
      !prompts->is_array() || audit == j.end() || !audit->is_object() || deck == j.end() || !deck->is_object()) {
    return false;
  }
  auto visibility = named(*settings, "airtime_visibility", airtime_visibility_from_string);
  auto rounds = number<std::uint64_t>(*speaking, "rounds_started");
  if (!visibility || !rounds || !speaking->contains("round") || !speaking->contains("floor") || !speaking->contains("turn")) return false;
  s.presence.airtime_visibility = *visibility;
  s.speaking.rounds_started = *rounds;
  if (!speaking_from_json((*speaking)["round"], (*speaking)["floor"], (*speaking)["turn"], s.speaking)) return false;
  if (!pause_and_summary_from_json(*speaking, s.speaking)) return false;
  if (!timers_from_json(*timers, s.timers)) return false;
  for (const auto& p : *prompts) {
    auto prompt = prompt_from_json(p, false);
    if (!prompt) return false;
    s.prompts.add(std::move(*prompt));
  }
  auto started = number<std::uint64_t>(*audit, "started");
  if (!started || !audit->contains("current")) return false;
  s.audit.started = *started;
  if (!(*audit)["current"].is_null()) {
    s.audit.current = audit_from_json((*audit)["current"]);
    if (!s.audit.current) return false;
  }
  auto drawn = strings(*deck, "drawn");
  auto undrawn = strings(*deck, "undrawn");
  auto next_card = number<std::uint64_t>(*deck, "next_card");
  if (!drawn || !undrawn || !next_card || !deck->contains("cards")) return false;
  if ((*deck)["cards"].is_null()) {
    s.deck.replace(default_deck(), false, *drawn, *undrawn, *next_card);
  } else {
    auto cards = records<DeckCard>(*deck, "cards");
    if (!cards) return false;
    s.deck.replace(std::move(*cards), true, *drawn, *undrawn, *next_card);
  }
  if (auto g = j.find("groups"); g != j.end() && !groups_from_json(*g, s.groups)) return false;
  return true;
}

} // namespace

bool timer_from_record_v1(const json& j, Timer& out) {
  // Format 1 timers are the 1.3 wire form (null ends_at/remaining_ms read as 0): the record reads it.
  return from_record(j, out);
}

json event_to_json(const Event& event) {
  return {{"v", record_format}, {"seq", event.seq}, {"time", event.time_ms}, {"audience", audience_to_json(event.audience)},
          {"body", body_to_record(event.body)}};
}

std::optional<Event> event_from_json(const json& j) {
  if (!j.is_object()) return std::nullopt;
  const int format = format_of(j);
  if (format != 1 && format != 2) return std::nullopt;
  auto seq = number<std::uint64_t>(j, "seq");
  auto time = number<std::int64_t>(j, "time");
  auto body_it = j.find("body");
  auto audience_it = j.find("audience");
  if (!seq || *seq == 0 || !time || body_it == j.end() || audience_it == j.end()) return std::nullopt;
  auto body = format == 1 ? body_v1(*body_it) : body_from_record(*body_it);
  auto audience = audience_from_json(*audience_it);
  if (!body || !audience) return std::nullopt;
  return Event{*seq, *time, std::move(*body), std::move(*audience)};
}

json room_to_json(const RoomState& s) {
  json members = json::array();
  for (const auto& m : s.members) members.push_back(member_to_json(m));
  json prompts = json::array();
  for (const auto& p : s.prompts.released()) {
    json item{{"id", p.id}, {"text", p.text}, {"votes", p.votes}, {"posed", p.posed}};
    if (p.posed_to) item["posed_to"] = *p.posed_to;
    prompts.push_back(std::move(item));
  }
  json audit = nullptr;
  if (const auto& a = s.audit.current) {
    audit = {{"id", a->id}, {"k", a->k}, {"items", list(a->items)}, {"open", a->open},
             {"responses", a->responses}, {"results", a->results ? to_record(*a->results) : json(nullptr)}};
  }
  const speaking::State& sp = s.speaking;
  json floor{{"queue", sp.floor.queue}, {"turn_seconds", nullptr}, {"auto_advance", sp.floor.auto_advance},
             {"quieter_first", sp.floor.quieter_first}};
  if (sp.floor.turn_seconds) floor["turn_seconds"] = *sp.floor.turn_seconds;
  json turn = nullptr;
  if (sp.turn) {
    turn = {{"member_id", sp.turn->member_id}, {"mode", to_string(sp.turn->mode)}, {"started_at", sp.turn->started_at_ms}};
    if (sp.turn->paused_ms != 0) turn["paused_ms"] = sp.turn->paused_ms;
    if (sp.turn->held_until_ms) {
      turn["held_until"] = *sp.turn->held_until_ms;
      turn["held_since"] = sp.turn->held_since_ms;
    }
  }
  json out{{"v", record_format},
          {"id", s.id},
          {"title", s.title},
          {"key_hash", s.key_hash},
          {"code_hash", s.code_hash},
          {"seq", s.seq},
          {"created_at", s.created_at_ms},
          {"members", std::move(members)},
          {"settings", {{"airtime_visibility", to_string(s.presence.airtime_visibility)}}},
          {"speaking", {{"rounds_started", sp.rounds_started}, {"round", round_to_json(sp.round)}, {"floor", std::move(floor)}, {"turn", std::move(turn)}}},
          {"timers", {{"phase", to_record(s.timers.phase)}, {"turn", to_record(s.timers.turn)}}},
          {"prompts", std::move(prompts)},
          {"audit", {{"started", s.audit.started}, {"current", std::move(audit)}}},
          {"deck", {{"cards", s.deck.edited() ? list(s.deck.cards()) : json(nullptr)}, {"drawn", s.deck.drawn()},
                    {"undrawn", s.deck.undrawn()}, {"next_card", s.deck.next_card()}}}};
  if (sp.paused) out["speaking"]["paused"] = {{"reason", to_string(sp.paused->reason)}, {"since", sp.paused->since_ms}};
  if (sp.last_round) {
    out["speaking"]["last_round"] = {{"id", sp.last_round->id}, {"reason", to_string(sp.last_round->reason)}, {"outcomes", list(sp.last_round->outcomes)}};
  }
  if (s.groups.groups_made > 0) out["groups"] = groups_to_json(s.groups); // rooms that never split keep their 1.6 form
  if (s.closed) out["closed"] = true; // room_closed: removed at the next start if still here
  return out;
}

std::optional<RoomState> room_from_json(const json& j) {
  if (!j.is_object()) return std::nullopt;
  const int format = format_of(j);
  if (format != 1 && format != 2) return std::nullopt;
  RoomState s;
  auto id = text(j, "id");
  auto title = text(j, "title");
  auto key = text(j, "key_hash");
  auto code = text(j, "code_hash");
  auto seq = number<std::uint64_t>(j, "seq");
  auto created = number<std::int64_t>(j, "created_at");
  auto members = j.find("members");
  if (!id || !title || !key || !code || !seq || !created || members == j.end() || !members->is_array()) return std::nullopt;
  s.id = *id;
  s.title = *title;
  s.key_hash = *key;
  s.code_hash = *code;
  s.seq = *seq;
  s.created_at_ms = *created;
  if (auto closed = j.find("closed"); closed != j.end() && closed->is_boolean()) s.closed = closed->get<bool>();
  for (const auto& m : *members) {
    auto member = member_from_json(m);
    if (!member) return std::nullopt;
    s.members.push_back(std::move(*member));
  }
  if (format == 2) return live_v2(j, s) ? std::optional<RoomState>(std::move(s)) : std::nullopt;
  s.speaking.rounds_started = number<std::uint64_t>(j, "rounds_started").value_or(0);
  // Format 1 rooms written before 1.2 have no live state: the defaults are right for them.
  if (j.contains("settings") && !live_v1(j, s)) return std::nullopt;
  return s;
}

} // namespace colloquy::storage
