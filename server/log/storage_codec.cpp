#include "log/storage_codec.hpp"

#include "protocol/codec.hpp"

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

struct BodyToJson {
  json operator()(const RoomCreated& e) const {
    return {{"kind", "room_created"}, {"title", e.title}, {"key_hash", e.key_hash}, {"code_hash", e.code_hash}};
  }
  json operator()(const MemberJoined& e) const {
    return {{"kind", "member_joined"}, {"member_id", e.member.id}, {"name", e.member.name},
            {"role", to_string(e.member.role)}, {"token_hash", e.token_hash}};
  }
  json operator()(const MemberLeft& e) const { return {{"kind", "member_left"}, {"member_id", e.member_id}}; }
  json operator()(const MemberConnectionLost& e) const {
    return {{"kind", "member_connection_lost"}, {"member_id", e.member_id}};
  }
  json operator()(const MemberBack& e) const { return {{"kind", "member_back"}, {"member_id", e.member_id}}; }
  // Events without secrets are stored in their wire form.
  template <typename E>
  json operator()(const E& e) const {
    return protocol::event_to_wire(EventBody{e});
  }
};

std::optional<EventBody> body_from_json(const json& j) {
  if (!j.is_object()) return std::nullopt;
  const auto kind = text(j, "kind");
  if (!kind) return std::nullopt;
  if (*kind == "room_created") {
    auto title = text(j, "title");
    auto key = text(j, "key_hash");
    auto code = text(j, "code_hash");
    if (!title || !key || !code) return std::nullopt;
    return RoomCreated{*title, *key, *code};
  }
  if (*kind == "member_joined") {
    auto id = text(j, "member_id");
    auto name = text(j, "name");
    auto role_text = text(j, "role");
    auto role = role_text ? role_from_string(*role_text) : std::nullopt;
    auto token = text(j, "token_hash");
    if (!id || !name || !role || !token) return std::nullopt;
    return MemberJoined{MemberInfo{*id, *name, *role}, *token};
  }
  return protocol::event_from_wire(j);
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
  // "facilitators" is the name records written before 1.4 use for the same audience.
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

} // namespace

json event_to_json(const Event& event) {
  return {{"seq", event.seq}, {"time", event.time_ms}, {"audience", audience_to_json(event.audience)},
          {"body", std::visit(BodyToJson{}, event.body)}};
}

std::optional<Event> event_from_json(const json& j) {
  if (!j.is_object()) return std::nullopt;
  auto seq = number<std::uint64_t>(j, "seq");
  auto time = number<std::int64_t>(j, "time");
  auto body_it = j.find("body");
  auto audience_it = j.find("audience");
  if (!seq || *seq == 0 || !time || body_it == j.end() || audience_it == j.end()) return std::nullopt;
  auto body = body_from_json(*body_it);
  auto audience = audience_from_json(*audience_it);
  if (!body || !audience) return std::nullopt;
  return Event{*seq, *time, std::move(*body), std::move(*audience)};
}

json room_to_json(const RoomState& s) {
  json members = json::array();
  for (const auto& m : s.members) {
    members.push_back({{"id", m.id}, {"name", m.name}, {"role", to_string(m.role)},
                       {"presence", to_string(m.presence)}, {"token_hash", m.token_hash},
                       {"airtime_ms", m.airtime_ms}, {"away_since", m.away_since_ms}});
  }
  json out{{"id", s.id}, {"title", s.title}, {"key_hash", s.key_hash}, {"code_hash", s.code_hash},
           {"seq", s.seq}, {"created_at", s.created_at_ms}, {"members", std::move(members)},
           {"rounds_started", s.rounds_started}};
  out.update(protocol::live_state_to_wire(s));
  return out;
}

std::optional<RoomState> room_from_json(const json& j) {
  if (!j.is_object()) return std::nullopt;
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
  for (const auto& m : *members) {
    auto mid = text(m, "id");
    auto name = text(m, "name");
    auto role_text = text(m, "role");
    auto role = role_text ? role_from_string(*role_text) : std::nullopt;
    auto presence_text = text(m, "presence");
    auto presence = presence_text ? presence_from_string(*presence_text) : std::nullopt;
    auto token = text(m, "token_hash");
    if (!mid || !name || !role || !presence || !token) return std::nullopt;
    Member member{*mid, *name, *role, *presence, *token};
    member.airtime_ms = number<std::int64_t>(m, "airtime_ms").value_or(0);
    member.away_since_ms = number<std::int64_t>(m, "away_since").value_or(0);
    s.members.push_back(std::move(member));
  }
  s.rounds_started = number<std::uint64_t>(j, "rounds_started").value_or(0);
  // Snapshots written before 1.2 have no live state: the defaults are right for them.
  if (j.contains("settings") && !protocol::live_state_from_wire(j, s)) return std::nullopt;
  return s;
}

} // namespace colloquy::storage
