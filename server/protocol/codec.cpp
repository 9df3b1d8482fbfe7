#include "protocol/codec.hpp"

#include "core/text.hpp"

#include <array>
#include <cmath>

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

// ---- live-round commands (1.2)

using Decoded = std::variant<DecodedCommand, DecodeError>;

std::optional<DecodeError> member_field(const Fields& f, const std::string& id, std::string& out, bool required = true) {
  if (!required && !f.has("member")) return std::nullopt;
  auto v = f.string("member", max_room_chars);
  if (auto* e = std::get_if<DecodeError>(&v)) return *e;
  out = std::get<std::string>(v);
  (void)id;
  return std::nullopt;
}

// A whole number of seconds; `range_ok` decides invalid_duration.
std::optional<DecodeError> seconds_field(const json* value, const std::string& id, const char* name,
                                         bool (*range_ok)(std::int64_t), std::int64_t& out) {
  if (!value->is_number_integer()) {
    return fail(ErrorCode::invalid_field, id, std::string("field '") + name + "' must be a whole number of seconds");
  }
  const auto n = value->get<std::int64_t>();
  if (value->is_number_unsigned() && value->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
    return fail(ErrorCode::invalid_duration, id, std::string("field '") + name + "' is out of range");
  }
  if (!range_ok(n)) return fail(ErrorCode::invalid_duration, id, std::string("field '") + name + "' is out of range");
  out = n;
  return std::nullopt;
}

bool duration_ok(std::int64_t s) { return s >= 1 && s <= max_duration_seconds; }
bool extension_ok(std::int64_t s) { return s != 0 && s >= -max_duration_seconds && s <= max_duration_seconds; }

std::optional<DecodeError> bool_field(const Fields& f, const std::string& id, const char* name, bool required, bool& out) {
  const json* v = f.find(name);
  if (!v) {
    if (required) return fail(ErrorCode::missing_field, id, std::string("missing field '") + name + "'");
    return std::nullopt;
  }
  if (!v->is_boolean()) return fail(ErrorCode::invalid_field, id, std::string("field '") + name + "' must be true or false");
  out = v->get<bool>();
  return std::nullopt;
}

// A required free-text field (a prompt, a card): trimmed, 1-500 characters, line feeds allowed.
std::optional<DecodeError> text_field(const Fields& f, const std::string& id, std::string& out) {
  const json* text = f.find("text");
  if (!text) return fail(ErrorCode::missing_field, id, "missing field 'text'");
  if (!text->is_string()) return fail(ErrorCode::invalid_field, id, "field 'text' must be a string");
  auto cleaned = clean_prompt_text(text->get_ref<const std::string&>());
  if (!cleaned) return fail(ErrorCode::invalid_text, id, "the text must be 1 to 500 characters, without control characters");
  out = std::move(*cleaned);
  return std::nullopt;
}

Decoded room_command(const std::string& id, RoomCommand command) { return DecodedCommand{id, std::move(command)}; }

