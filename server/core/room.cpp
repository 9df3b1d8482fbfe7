#include "core/room.hpp"

#include "core/secret.hpp"

#include <algorithm>
#include <utility>

namespace colloquy {

std::string_view to_string(Role role) {
  return role == Role::facilitator ? "facilitator" : "participant";
}

std::string_view to_string(Presence presence) {
  switch (presence) {
  case Presence::online: return "online";
  case Presence::away: return "away";
  case Presence::left: return "left";
  }
  return "online";
}

std::optional<Role> role_from_string(std::string_view text) {
  if (text == "facilitator") return Role::facilitator;
  if (text == "participant") return Role::participant;
  return std::nullopt;
}

const Member* RoomState::find_member(std::string_view member_id) const {
  auto it = std::find_if(members.begin(), members.end(), [&](const Member& m) { return m.id == member_id; });
  return it == members.end() ? nullptr : &*it;
}

Member* RoomState::find_member(std::string_view member_id) {
  return const_cast<Member*>(std::as_const(*this).find_member(member_id));
}

namespace {

struct Decider {
  const RoomState& state;
  std::int64_t now_ms;
  const Limits& limits;

  Decision one(EventBody body, std::string member_id = {}) const {
    Decision d;
    d.events.push_back(Event{state.seq + 1, now_ms, std::move(body), Audience{}});
    d.member_id = std::move(member_id);
    return d;
  }

  DecideResult operator()(const CreateRoom& c) const {
    if (state.exists()) return Error{ErrorCode::invalid_field, "room already exists"};
    return one(RoomCreated{c.title, c.key_hash, c.code_hash});
  }

  DecideResult operator()(const Join& c) const {
    if (!state.exists()) return Error{ErrorCode::room_not_found, "no room with that id"};
    const std::string presented = secret_hash(c.secret);
    if (c.credential == Credential::resume_token) {
      // Check every member so the time taken does not depend on which one matched.
      const Member* found = nullptr;
      for (const auto& m : state.members) {
        if (constant_time_equal(m.token_hash, presented)) found = &m;
      }
      if (!found) return Error{ErrorCode::bad_credentials, "that resume token is not valid for this room"};
      if (found->presence == Presence::online) return Decision{{}, found->id};
      return one(MemberBack{found->id}, found->id);
    }
    const bool facilitator = c.credential == Credential::facilitator_key;
    const std::string& expected = facilitator ? state.key_hash : state.code_hash;
    if (!constant_time_equal(expected, presented)) {
      return Error{ErrorCode::bad_credentials, facilitator ? "that facilitator key is not valid for this room"
                                                           : "that join code is not valid for this room"};
    }
    if (state.members.size() >= limits.max_members) return Error{ErrorCode::room_full, "the room is full"};
    std::string id = "m" + std::to_string(state.members.size() + 1);
    return one(MemberJoined{id, c.name, facilitator ? Role::facilitator : Role::participant, c.new_token_hash}, id);
  }

  DecideResult operator()(const Leave& c) const {
    const Member* m = state.find_member(c.member_id);
    if (!m || m->presence == Presence::left) return Error{ErrorCode::not_joined, "you are not in this room"};
    return one(MemberLeft{c.member_id}, c.member_id);
  }

  DecideResult operator()(const LoseConnection& c) const {
    const Member* m = state.find_member(c.member_id);
    // Only an online member can lose a connection; anything else is a no-op, not an error.
    if (!m || m->presence != Presence::online) return Decision{{}, c.member_id};
    return one(MemberConnectionLost{c.member_id}, c.member_id);
  }
};

struct Evolver {
  RoomState& state;

  void set_presence(const std::string& member_id, Presence presence) const {
    if (Member* m = state.find_member(member_id)) m->presence = presence;
  }
  void operator()(const RoomCreated& e) const {
    state.title = e.title;
    state.key_hash = e.key_hash;
    state.code_hash = e.code_hash;
  }
  void operator()(const MemberJoined& e) const {
    state.members.push_back(Member{e.member_id, e.name, e.role, Presence::online, e.token_hash});
  }
  void operator()(const MemberLeft& e) const { set_presence(e.member_id, Presence::left); }
  void operator()(const MemberConnectionLost& e) const { set_presence(e.member_id, Presence::away); }
  void operator()(const MemberBack& e) const { set_presence(e.member_id, Presence::online); }
};

} // namespace

DecideResult decide(const RoomState& state, const Command& command, std::int64_t now_ms, const Limits& limits) {
  return std::visit(Decider{state, now_ms, limits}, command);
}

void evolve(RoomState& state, const Event& event) {
  if (std::holds_alternative<RoomCreated>(event.body)) state.created_at_ms = event.time_ms;
  std::visit(Evolver{state}, event.body);
  state.seq = event.seq;
}

} // namespace colloquy
