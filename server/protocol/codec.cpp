#include "protocol/codec.hpp"

#include "core/text.hpp"

#include <array>

namespace colloquy::protocol {
namespace {

using json = nlohmann::json;

DecodeError fail(ErrorCode code, const std::optional<std::string>& id, std::string message) {
  return DecodeError{code, id, std::move(message)};
}

bool valid_length(const std::string& s, std::size_t max_chars) {
  const auto n = utf8_length(s);
  return n && *n >= 1 && *n <= max_chars;
}

// Reads the command's fields, rejecting any it does not define.
class Fields {
public:
  Fields(const json& object, const std::string& id) : object_(object), id_(id) {}

  // The first field that is neither envelope nor in `allowed`, if any.
  std::optional<DecodeError> only(std::initializer_list<std::string_view> allowed) const {
    for (auto it = object_.begin(); it != object_.end(); ++it) {
      const std::string& key = it.key();
      if (key == "type" || key == "id") continue;
      bool known = false;
      for (auto a : allowed) known = known || key == a;
      if (!known) return fail(ErrorCode::unknown_field, id_, "unknown field '" + key + "'");
    }
    return std::nullopt;
  }

  bool has(const char* name) const { return object_.contains(name); }
  const json* find(const char* name) const {
    auto it = object_.find(name);
    return it == object_.end() ? nullptr : &*it;
  }