Decoded decode_live(const std::string& type, const Fields& f, const std::string& id) {
  if (type == "set_role") {
    if (auto e = f.only({"member", "role"})) return *e;
    SetRole c;
    if (auto e = member_field(f, id, c.member)) return *e;
    const json* role = f.find("role");
    if (!role) return fail(ErrorCode::missing_field, id, "missing field 'role'");
    auto parsed = role->is_string() ? role_from_string(role->get_ref<const std::string&>()) : std::nullopt;
    if (!parsed || *parsed == Role::facilitator) {
      return fail(ErrorCode::invalid_field, id, "field 'role' must be co_facilitator, participant or observer");
    }
    c.role = *parsed;
    return room_command(id, c);
  }
  if (type == "hand_over" || type == "round_later") {
    if (auto e = f.only({"member"})) return *e;
    std::string member;
    if (auto e = member_field(f, id, member)) return *e;
    if (type == "hand_over") return room_command(id, HandOver{{}, member});
    return room_command(id, MoveLater{{}, member});
  }
  if (type == "claim_facilitation" || type == "round_finish" || type == "round_pass" || type == "round_skip" ||
      type == "round_end" || type == "hand_raise" || type == "floor_release") {
    if (auto e = f.only({})) return *e;
    if (type == "claim_facilitation") return room_command(id, ClaimFacilitation{});
    if (type == "round_finish") return room_command(id, FinishTurn{{}, false});
    if (type == "round_pass") return room_command(id, FinishTurn{{}, true});
    if (type == "round_skip") return room_command(id, SkipTurn{});
    if (type == "round_end") return room_command(id, EndRound{});
    if (type == "hand_raise") return room_command(id, RaiseHand{});
    return room_command(id, ReleaseFloor{});
  }
  if (type == "settings") {
    if (auto e = f.only({"airtime_visibility"})) return *e;
    const json* v = f.find("airtime_visibility");
    if (!v) return fail(ErrorCode::missing_field, id, "missing field 'airtime_visibility'");
    auto parsed = v->is_string() ? airtime_visibility_from_string(v->get_ref<const std::string&>()) : std::nullopt;
    if (!parsed) return fail(ErrorCode::invalid_field, id, "field 'airtime_visibility' must be everyone or facilitators");
    return room_command(id, ChangeSettings{{}, *parsed});
  }
  if (type == "round_start") {
    if (auto e = f.only({"order", "turn_seconds", "auto_advance"})) return *e;
    StartRound c;
    const json* order = f.find("order");
    if (!order) return fail(ErrorCode::missing_field, id, "missing field 'order'");
    if (order->is_string() && order->get_ref<const std::string&>() == "join") {
      c.kind = OrderKind::join;
    } else if (order->is_string() && order->get_ref<const std::string&>() == "shuffle") {
      c.kind = OrderKind::shuffle;
    } else if (order->is_array() && !order->empty() && order->size() <= 1000) {
      c.kind = OrderKind::custom;
      for (const auto& m : *order) {
        if (!m.is_string() || !valid_length(m.get_ref<const std::string&>(), max_room_chars)) {
          return fail(ErrorCode::invalid_field, id, "field 'order' must list member ids");
        }
        c.order.push_back(m.get<std::string>());
      }
    } else {
      return fail(ErrorCode::invalid_field, id, "field 'order' must be \"join\", \"shuffle\" or a list of member ids");
    }
    const json* seconds = f.find("turn_seconds");
    if (!seconds) return fail(ErrorCode::missing_field, id, "missing field 'turn_seconds'");
    if (auto e = seconds_field(seconds, id, "turn_seconds", duration_ok, c.turn_seconds)) return *e;
    if (auto e = bool_field(f, id, "auto_advance", false, c.auto_advance)) return *e;
    return room_command(id, c);
  }
  if (type == "hand_lower" || type == "floor_give") {
    if (auto e = f.only({"member"})) return *e;
    std::optional<std::string> member;
    if (f.has("member")) {
      std::string m;
      if (auto e = member_field(f, id, m)) return *e;
      member = m;
    }
    if (type == "hand_lower") return room_command(id, LowerHand{{}, member});
    return room_command(id, GiveFloor{{}, member});
  }
  if (type == "floor_settings") {
    if (auto e = f.only({"turn_seconds", "auto_advance", "quieter_first"})) return *e;
    SetFloor c;
    const json* seconds = f.find("turn_seconds");
    if (!seconds) return fail(ErrorCode::missing_field, id, "missing field 'turn_seconds'");
    if (!seconds->is_null()) {
      std::int64_t n = 0;
      if (auto e = seconds_field(seconds, id, "turn_seconds", duration_ok, n)) return *e;
      c.turn_seconds = n;
    }
    if (auto e = bool_field(f, id, "auto_advance", true, c.auto_advance)) return *e;
    if (auto e = bool_field(f, id, "quieter_first", true, c.quieter_first)) return *e;
    return room_command(id, c);
  }
  if (type == "prompt_submit") {
    if (auto e = f.only({"text"})) return *e;
    std::string cleaned;
    if (auto e = text_field(f, id, cleaned)) return *e;
    return DecodedCommand{id, PromptCommand{PromptCommand::Kind::submit, std::move(cleaned), {}, {}}};
  }
  if (type == "prompt_release") {
    if (auto e = f.only({"prompts"})) return *e;
    PromptCommand c{PromptCommand::Kind::release, {}, {}, {}};
    if (const json* list = f.find("prompts")) {
      if (!list->is_array() || list->empty() || list->size() > 100) {
        return fail(ErrorCode::invalid_field, id, "field 'prompts' must list 1 to 100 prompt ids");
      }
      for (const auto& p : *list) {
        if (!p.is_string() || !valid_length(p.get_ref<const std::string&>(), max_room_chars)) {
          return fail(ErrorCode::invalid_field, id, "field 'prompts' must list prompt ids");
        }
        c.prompts.push_back(p.get<std::string>());
      }
    }
    return DecodedCommand{id, std::move(c)};
  }
  if (type == "prompt_hold" || type == "prompt_discard" || type == "prompt_upvote" || type == "prompt_pose") {
    if (auto e = f.only(type == "prompt_pose" ? std::initializer_list<std::string_view>{"prompt", "member"}
                                              : std::initializer_list<std::string_view>{"prompt"})) {
      return *e;
    }
    auto prompt = f.string("prompt", max_room_chars);
    if (auto* e = std::get_if<DecodeError>(&prompt)) return *e;
    std::string p = std::get<std::string>(prompt);
    if (type == "prompt_hold") return DecodedCommand{id, PromptCommand{PromptCommand::Kind::hold, {}, {}, p}};
    if (type == "prompt_discard") return DecodedCommand{id, PromptCommand{PromptCommand::Kind::discard, {}, {}, p}};
    if (type == "prompt_upvote") return room_command(id, UpvotePrompt{{}, p});
    std::optional<std::string> member;
    if (f.has("member")) {
      std::string m;
      if (auto e = member_field(f, id, m)) return *e;
      member = m;
    }
    return room_command(id, PosePrompt{{}, p, member});
  }
  if (type == "deck_add") {
    if (auto e = f.only({"text"})) return *e;
    std::string cleaned;
    if (auto e = text_field(f, id, cleaned)) return *e;
    return room_command(id, AddCard{{}, std::move(cleaned)});
  }
  if (type == "deck_remove") {
    if (auto e = f.only({"card"})) return *e;
    auto card = f.string("card", max_room_chars);
    if (auto* e = std::get_if<DecodeError>(&card)) return *e;
    return room_command(id, RemoveCard{{}, std::get<std::string>(card)});
  }
  if (type == "deck_draw") {
    if (auto e = f.only({})) return *e;
    return room_command(id, DrawCard{});
  }
  if (type == "audit_open") {
    if (auto e = f.only({"k"})) return *e;
    AuditCommand c{AuditCommand::Kind::open, 5, {}, {}};
    if (const json* k = f.find("k")) {
      if (!k->is_number_integer() || k->get<std::int64_t>() < min_audit_k || k->get<std::int64_t>() > max_audit_k) {
        return fail(ErrorCode::invalid_field, id, "field 'k' must be a whole number from 3 to 50");
      }
      c.k = k->get<std::int64_t>();
    }
    return DecodedCommand{id, std::move(c)};
  }
  if (type == "audit_close") {
    if (auto e = f.only({})) return *e;
    return DecodedCommand{id, AuditCommand{AuditCommand::Kind::close, 5, {}, {}}};
  }
  if (type == "audit_answer") {
    if (auto e = f.only({"answers", "comment"})) return *e;
    AuditCommand c{AuditCommand::Kind::answer, 5, {}, {}};
    const json* answers = f.find("answers");
    if (!answers) return fail(ErrorCode::missing_field, id, "missing field 'answers'");
    if (!answers->is_object() || answers->size() > 100) {
      return fail(ErrorCode::invalid_field, id, "field 'answers' must map each statement to 1 to 5");
    }
    for (auto it = answers->begin(); it != answers->end(); ++it) {
      if (!valid_length(it.key(), max_room_chars) || !it->is_number_integer()) {
        return fail(ErrorCode::invalid_field, id, "field 'answers' must map each statement to a whole number");
      }
      const auto v = it->get<std::int64_t>();
      if (v < 1 || v > 5) return fail(ErrorCode::invalid_answer, id, "answers are 1 to 5");
      c.answers.emplace_back(it.key(), v);
    }
    if (const json* comment = f.find("comment")) {
      if (!comment->is_string()) return fail(ErrorCode::invalid_field, id, "field 'comment' must be a string");
      auto cleaned = clean_prompt_text(comment->get_ref<const std::string&>());
      if (!cleaned) return fail(ErrorCode::invalid_text, id, "a comment is 1 to 500 characters, without control characters");
      c.comment = std::move(*cleaned);
    }
    return DecodedCommand{id, std::move(c)};
  }
  if (type == "timer") {
    if (auto e = f.only({"timer", "action", "seconds"})) return *e;
    TimerCommand c;
    const json* timer = f.find("timer");
    if (!timer) return fail(ErrorCode::missing_field, id, "missing field 'timer'");
    auto which = timer->is_string() ? timer_id_from_string(timer->get_ref<const std::string&>()) : std::nullopt;
    if (!which) return fail(ErrorCode::invalid_field, id, "field 'timer' must be phase or turn");
    c.timer = *which;
    const json* action = f.find("action");
    if (!action) return fail(ErrorCode::missing_field, id, "missing field 'action'");
    auto act = action->is_string() ? timer_action_from_string(action->get_ref<const std::string&>()) : std::nullopt;
    if (!act) return fail(ErrorCode::invalid_field, id, "field 'action' must be start, pause, resume, extend or reset");
    c.action = *act;
    const json* seconds = f.find("seconds");
    if (c.action == TimerAction::start || c.action == TimerAction::extend) {
      if (!seconds) return fail(ErrorCode::missing_field, id, "missing field 'seconds'");
      if (auto e = seconds_field(seconds, id, "seconds", c.action == TimerAction::start ? duration_ok : extension_ok, c.seconds)) {
        return *e;
      }
    } else if (seconds) {
      return fail(ErrorCode::invalid_field, id, "field 'seconds' is only for start and extend");
    }
    return room_command(id, c);
  }
  return fail(ErrorCode::unknown_type, id, "unknown message type '" + type + "'");
}

} // namespace

