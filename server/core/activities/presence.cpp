#include "core/activities/presence.hpp"

#include "core/room.hpp"
#include "core/secret.hpp"
#include "core/state_bytes.hpp"

#include <charconv>

namespace colloquy {

std::uint32_t member_number(std::string_view id) {
  // Ids are "m1", "m2", … in join order.
  if (id.size() < 2 || id[0] != 'm') return 0;
  std::uint32_t n = 0;
  auto [ptr, ec] = std::from_chars(id.data() + 1, id.data() + id.size(), n);
  return ec == std::errc{} && ptr == id.data() + id.size() ? n : 0;
}

} // namespace colloquy

namespace colloquy::presence {

const Member* actor(const RoomState& room, const std::string& id) {
  const Member* m = room.find_member(id);
  return m && m->presence != Presence::left ? m : nullptr;
}

const Member* lead(const RoomState& room, const std::string& id) {
  const Member* a = actor(room, id);
  return a && leads(a->role) ? a : nullptr;
}

std::size_t present(const RoomState& room) {
  std::size_t n = 0;
  for (const auto& m : room.members) n += m.presence == Presence::left ? 0 : 1;
  return n;
}

std::optional<Error> check_invitation(const RoomState& room, Credential credential, std::string_view secret) {
  if (!room.exists() || room.closed) return Error{ErrorCode::room_not_found, "no room with that id"};
  const bool facilitator = credential == Credential::facilitator_key;
  if (!facilitator && credential != Credential::join_code) {
    return Error{ErrorCode::bad_credentials, "only a facilitator key or a join code is an invitation"};
  }
  if (!constant_time_equal(facilitator ? room.key_hash : room.code_hash, secret_hash(secret))) {
    return Error{ErrorCode::bad_credentials, facilitator ? "that facilitator key is not valid for this room"
                                                         : "that join code is not valid for this room"};
  }
  return std::nullopt;
}

DecideResult decide(const RoomState& room, const Join& c, const Context& ctx) {
  if (!room.exists() || room.closed) return Error{ErrorCode::room_not_found, "no room with that id"};
  if (c.credential == Credential::resume_token) {
    const std::string presented = secret_hash(c.secret);
    // Check every member so the time taken does not depend on which one matched.
    const Member* found = nullptr;
    for (const auto& m : room.members) {
      if (constant_time_equal(m.token_hash, presented)) found = &m;
    }
    if (!found) return Error{ErrorCode::bad_credentials, "that resume token is not valid for this room"};
    if (found->presence == Presence::online) return Decision{{}, found->id};
    // A member who left comes back into a place of their own: only if there is one.
    if (found->presence == Presence::left && present(room) >= ctx.limits.max_members) {
      return Error{ErrorCode::room_full, "the room is full"};
    }
    Emitter out(room.seq, ctx.now_ms);
    out.emit(MemberBack{found->id});
    if (found->role != Role::observer) speaking::Chain(room, out).rejoin_round(found->id);
    return out.take(found->id);
  }
  if (auto refused = check_invitation(room, c.credential, c.secret)) return *refused;
  const bool facilitator = c.credential == Credential::facilitator_key;
  // Members who left or were removed hold no place, but their records stay (round results name
  // them), up to member_records_per_place per place.
  if (present(room) >= ctx.limits.max_members) return Error{ErrorCode::room_full, "the room is full"};
  if (room.members.size() >= ctx.limits.max_member_records()) {
    return Error{ErrorCode::room_full, "the room has had as many members as it can keep; it takes no new ones"};
  }
  std::string id = "m" + std::to_string(room.members.size() + 1);
  if (auto full = state_bytes::check_growth(room, state_bytes::member(id, c.name), ctx)) return *full;
  Emitter out(room.seq, ctx.now_ms);
  out.emit(MemberJoined{MemberInfo{id, c.name, facilitator ? Role::facilitator : Role::participant}, c.new_token_hash});
  return out.take(id);
}

namespace {
// A member goes (left, or lost their connection): the presence change, then their hand and turn end.
Decision departure(const RoomState& room, const Context& ctx, const std::string& member_id, EventBody presence) {
  Emitter out(room.seq, ctx.now_ms);
  out.emit(std::move(presence));
  speaking::Chain chain(room, out);
  chain.cannot_speak(member_id);
  chain.withdraw(member_id);
  return out.take(member_id);
}
} // namespace

namespace {
// The member may no longer speak: their hand, their turn and their place in the round go.
void take_out_of_speaking(const RoomState& room, Emitter& out, const std::string& member_id) {
  speaking::Chain chain(room, out);
  chain.cannot_speak(member_id);
  chain.withdraw(member_id);
  chain.drop_from_round(member_id);
}
} // namespace

DecideResult decide(const RoomState& room, const Leave& c, const Context& ctx) {
  const Member* m = room.find_member(c.member_id);
  if (!m || m->presence == Presence::left) return Error{ErrorCode::not_joined, "you are not in this room"};
  return departure(room, ctx, c.member_id, MemberLeft{c.member_id});
}

DecideResult decide(const RoomState& room, const LoseConnection& c, const Context& ctx) {
  const Member* m = room.find_member(c.member_id);
  // Only an online member can lose a connection; anything else is a no-op, not an error.
  if (!m || m->presence != Presence::online) return Decision{{}, c.member_id};
  // Not a departure: a speaker keeps the turn for the grace, and while paused nothing changes.
  Emitter out(room.seq, ctx.now_ms);
  out.emit(MemberConnectionLost{c.member_id});
  speaking::Chain(room, out).connection_lost(c.member_id, ctx.limits.speaker_grace_ms);
  return out.take(c.member_id);
}

DecideResult decide(const RoomState& room, const SetRole& c, const Context& ctx) {
  const Member* a = actor(room, c.actor);
  if (!a || a->role != Role::facilitator) return forbidden("only the facilitator changes roles");
  if (c.member == c.actor) return Error{ErrorCode::invalid_field, "use hand_over to give up the facilitator role"};
  if (c.role == Role::facilitator) return Error{ErrorCode::invalid_field, "use hand_over to make someone facilitator"};
  const Member* m = room.find_member(c.member);
  if (!m) return Error{ErrorCode::unknown_member, "no member with that id"};
  if (m->role == c.role) return Decision{};
  Emitter out(room.seq, ctx.now_ms);
  out.emit(RoleChanged{c.member, c.role});
  if (c.role == Role::observer) take_out_of_speaking(room, out, c.member); // observers do not speak
  return out.take();
}

DecideResult decide(const RoomState& room, const HandOver& c, const Context& ctx) {
  const Member* a = actor(room, c.actor);
  if (!a || a->role != Role::facilitator) return forbidden("only the facilitator hands the role over");
  const Member* m = actor(room, c.member);
  if (!m) return Error{ErrorCode::unknown_member, "no member with that id in the room"};
  if (c.member == c.actor) return Decision{};
  Emitter out(room.seq, ctx.now_ms);
  out.emit(RoleChanged{c.member, Role::facilitator});
  out.emit(RoleChanged{c.actor, Role::co_facilitator});
  return out.take();
}

DecideResult decide(const RoomState& room, const ClaimFacilitation& c, const Context& ctx) {
  const Member* a = actor(room, c.actor);
  if (!a || a->role != Role::co_facilitator) return forbidden("only a co-facilitator may claim the facilitation");
  for (const auto& m : room.members) {
    if (m.role != Role::facilitator) continue;
    if (m.presence == Presence::online || ctx.now_ms - m.away_since_ms < facilitator_grace_ms) {
      return Error{ErrorCode::facilitator_present,
                   "a facilitator is here or left less than 120 seconds ago; ask them to hand over"};
    }
  }
  Emitter out(room.seq, ctx.now_ms);
  out.emit(RoleChanged{c.actor, Role::facilitator});
  for (const auto& m : room.members) {
    if (m.role == Role::facilitator) out.emit(RoleChanged{m.id, Role::co_facilitator});
  }
  return out.take();
}

DecideResult decide(const RoomState& room, const RemoveMember& c, const Context& ctx) {
  const Member* a = lead(room, c.actor);
  if (!a) return forbidden("only facilitators remove members");
  if (c.member == c.actor) return Error{ErrorCode::cannot_remove, "you cannot remove yourself; use leave"};
  const Member* m = room.find_member(c.member);
  if (!m) return Error{ErrorCode::unknown_member, "no member with that id"};
  if (m->token_hash.empty()) return Error{ErrorCode::cannot_remove, "that member was removed already"};
  // A co-facilitator removes participants and observers; only a facilitator removes a lead. The
  // sender stays, so the room never loses its last facilitator this way.
  if (a->role != Role::facilitator && leads(m->role)) {
    return Error{ErrorCode::cannot_remove, "only the facilitator removes a facilitator or co-facilitator"};
  }
  Emitter out(room.seq, ctx.now_ms);
  out.emit(MemberRemoved{c.member});
  if (m->presence != Presence::left) take_out_of_speaking(room, out, c.member);
  return out.take();
}

DecideResult decide(const RoomState& room, const CloseRoom& c, const Context& ctx) {
  const Member* a = actor(room, c.actor);
  if (!a || a->role != Role::facilitator) return forbidden("only the facilitator closes the room");
  Emitter out(room.seq, ctx.now_ms);
  out.emit(RoomClosed{});
  return out.take();
}

DecideResult decide(const RoomState& room, const ChangeSettings& c, const Context& ctx) {
  const Member* a = actor(room, c.actor);
  if (!a || a->role != Role::facilitator) return forbidden("only the facilitator changes room settings");
  if (room.presence.airtime_visibility == c.airtime_visibility) return Decision{};
  Emitter out(room.seq, ctx.now_ms);
  out.emit(SettingsChanged{c.airtime_visibility});
  return out.take();
}

namespace {
void set_presence(RoomState& room, const std::string& member_id, Presence presence, std::int64_t time_ms) {
  if (Member* m = room.find_member(member_id)) {
    if (m->presence == Presence::online && presence != Presence::online) m->away_since_ms = time_ms;
    m->presence = presence;
  }
}
} // namespace

void evolve(RoomState& room, const MemberJoined& e, std::int64_t) {
  room.members.push_back(Member{e.member.id, e.member.name, e.member.role, Presence::online, e.token_hash});
}
void evolve(RoomState& room, const MemberLeft& e, std::int64_t t) { set_presence(room, e.member_id, Presence::left, t); }
void evolve(RoomState& room, const MemberConnectionLost& e, std::int64_t t) { set_presence(room, e.member_id, Presence::away, t); }
void evolve(RoomState& room, const MemberBack& e, std::int64_t t) { set_presence(room, e.member_id, Presence::online, t); }
void evolve(RoomState& room, const MemberRemoved& e, std::int64_t t) {
  set_presence(room, e.member_id, Presence::left, t);
  // No resume token matches an empty hash: the removed member can come back only as someone new.
  if (Member* m = room.find_member(e.member_id)) m->token_hash.clear();
}
void evolve(RoomState& room, const RoomClosed&, std::int64_t) { room.closed = true; }
void evolve(RoomState& room, const RoleChanged& e, std::int64_t) {
  if (Member* m = room.find_member(e.member_id)) m->role = e.role;
}
void evolve(RoomState& room, const SettingsChanged& e, std::int64_t) { room.presence.airtime_visibility = e.airtime_visibility; }

} // namespace colloquy::presence
