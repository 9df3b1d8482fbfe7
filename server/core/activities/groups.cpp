#include "core/activities/groups.hpp"

#include "core/activities/grouping.hpp"
#include "core/room.hpp"

#include <algorithm>
#include <unordered_set>

namespace colloquy::groups {

const BreakoutGroup* State::find(std::string_view group_id) const {
  if (!open) return nullptr;
  for (const auto& g : open->groups) {
    if (g.id == group_id) return &g;
  }
  return nullptr;
}

const BreakoutGroup* State::group_of(std::string_view member_id) const {
  if (!open) return nullptr;
  for (const auto& g : open->groups) {
    if (std::find(g.members.begin(), g.members.end(), member_id) != g.members.end()) return &g;
  }
  return nullptr;
}

namespace {
bool by_pair(const Pairing& p, std::pair<std::uint32_t, std::uint32_t> key) { return std::pair(p.a, p.b) < key; }
std::pair<std::uint32_t, std::uint32_t> key_of(std::string_view a, std::string_view b) {
  const std::uint32_t x = member_number(a), y = member_number(b);
  return x < y ? std::pair(x, y) : std::pair(y, x);
}
} // namespace

std::uint32_t State::times_together(std::string_view a, std::string_view b) const {
  const auto key = key_of(a, b);
  auto it = std::lower_bound(pairings.begin(), pairings.end(), key, by_pair);
  return it != pairings.end() && it->a == key.first && it->b == key.second ? it->count : 0;
}

std::optional<std::int64_t> deadline(const State& s) {
  if (!s.open) return std::nullopt;
  if (s.open->closes_at_ms) return s.open->closes_at_ms;
  return s.open->ends_at_ms;
}

namespace {

constexpr std::int64_t max_duration_ms = max_duration_seconds * 1000;

Audience group_audience(const std::string& group_id) {
  Audience a;
  a.kind = Audience::Kind::group;
  a.group_id = group_id;
  return a;
}

std::optional<Error> need_open(const RoomState& room) {
  if (!room.groups.open) return Error{ErrorCode::no_groups, "no breakout groups are open"};
  return std::nullopt;
}

GroupsRecalled recall_from(std::int64_t now, std::int64_t warning_seconds) {
  const std::int64_t warning_ends = now + warning_seconds * 1000;
  return GroupsRecalled{warning_ends, warning_ends + recall_grace_seconds * 1000};
}

} // namespace

DecideResult decide(const RoomState& room, const OpenGroups& c, const Context& ctx) {
  if (!presence::lead(room, c.actor)) return forbidden("only facilitators open breakout groups");
  if (room.groups.open) return Error{ErrorCode::groups_open, "breakout groups are open already; recall or close them first"};
  if (room.speaking.round) return Error{ErrorCode::round_in_progress, "a go-round is running; end it before splitting into groups"};
  if (c.size < 2) return Error{ErrorCode::invalid_group_size, "a group has 2 or more members"}; // the decoder's rule too
  const std::size_t size = static_cast<std::size_t>(c.size);
  std::vector<std::string> who;
  if (c.method == GroupMethod::manual) {
    std::unordered_set<std::string> seen;
    for (const auto& id : c.members) {
      const Member* m = room.find_member(id);
      if (!m || m->presence == Presence::left) return Error{ErrorCode::unknown_member, "no member " + id + " in this room"};
      if (m->role == Role::observer) return Error{ErrorCode::member_is_observer, m->name + " is an observer and joins no group"};
      if (!seen.insert(id).second) return Error{ErrorCode::invalid_field, "members: " + id + " is listed twice"};
      who.push_back(id);
    }
  } else {
    for (const auto& m : room.members) {
      if (m.presence == Presence::online && m.role == Role::participant) who.push_back(m.id);
    }
  }
  if (who.size() < size) {
    return Error{ErrorCode::invalid_group_size, "groups of " + std::to_string(size) + " need at least that many members; there are " +
                                                    std::to_string(who.size()) + " to split"};
  }
  if (who.size() / size > max_breakout_groups) {
    return Error{ErrorCode::invalid_group_size, "that would make more than " + std::to_string(max_breakout_groups) + " groups"};
  }
  SeededRandom random(c.seed);
  std::vector<std::vector<std::string>> split;
  switch (c.method) {
  case GroupMethod::manual: split = grouping::cut(who, size); break;
  case GroupMethod::random: split = grouping::random_split(who, size, random); break;
  case GroupMethod::fresh: {
    const State& s = room.groups;
    split = grouping::fresh_split(who, size, [&s](const std::string& a, const std::string& b) { return s.times_together(a, b); }, random);
    break;
  }
  }
  GroupsOpened e;
  e.method = c.method;
  for (std::size_t i = 0; i < split.size(); ++i) {
    BreakoutGroup g;
    g.id = "g" + std::to_string(room.groups.groups_made + i + 1);
    g.members = std::move(split[i]);
    e.groups.push_back(std::move(g));
  }
  if (c.seconds) e.ends_at = ctx.now_ms + *c.seconds * 1000;
  Emitter out(room.seq, ctx.now_ms);
  out.emit(std::move(e));
  return out.take();
}

DecideResult decide(const RoomState& room, const MoveToGroup& c, const Context& ctx) {
  if (!presence::lead(room, c.actor)) return forbidden("only facilitators move members between groups");
  if (auto e = need_open(room)) return *e;
  const Member* m = room.find_member(c.member);
  if (!m || m->presence == Presence::left) return Error{ErrorCode::unknown_member, "no member " + c.member + " in this room"};
  if (m->role == Role::observer) return Error{ErrorCode::member_is_observer, m->name + " is an observer and joins no group"};
  if (c.group && !room.groups.find(*c.group)) return Error{ErrorCode::unknown_group, "no open group " + *c.group};
  const BreakoutGroup* now_in = room.groups.group_of(c.member);
  if ((now_in ? std::optional<std::string>(now_in->id) : std::nullopt) == c.group) return Decision{}; // already there
  Emitter out(room.seq, ctx.now_ms);
  out.emit(GroupMemberMoved{c.member, c.group});
  return out.take();
}

DecideResult decide(const RoomState& room, const ExtendGroups& c, const Context& ctx) {
  if (!presence::lead(room, c.actor)) return forbidden("only facilitators extend the groups' time");
  if (auto e = need_open(room)) return *e;
  const auto& open = *room.groups.open;
  const std::int64_t base = open.ends_at_ms && *open.ends_at_ms > ctx.now_ms ? *open.ends_at_ms : ctx.now_ms;
  const std::int64_t ends = base + c.seconds * 1000;
  if (ends - ctx.now_ms > max_duration_ms) return Error{ErrorCode::invalid_duration, "groups run at most 4 hours from now; extend by less"};
  Emitter out(room.seq, ctx.now_ms);
  out.emit(GroupsExtended{ends});
  return out.take();
}

DecideResult decide(const RoomState& room, const RecallGroups& c, const Context& ctx) {
  if (!presence::lead(room, c.actor)) return forbidden("only facilitators recall the groups");
  if (auto e = need_open(room)) return *e;
  if (room.groups.open->closes_at_ms) return Error{ErrorCode::already_recalled, "the groups are being recalled already"};
  Emitter out(room.seq, ctx.now_ms);
  out.emit(recall_from(ctx.now_ms, c.seconds));
  return out.take();
}

DecideResult decide(const RoomState& room, const CloseGroups& c, const Context& ctx) {
  if (!presence::lead(room, c.actor)) return forbidden("only facilitators close the groups");
  if (auto e = need_open(room)) return *e;
  Emitter out(room.seq, ctx.now_ms);
  out.emit(GroupsClosed{GroupsEndReason::closed});
  return out.take();
}

DecideResult decide(const RoomState& room, const MessageGroups& c, const Context& ctx) {
  if (!presence::lead(room, c.actor)) return forbidden("only facilitators message every group");
  if (auto e = need_open(room)) return *e;
  Emitter out(room.seq, ctx.now_ms);
  out.emit(GroupsMessage{c.text});
  return out.take();
}

DecideResult decide(const RoomState& room, const FlagGroup& c, const Context& ctx) {
  const Member* actor = presence::actor(room, c.actor);
  if (!actor || actor->role == Role::observer) return forbidden("observers raise no group flags");
  const BreakoutGroup* own = room.groups.group_of(c.actor);
  if (c.group && (!own || own->id != *c.group) && !leads(actor->role)) return forbidden("members flag their own group only");
  if (auto e = need_open(room)) return *e;
  const BreakoutGroup* target = own;
  if (c.group && (!own || own->id != *c.group)) {
    target = room.groups.find(*c.group);
    if (!target) return Error{ErrorCode::unknown_group, "no open group " + *c.group};
  }
  if (!target) return Error{ErrorCode::not_in_group, "you are in no breakout group"};
  const bool now = c.flag == GroupFlag::done ? target->done : c.flag == GroupFlag::more_time ? target->more_time : target->help;
  if (now == c.on) return Decision{};
  Emitter out(room.seq, ctx.now_ms);
  out.emit(GroupFlagChanged{target->id, c.flag, c.on, c.actor}, group_audience(target->id));
  return out.take();
}

DecideResult decide(const RoomState& room, const ExpireGroups& c, const Context& ctx) {
  const auto due = deadline(room.groups);
  if (!due || *due != c.at_ms || ctx.now_ms < *due) return Decision{};
  Emitter out(room.seq, ctx.now_ms);
  if (room.groups.open->closes_at_ms) {
    out.emit(GroupsClosed{GroupsEndReason::recalled});
  } else {
    out.emit(recall_from(ctx.now_ms, default_recall_seconds)); // the planned time is up: the recall starts by itself
  }
  return out.take();
}

namespace {

// Remembers who was grouped with whom; past max_pairings the pairs of members who left go first,
// then the pairs met least often.
void remember(RoomState& room, const std::vector<BreakoutGroup>& groups) {
  auto& pairs = room.groups.pairings;
  for (const auto& g : groups) {
    for (std::size_t i = 0; i < g.members.size(); ++i) {
      for (std::size_t j = i + 1; j < g.members.size(); ++j) {
        const auto key = key_of(g.members[i], g.members[j]);
        if (key.first == 0) continue;
        auto it = std::lower_bound(pairs.begin(), pairs.end(), key, by_pair);
        if (it != pairs.end() && it->a == key.first && it->b == key.second) {
          ++it->count;
        } else {
          pairs.insert(it, Pairing{key.first, key.second, 1});
        }
      }
    }
  }
  if (pairs.size() <= max_pairings) return;
  auto gone = [&room](std::uint32_t n) { return n == 0 || n > room.members.size() || room.members[n - 1].presence == Presence::left; };
  std::erase_if(pairs, [&](const Pairing& p) { return gone(p.a) || gone(p.b); });
  if (pairs.size() <= max_pairings) return;
  std::vector<Pairing> by_count = pairs;
  std::stable_sort(by_count.begin(), by_count.end(), [](const Pairing& x, const Pairing& y) { return x.count > y.count; });
  by_count.resize(max_pairings);
  std::sort(by_count.begin(), by_count.end(), [](const Pairing& x, const Pairing& y) { return std::pair(x.a, x.b) < std::pair(y.a, y.b); });
  pairs = std::move(by_count);
}

BreakoutGroup* find_mut(State& s, std::string_view id) { return const_cast<BreakoutGroup*>(s.find(id)); }

} // namespace

void evolve(RoomState& room, const GroupsOpened& e, std::int64_t) {
  room.groups.groups_made += e.groups.size();
  room.groups.open = Open{e.groups, e.method, e.ends_at, std::nullopt, std::nullopt, std::nullopt};
  remember(room, e.groups);
}

void evolve(State& s, const GroupMemberMoved& e, std::int64_t) {
  if (!s.open) return;
  for (auto& g : s.open->groups) std::erase(g.members, e.member_id);
  if (e.group) {
    if (BreakoutGroup* g = find_mut(s, *e.group)) g->members.push_back(e.member_id);
  }
}

void evolve(State& s, const GroupsExtended& e, std::int64_t) {
  if (!s.open) return;
  s.open->ends_at_ms = e.ends_at;
  s.open->recall_ends_at_ms.reset();
  s.open->closes_at_ms.reset();
  for (auto& g : s.open->groups) g.more_time = false; // more time given: the asks are answered
}

void evolve(State& s, const GroupsRecalled& e, std::int64_t) {
  if (!s.open) return;
  s.open->recall_ends_at_ms = e.recall_ends_at;
  s.open->closes_at_ms = e.closes_at;
}

void evolve(State& s, const GroupsClosed&, std::int64_t) { s.open.reset(); }

void evolve(State& s, const GroupsMessage& e, std::int64_t) {
  if (s.open) s.open->message = e.text;
}

void evolve(State& s, const GroupFlagChanged& e, std::int64_t) {
  BreakoutGroup* g = find_mut(s, e.group);
  if (!g) return;
  (e.flag == GroupFlag::done ? g->done : e.flag == GroupFlag::more_time ? g->more_time : g->help) = e.on;
}

} // namespace colloquy::groups