namespace {
// An ephemeral update (1.4): kind "cursor" with data {x, y}, finite numbers of at most 1e6.
Decoded decode_ephemeral(const Fields& f, const std::string& id) {
  if (auto e = f.only({"kind", "data"})) return *e;
  auto kind = f.string("kind", 32);
  if (auto* e = std::get_if<DecodeError>(&kind)) return *e;
  if (std::get<std::string>(kind) != "cursor") return fail(ErrorCode::invalid_field, id, "field 'kind' must be cursor");
  const json* data = f.find("data");
  if (!data) return fail(ErrorCode::missing_field, id, "missing field 'data'");
  if (!data->is_object()) return fail(ErrorCode::invalid_field, id, "field 'data' must be an object {x, y}");
  for (auto it = data->begin(); it != data->end(); ++it) {
    if (it.key() != "x" && it.key() != "y") return fail(ErrorCode::unknown_field, id, "unknown field 'data." + it.key() + "'");
  }
  EphemeralCommand out{"cursor", json::object()};
  for (const char* axis : {"x", "y"}) {
    auto it = data->find(axis);
    if (it == data->end()) return fail(ErrorCode::missing_field, id, std::string("missing field 'data.") + axis + "'");
    if (!it->is_number() || !(std::abs(it->get<double>()) <= max_ephemeral_coordinate)) {
      return fail(ErrorCode::invalid_field, id, std::string("field 'data.") + axis + "' must be a number from -1e6 to 1e6");
    }
    out.data[axis] = it->get<double>();
  }
  return DecodedCommand{id, std::move(out)};
}
} // namespace