  // A string field of 1..max_chars code points.
  std::variant<std::string, DecodeError> string(const char* name, std::size_t max_chars) const {
    auto it = object_.find(name);
    if (it == object_.end()) return fail(ErrorCode::missing_field, id_, std::string("missing field '") + name + "'");
    if (!it->is_string()) return fail(ErrorCode::invalid_field, id_, std::string("field '") + name + "' must be a string");
    const auto& s = it->get_ref<const std::string&>();
    if (!valid_length(s, max_chars)) {
      return fail(ErrorCode::invalid_field, id_,
                  std::string("field '") + name + "' must be 1 to " + std::to_string(max_chars) + " characters");
    }
    return s;
  }

private:
  const json& object_;
  const std::string& id_;
};

std::variant<DecodedCommand, DecodeError> decode_join(const Fields& f, const std::string& id) {
  if (auto e = f.only({"room", "key", "code", "resume", "name", "after"})) return *e;
  JoinCommand join;
  auto room = f.string("room", max_room_chars);
  if (auto* e = std::get_if<DecodeError>(&room)) return *e;
  join.room = std::get<std::string>(room);

  static constexpr std::array<std::pair<const char*, Credential>, 3> credentials = {{
      {"key", Credential::facilitator_key}, {"code", Credential::join_code}, {"resume", Credential::resume_token}}};
  const char* chosen = nullptr;
  for (const auto& [name, credential] : credentials) {
    if (!f.has(name)) continue;
    if (chosen) return fail(ErrorCode::invalid_field, id, "give only one of 'key', 'code' and 'resume'");
    chosen = name;
    join.credential = credential;
  }
  if (!chosen) return fail(ErrorCode::missing_field, id, "missing field: one of 'key', 'code' or 'resume'");
  auto secret = f.string(chosen, max_secret_chars);
  if (auto* e = std::get_if<DecodeError>(&secret)) return *e;
  join.secret = std::get<std::string>(secret);

  if (join.credential == Credential::resume_token) {
    if (f.has("name")) return fail(ErrorCode::invalid_field, id, "field 'name' is not allowed with 'resume'");
    if (const json* after = f.find("after")) {
      if (!after->is_number_unsigned() || after->get<std::uint64_t>() > max_seq) {
        return fail(ErrorCode::invalid_field, id, "field 'after' must be a whole number from 0 to 2^53-1");
      }
      join.after = after->get<std::uint64_t>();
    }
  } else {
    if (f.has("after")) return fail(ErrorCode::invalid_field, id, "field 'after' is only allowed with 'resume'");
    const json* name = f.find("name");
    if (!name) return fail(ErrorCode::missing_field, id, "missing field 'name'");
    if (!name->is_string()) return fail(ErrorCode::invalid_field, id, "field 'name' must be a string");
    auto cleaned = clean_display_text(name->get_ref<const std::string&>(), max_name_chars);
    if (!cleaned) return fail(ErrorCode::invalid_name, id, "name must be 1 to 60 characters, without control characters");
    join.name = std::move(*cleaned);
  }
  return DecodedCommand{id, std::move(join)};
}

} // namespace

std::variant<DecodedCommand, DecodeError> decode_command(std::string_view frame) {
  json doc = json::parse(frame, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return fail(ErrorCode::bad_json, std::nullopt, "frame is not valid JSON");
  if (!doc.is_object()) return fail(ErrorCode::bad_frame, std::nullopt, "frame must be a JSON object");

  std::optional<std::string> id;
  auto id_it = doc.find("id");
  if (id_it != doc.end() && id_it->is_string() && valid_length(id_it->get_ref<const std::string&>(), max_id_chars)) {
    id = id_it->get<std::string>();
  }
  auto type_it = doc.find("type");
  if (type_it == doc.end() || !type_it->is_string()) return fail(ErrorCode::bad_frame, id, "frame needs a string 'type'");
  if (id_it == doc.end()) return fail(ErrorCode::missing_field, std::nullopt, "missing field 'id'");
  if (!id) return fail(ErrorCode::invalid_field, std::nullopt, "field 'id' must be a string of 1 to 64 characters");

  const auto& type = type_it->get_ref<const std::string&>();
  Fields fields(doc, *id);
  if (type == "join") return decode_join(fields, *id);
  if (type == "leave" || type == "ping") {
    if (auto e = fields.only({})) return *e;
    if (type == "leave") return DecodedCommand{*id, LeaveCommand{}};
    return DecodedCommand{*id, PingCommand{}};
  }
  return fail(ErrorCode::unknown_type, id, "unknown message type '" + type + "'");
}

std::string encode_reply(std::string_view id, const json& result) {
  return json{{"type", "reply"}, {"id", id}, {"result", result}}.dump();
}

std::string encode_error(const std::optional<std::string>& id, ErrorCode code, std::string_view message) {
  json out{{"type", "error"}, {"id", nullptr}, {"code", to_string(code)}, {"message", message}};
  if (id) out["id"] = *id;
  // Replace, never throw, if a message ever carried invalid UTF-8 from the input.
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string encode_welcome(std::string_view server, std::int64_t server_time_ms, std::size_t max_frame_bytes) {
  return json{{"type", "welcome"}, {"protocol", version}, {"server", server},
              {"server_time", server_time_ms}, {"max_frame_bytes", max_frame_bytes}}
      .dump();
}

json member_to_wire(const Member& member, bool with_presence) {
  json out{{"id", member.id}, {"name", member.name}, {"role", to_string(member.role)}};
  if (with_presence) out["presence"] = to_string(member.presence);
  return out;
}

namespace {
struct ToWire {
  json operator()(const RoomCreated& e) const { return {{"kind", "room_created"}, {"title", e.title}}; }
  json operator()(const MemberJoined& e) const {
    return {{"kind", "member_joined"}, {"member", {{"id", e.member_id}, {"name", e.name}, {"role", to_string(e.role)}}}};
  }
  json operator()(const MemberLeft& e) const { return {{"kind", "member_left"}, {"member_id", e.member_id}}; }
  json operator()(const MemberConnectionLost& e) const {
    return {{"kind", "member_connection_lost"}, {"member_id", e.member_id}};
  }
  json operator()(const MemberBack& e) const { return {{"kind", "member_back"}, {"member_id", e.member_id}}; }
};

std::optional<std::string> string_field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}
} // namespace

json event_to_wire(const EventBody& body) { return std::visit(ToWire{}, body); }

std::optional<EventBody> event_from_wire(const json& j) {
  if (!j.is_object()) return std::nullopt;
  const auto kind = string_field(j, "kind");
  if (!kind) return std::nullopt;
  if (*kind == "room_created") {
    if (auto title = string_field(j, "title")) return RoomCreated{*title, {}, {}};
    return std::nullopt;
  }
  if (*kind == "member_joined") {
    auto it = j.find("member");
    if (it == j.end() || !it->is_object()) return std::nullopt;
    auto id = string_field(*it, "id");
    auto name = string_field(*it, "name");
    auto role_text = string_field(*it, "role");
    auto role = role_text ? role_from_string(*role_text) : std::nullopt;
    if (!id || !name || !role) return std::nullopt;
    return MemberJoined{*id, *name, *role, {}};
  }
  auto member_id = string_field(j, "member_id");
  if (!member_id) return std::nullopt;
  if (*kind == "member_left") return MemberLeft{*member_id};
  if (*kind == "member_connection_lost") return MemberConnectionLost{*member_id};
  if (*kind == "member_back") return MemberBack{*member_id};
  return std::nullopt;
}

std::string encode_event_push(std::string_view room_id, const Event& event) {
  return json{{"type", "event"}, {"room", room_id}, {"seq", event.seq}, {"time", event.time_ms},
              {"event", event_to_wire(event.body)}}
      .dump();
}

json snapshot_to_wire(const RoomState& state) {
  json members = json::array();
  for (const auto& m : state.members) members.push_back(member_to_wire(m, true));
  return {{"room", state.id}, {"seq", state.seq}, {"title", state.title}, {"members", std::move(members)}};
}

} // namespace colloquy::protocol