std::string encode_ephemeral(std::string_view room_id, std::string_view from, std::string_view kind, const json& data) {
  return json{{"type", "ephemeral"}, {"room", room_id}, {"from", from}, {"kind", kind}, {"data", data}}.dump();
}

Command to_core(RoomCommand command, std::string actor, std::uint64_t seed) {
  std::visit([&](auto& cmd) { cmd.actor = actor; }, command);
  if (auto* start = std::get_if<StartRound>(&command)) start->shuffle_seed = seed;
  if (auto* draw = std::get_if<DrawCard>(&command)) draw->seed = seed;
  return std::visit([](auto& cmd) -> Command { return std::move(cmd); }, command);
}

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
  if (type == "ephemeral") return decode_ephemeral(fields, *id);
  return decode_live(type, fields, *id);
}

std::string_view command_name(const ClientCommand& command) {
  struct Name {
    std::string_view operator()(const JoinCommand&) const { return "join"; }
    std::string_view operator()(const LeaveCommand&) const { return "leave"; }
    std::string_view operator()(const PingCommand&) const { return "ping"; }
    std::string_view operator()(const EphemeralCommand&) const { return "ephemeral"; }
    std::string_view operator()(const RoomCommand& c) const {
      struct Inner {
        std::string_view operator()(const SetRole&) const { return "set_role"; }
        std::string_view operator()(const HandOver&) const { return "hand_over"; }
        std::string_view operator()(const ClaimFacilitation&) const { return "claim_facilitation"; }
        std::string_view operator()(const ChangeSettings&) const { return "settings"; }
        std::string_view operator()(const StartRound&) const { return "round_start"; }
        std::string_view operator()(const FinishTurn& f) const { return f.pass ? "round_pass" : "round_finish"; }
        std::string_view operator()(const SkipTurn&) const { return "round_skip"; }
        std::string_view operator()(const MoveLater&) const { return "round_later"; }
        std::string_view operator()(const EndRound&) const { return "round_end"; }
        std::string_view operator()(const RaiseHand&) const { return "hand_raise"; }
        std::string_view operator()(const LowerHand&) const { return "hand_lower"; }
        std::string_view operator()(const GiveFloor&) const { return "floor_give"; }
        std::string_view operator()(const ReleaseFloor&) const { return "floor_release"; }
        std::string_view operator()(const SetFloor&) const { return "floor_settings"; }
        std::string_view operator()(const TimerCommand&) const { return "timer"; }
        std::string_view operator()(const UpvotePrompt&) const { return "prompt_upvote"; }
        std::string_view operator()(const PosePrompt&) const { return "prompt_pose"; }
        std::string_view operator()(const AddCard&) const { return "deck_add"; }
        std::string_view operator()(const RemoveCard&) const { return "deck_remove"; }
        std::string_view operator()(const DrawCard&) const { return "deck_draw"; }
      };
      return std::visit(Inner{}, c);
    }
    std::string_view operator()(const AuditCommand& c) const {
      switch (c.kind) {
      case AuditCommand::Kind::open: return "audit_open";
      case AuditCommand::Kind::answer: return "audit_answer";
      case AuditCommand::Kind::close: return "audit_close";
      }
      return "audit_open";
    }
    std::string_view operator()(const PromptCommand& c) const {
      switch (c.kind) {
      case PromptCommand::Kind::submit: return "prompt_submit";
      case PromptCommand::Kind::release: return "prompt_release";
      case PromptCommand::Kind::hold: return "prompt_hold";
      case PromptCommand::Kind::discard: return "prompt_discard";
      }
      return "prompt_submit";
    }
  };
  return std::visit(Name{}, command);
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

json timer_to_wire(const Timer& t) {
  json out{{"state", to_string(t.state)}, {"duration_ms", t.duration_ms}, {"ends_at", nullptr}, {"remaining_ms", nullptr}};
  if (t.state == TimerState::running || t.state == TimerState::expired) out["ends_at"] = t.ends_at_ms;
  if (t.state == TimerState::paused || t.state == TimerState::expired) out["remaining_ms"] = t.remaining_ms;
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

std::optional<Timer> timer_from_wire(const json& j) {
  if (!j.is_object()) return std::nullopt;
  auto state_it = j.find("state");
  if (state_it == j.end() || !state_it->is_string()) return std::nullopt;
  auto state = timer_state_from_string(state_it->get_ref<const std::string&>());
  auto duration = int_field(j, "duration_ms");
  if (!state || !duration) return std::nullopt;
  Timer t{*state, *duration, int_field(j, "ends_at").value_or(0), int_field(j, "remaining_ms").value_or(0)};
  return t;
}

namespace {
json audit_header(const std::string& id, std::int64_t k, const std::vector<AuditItem>& items) {
  json list = json::array();
  for (const auto& i : items) list.push_back({{"id", i.id}, {"text", i.text}});
  return {{"id", id}, {"k", k}, {"items", std::move(list)}};
}

// {"id", "text"} items (deck cards, released prompts) as a JSON list.
template <typename Item>
json id_text_to_wire(const std::vector<Item>& items) {
  json list = json::array();
  for (const auto& i : items) list.push_back({{"id", i.id}, {"text", i.text}});
  return list;
}

json cards_to_wire(const std::vector<DeckCard>& cards) { return id_text_to_wire(cards); }

json audit_results_to_wire(const AuditResults& r) {
  json items = json::array();
  for (const auto& i : r.items) items.push_back({{"id", i.id}, {"counts", i.counts}});
  return {{"items", std::move(items)}, {"comments", r.comments}};
}

struct ToWire {
  json operator()(const RoleChanged& e) const { return {{"kind", "role_changed"}, {"member_id", e.member_id}, {"role", to_string(e.role)}}; }
  json operator()(const SettingsChanged& e) const {
    return {{"kind", "settings_changed"}, {"airtime_visibility", to_string(e.airtime_visibility)}};
  }
  json operator()(const RoundStarted& e) const {
    return {{"kind", "round_started"},
            {"round", {{"id", e.id}, {"order", e.order}, {"turn_seconds", e.turn_seconds}, {"auto_advance", e.auto_advance}}}};
  }
  json operator()(const RoundOrderChanged& e) const { return {{"kind", "round_order_changed"}, {"remaining", e.remaining}}; }
  json operator()(const RoundEnded& e) const { return {{"kind", "round_ended"}, {"reason", to_string(e.reason)}}; }
  json operator()(const TurnStarted& e) const {
    return {{"kind", "turn_started"}, {"member_id", e.member_id}, {"mode", to_string(e.mode)}};
  }
  json operator()(const TurnEnded& e) const {
    return {{"kind", "turn_ended"}, {"member_id", e.member_id}, {"outcome", to_string(e.outcome)}, {"ms", e.ms}};
  }
  json operator()(const HandRaised& e) const { return {{"kind", "hand_raised"}, {"member_id", e.member_id}}; }
  json operator()(const HandLowered& e) const { return {{"kind", "hand_lowered"}, {"member_id", e.member_id}}; }
  json operator()(const FloorSettingsChanged& e) const {
    json out{{"kind", "floor_settings_changed"}, {"turn_seconds", nullptr}, {"auto_advance", e.auto_advance},
             {"quieter_first", e.quieter_first}};
    if (e.turn_seconds) out["turn_seconds"] = *e.turn_seconds;
    return out;
  }
  json operator()(const TimerSet& e) const {
    return {{"kind", "timer_set"}, {"timer", to_string(e.timer)}, {"action", to_string(e.action)}, {"state", timer_to_wire(e.state)}};
  }
  json operator()(const TimerExpired& e) const { return {{"kind", "timer_expired"}, {"timer", to_string(e.timer)}}; }
  json operator()(const PromptsReleased& e) const {
    return {{"kind", "prompts_released"}, {"prompts", id_text_to_wire(e.prompts)}};
  }
  json operator()(const PromptUpvoted& e) const {
    return {{"kind", "prompt_upvoted"}, {"prompt_id", e.prompt_id}, {"votes", e.votes}};
  }
  json operator()(const DeckChanged& e) const { return {{"kind", "deck_changed"}, {"cards", cards_to_wire(e.cards)}}; }
  json operator()(const DeckCardDrawn& e) const {
    return {{"kind", "deck_card_drawn"}, {"card", {{"id", e.card.id}, {"text", e.card.text}}}};
  }
  json operator()(const AuditOpened& e) const {
    return {{"kind", "audit_opened"}, {"audit", audit_header(e.id, e.k, e.items)}};
  }
  json operator()(const AuditClosed& e) const {
    return {{"kind", "audit_closed"}, {"audit_id", e.id}, {"responses", e.responses},
            {"results", e.results ? audit_results_to_wire(*e.results) : json(nullptr)}};
  }
  json operator()(const PromptPosed& e) const {
    json out{{"kind", "prompt_posed"}, {"prompt_id", e.prompt_id}, {"member_id", nullptr}};
    if (e.member_id) out["member_id"] = *e.member_id;
    return out;
  }
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

std::optional<Audit> audit_header_from(const json& j) {
  if (!j.is_object()) return std::nullopt;
  auto id = string_field(j, "id");
  auto items_it = j.find("items");
  auto k_it = j.find("k");
  if (!id || k_it == j.end() || !k_it->is_number_integer() || items_it == j.end() || !items_it->is_array()) return std::nullopt;
  Audit a{*id, k_it->get<std::int64_t>(), {}, true, 0, std::nullopt};
  for (const auto& i : *items_it) {
    auto item_id = string_field(i, "id");
    auto text = string_field(i, "text");
    if (!item_id || !text) return std::nullopt;
    a.items.push_back(AuditItem{*item_id, *text});
  }
  return a;
}

std::optional<AuditResults> audit_results_from(const json& j) {
  if (!j.is_object() || !j.contains("items") || !j["items"].is_array() || !j.contains("comments") || !j["comments"].is_array()) {
    return std::nullopt;
  }
  AuditResults r;
  for (const auto& i : j["items"]) {
    auto id = string_field(i, "id");
    auto counts = i.find("counts");
    if (!id || counts == i.end() || !counts->is_array() || counts->size() != 5) return std::nullopt;
    AuditResults::Item item{*id, {}};
    for (std::size_t n = 0; n < 5; ++n) {
      if (!(*counts)[n].is_number_integer()) return std::nullopt;
      item.counts[n] = (*counts)[n].get<std::int64_t>();
    }
    r.items.push_back(std::move(item));
  }
  for (const auto& c : j["comments"]) {
    if (!c.is_string()) return std::nullopt;
    r.comments.push_back(c.get<std::string>());
  }
  return r;
}

// A string field naming one value of an enum, read with `parse` (e.g. role_from_string).
template <typename Parse>
auto enum_field(const json& j, const char* name, Parse parse) -> decltype(parse(std::string_view{})) {
  auto text = string_field(j, name);
  if (!text) return std::nullopt;
  return parse(*text);
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
    auto role = enum_field(*it, "role", role_from_string);
    if (!id || !name || !role) return std::nullopt;
    return MemberJoined{*id, *name, *role, {}};
  }
  if (*kind == "settings_changed") {
    auto parsed = enum_field(j, "airtime_visibility", airtime_visibility_from_string);
    if (!parsed) return std::nullopt;
    return SettingsChanged{*parsed};
  }
  if (*kind == "round_started") {
    auto it = j.find("round");
    if (it == j.end() || !it->is_object()) return std::nullopt;
    auto id = int_field(*it, "id");
    auto order = id_list(*it, "order");
    auto seconds = int_field(*it, "turn_seconds");
    auto automatic = bool_of(*it, "auto_advance");
    if (!id || *id < 1 || !order || !seconds || !automatic) return std::nullopt;
    return RoundStarted{static_cast<std::uint64_t>(*id), *order, *seconds, *automatic};
  }
  if (*kind == "round_order_changed") {
    auto remaining = id_list(j, "remaining");
    if (!remaining) return std::nullopt;
    return RoundOrderChanged{*remaining};
  }
  if (*kind == "round_ended") {
    auto parsed = enum_field(j, "reason", round_end_reason_from_string);
    if (!parsed) return std::nullopt;
    return RoundEnded{*parsed};
  }
  if (*kind == "floor_settings_changed") {
    auto automatic = bool_of(j, "auto_advance");
    auto quieter = bool_of(j, "quieter_first");
    auto it = j.find("turn_seconds");
    if (!automatic || !quieter || it == j.end() || !(it->is_null() || it->is_number_integer())) return std::nullopt;
    std::optional<std::int64_t> seconds;
    if (!it->is_null()) seconds = it->get<std::int64_t>();
    return FloorSettingsChanged{seconds, *automatic, *quieter};
  }
  if (*kind == "timer_set" || *kind == "timer_expired") {
    auto which = enum_field(j, "timer", timer_id_from_string);
    if (!which) return std::nullopt;
    if (*kind == "timer_expired") return TimerExpired{*which};
    auto action = enum_field(j, "action", timer_action_from_string);
    auto it = j.find("state");
    auto state = it == j.end() ? std::nullopt : timer_from_wire(*it);
    if (!action || !state) return std::nullopt;
    return TimerSet{*which, *action, *state};
  }
  if (*kind == "deck_changed") {
    auto cards = cards_from(j, "cards");
    if (!cards) return std::nullopt;
    return DeckChanged{std::move(*cards)};
  }
  if (*kind == "deck_card_drawn") {
    auto it = j.find("card");
    if (it == j.end()) return std::nullopt;
    auto id = string_field(*it, "id");
    auto text = string_field(*it, "text");
    if (!id || !text) return std::nullopt;
    return DeckCardDrawn{DeckCard{*id, *text}};
  }
  if (*kind == "audit_opened") {
    auto it = j.find("audit");
    if (it == j.end()) return std::nullopt;
    auto header = audit_header_from(*it);
    if (!header) return std::nullopt;
    return AuditOpened{header->id, header->k, header->items};
  }
  if (*kind == "audit_closed") {
    auto id = string_field(j, "audit_id");
    auto responses = int_field(j, "responses");
    auto results_it = j.find("results");
    if (!id || !responses || results_it == j.end()) return std::nullopt;
    std::optional<AuditResults> results;
    if (!results_it->is_null()) {
      results = audit_results_from(*results_it);
      if (!results) return std::nullopt;
    }
    return AuditClosed{*id, *responses, std::move(results)};
  }
  if (*kind == "prompts_released") {
    auto prompts = id_text_list<PromptText>(j, "prompts");
    if (!prompts) return std::nullopt;
    return PromptsReleased{std::move(*prompts)};
  }
  if (*kind == "prompt_upvoted") {
    auto prompt = string_field(j, "prompt_id");
    auto votes = int_field(j, "votes");
    if (!prompt || !votes) return std::nullopt;
    return PromptUpvoted{*prompt, *votes};
  }
  if (*kind == "prompt_posed") {
    auto prompt = string_field(j, "prompt_id");
    auto it = j.find("member_id");
    if (!prompt || it == j.end() || !(it->is_null() || it->is_string())) return std::nullopt;
    std::optional<std::string> member;
    if (it->is_string()) member = it->get<std::string>();
    return PromptPosed{*prompt, member};
  }
  auto member_id = string_field(j, "member_id");
  if (!member_id) return std::nullopt;
  if (*kind == "role_changed") {
    auto role = enum_field(j, "role", role_from_string);
    if (!role) return std::nullopt;
    return RoleChanged{*member_id, *role};
  }
  if (*kind == "turn_started") {
    auto mode = enum_field(j, "mode", turn_mode_from_string);
    if (!mode) return std::nullopt;
    return TurnStarted{*member_id, *mode};
  }
  if (*kind == "turn_ended") {
    auto outcome = enum_field(j, "outcome", outcome_from_string);
    auto ms = int_field(j, "ms");
    if (!outcome || !ms) return std::nullopt;
    return TurnEnded{*member_id, *outcome, *ms};
  }
  if (*kind == "hand_raised") return HandRaised{*member_id};
  if (*kind == "hand_lowered") return HandLowered{*member_id};
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
      audit["results"] = state.audit->results ? audit_results_to_wire(*state.audit->results) : json(nullptr);
    }
  }
  return {{"settings", {{"airtime_visibility", to_string(state.airtime_visibility)}}},
          {"prompts", std::move(prompts)},
          {"audit", std::move(audit)},
          {"deck", {{"cards", cards_to_wire(state.deck())}, {"drawn", state.deck_drawn}}},
          {"round", std::move(round)},
          {"floor", std::move(floor)},
          {"turn", std::move(turn)},
          {"timers", {{"phase", timer_to_wire(state.phase_timer)}, {"turn", timer_to_wire(state.turn_timer)}}}};
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
  auto phase = timer_from_wire((*timers)["phase"]);
  auto turn_timer = timer_from_wire((*timers)["turn"]);
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
    auto header = audit_header_from(*audit);
    if (!header || !audit->contains("open") || !(*audit)["open"].is_boolean()) return false;
    header->open = (*audit)["open"].get<bool>();
    if (!header->open) {
      header->responses = int_field(*audit, "responses").value_or(0);
      if (audit->contains("results") && !(*audit)["results"].is_null()) {
        header->results = audit_results_from((*audit)["results"]);
        if (!header->results) return false;
      }
    }
    state.audit = std::move(*header);
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
