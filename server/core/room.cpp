#include "core/room.hpp"

#include "core/secret.hpp"

#include <algorithm>
#include <cstdlib>
#include <array>
#include <utility>

namespace colloquy {

const Member* RoomState::find_member(std::string_view member_id) const {
  auto it = std::find_if(members.begin(), members.end(), [&](const Member& m) { return m.id == member_id; });
  return it == members.end() ? nullptr : &*it;
}

Member* RoomState::find_member(std::string_view member_id) {
  return const_cast<Member*>(std::as_const(*this).find_member(member_id));
}

const ReleasedPrompt* RoomState::find_prompt(std::string_view prompt_id) const {
  auto it = std::find_if(prompts.begin(), prompts.end(), [&](const ReleasedPrompt& p) { return p.id == prompt_id; });
  return it == prompts.end() ? nullptr : &*it;
}

bool RoomState::hand_raised(std::string_view member_id) const {
  return std::find(floor.queue.begin(), floor.queue.end(), member_id) != floor.queue.end();
}

std::vector<std::int64_t> audit_values(const Audit& audit, const CheckAuditAnswer& answer) {
  std::vector<std::int64_t> values;
  for (const auto& item : audit.items) {
    auto it = std::find_if(answer.answers.begin(), answer.answers.end(), [&](const auto& a) { return a.first == item.id; });
    values.push_back(it == answer.answers.end() ? 0 : it->second);
  }
  return values;
}

std::optional<Deadline> next_deadline(const RoomState& state) {
  std::optional<Deadline> best;
  for (TimerId id : {TimerId::phase, TimerId::turn}) {
    const Timer& t = state.timer(id);
    if (t.state == TimerState::running && (!best || t.ends_at_ms < best->ends_at_ms)) best = Deadline{id, t.ends_at_ms};
  }
  return best;
}

namespace {

// ---- evolve: applies one event; never fails

void erase_first(std::vector<std::string>& list, const std::string& value) {
  auto it = std::find(list.begin(), list.end(), value);
  if (it != list.end()) list.erase(it);
}

struct Evolver {
  RoomState& state;
  std::int64_t time_ms;

  void set_presence(const std::string& member_id, Presence presence) const {
    if (Member* m = state.find_member(member_id)) {
      if (m->presence == Presence::online && presence != Presence::online) m->away_since_ms = time_ms;
      m->presence = presence;
    }
  }
  void operator()(const RoomCreated& e) const {
    state.title = e.title;
    state.key_hash = e.key_hash;
    state.code_hash = e.code_hash;
    state.created_at_ms = time_ms;
  }
  void operator()(const MemberJoined& e) const {
    Member m{e.member.id, e.member.name, e.member.role, Presence::online, e.token_hash};
    state.members.push_back(std::move(m));
  }
  void operator()(const MemberLeft& e) const { set_presence(e.member_id, Presence::left); }
  void operator()(const MemberConnectionLost& e) const { set_presence(e.member_id, Presence::away); }
  void operator()(const MemberBack& e) const { set_presence(e.member_id, Presence::online); }
  void operator()(const RoleChanged& e) const {
    if (Member* m = state.find_member(e.member_id)) m->role = e.role;
  }
  void operator()(const SettingsChanged& e) const { state.airtime_visibility = e.airtime_visibility; }
  void operator()(const RoundStarted& e) const {
    state.round = Round{e.round.id, e.round.order, e.round.order, e.round.turn_seconds, e.round.auto_advance, {}};
    state.rounds_started = std::max(state.rounds_started, e.round.id);
  }
  void operator()(const RoundOrderChanged& e) const {
    if (state.round) state.round->remaining = e.remaining;
  }
  void operator()(const RoundEnded&) const {
    state.round.reset();
    if (state.turn && state.turn->mode == TurnMode::round) state.turn.reset();
  }
  void operator()(const TurnStarted& e) const {
    state.turn = Turn{e.member_id, e.mode, time_ms};
    if (e.mode == TurnMode::floor) erase_first(state.floor.queue, e.member_id);
  }
  void operator()(const TurnEnded& e) const {
    const bool holder = state.turn && state.turn->member_id == e.member_id;
    const TurnMode mode = holder ? state.turn->mode : TurnMode::round;
    if (Member* m = state.find_member(e.member_id)) m->airtime_ms += e.ms;
    if (mode == TurnMode::round && state.round) {
      erase_first(state.round->remaining, e.member_id);
      state.round->outcomes.push_back(RoundOutcome{e.member_id, e.outcome, e.ms});
    }
    if (holder) state.turn.reset();
  }
  void operator()(const HandRaised& e) const {
    state.floor.queue.push_back(e.member_id);
  }
  void operator()(const HandLowered& e) const {
    erase_first(state.floor.queue, e.member_id);
  }
  void operator()(const FloorSettingsChanged& e) const {
    state.floor.turn_seconds = e.turn_seconds;
    state.floor.auto_advance = e.auto_advance;
    state.floor.quieter_first = e.quieter_first;
  }
  void operator()(const TimerSet& e) const { state.timer(e.timer) = e.state; }
  void operator()(const TimerExpired& e) const {
    Timer& t = state.timer(e.timer);
    t.state = TimerState::expired;
    t.remaining_ms = 0;
  }
  void operator()(const PromptsReleased& e) const {
    for (const auto& p : e.prompts) state.prompts.push_back(ReleasedPrompt{p.id, p.text, 0, false, std::nullopt});
  }
  void operator()(const PromptUpvoted& e) const {
    for (auto& p : state.prompts) {
      if (p.id == e.prompt_id) p.votes = e.votes;
    }
  }
  void operator()(const DeckChanged& e) const {
    state.deck_cards = e.cards;
    std::erase_if(state.deck_drawn, [&](const std::string& id) {
      return std::none_of(e.cards.begin(), e.cards.end(), [&](const DeckCard& c) { return c.id == id; });
    });
  }
  void operator()(const DeckCardDrawn& e) const {
    if (std::find(state.deck_drawn.begin(), state.deck_drawn.end(), e.card.id) != state.deck_drawn.end()) {
      state.deck_drawn.clear(); // every card had been drawn: the deck starts over
    }
    state.deck_drawn.push_back(e.card.id);
  }
  void operator()(const AuditOpened& e) const {
    state.audit = Audit{e.audit.id, e.audit.k, e.audit.items, true, 0, std::nullopt};
    state.audits_started += 1;
  }
  void operator()(const AuditClosed& e) const {
    if (!state.audit || state.audit->id != e.audit_id) return;
    state.audit->open = false;
    state.audit->responses = e.responses;
    state.audit->results = e.results;
  }
  void operator()(const PromptPosed& e) const {
    for (auto& p : state.prompts) {
      if (p.id == e.prompt_id) {
        p.posed = true;
        p.posed_to = e.member_id;
      }
    }
  }
};

// ---- decide

// Builds a decision event by event, applying each to a scratch copy of the state so the next
// rule sees the room as it will be.
struct Builder {
  RoomState scratch;
  std::int64_t now_ms;
  Decision decision;

  void emit(EventBody body) {
    Event e{scratch.seq + 1, now_ms, std::move(body), Audience{}};
    evolve(scratch, e);
    decision.events.push_back(std::move(e));
  }

  Timer running(std::int64_t seconds) const {
    return Timer{TimerState::running, seconds * 1000, now_ms + seconds * 1000, 0};
  }

  void reset_turn_timer() {
    if (scratch.turn_timer.state != TimerState::idle) emit(TimerSet{TimerId::turn, TimerAction::reset, Timer{}});
  }

  void end_turn(Outcome outcome) {
    if (!scratch.turn) return;
    const Turn t = *scratch.turn;
    emit(TurnEnded{t.member_id, outcome, std::max<std::int64_t>(0, now_ms - t.started_at_ms)});
  }

  bool can_speak(const std::string& id) const {
    const Member* m = scratch.find_member(id);
    return m && m->presence == Presence::online && m->role != Role::observer;
  }

  // Starts the next present member's turn, skipping absent ones; ends the round when nobody is left.
  void advance_round() {
    while (scratch.round && !scratch.round->remaining.empty()) {
      const std::string next = scratch.round->remaining.front();
      if (can_speak(next)) {
        emit(TurnStarted{next, TurnMode::round});
        emit(TimerSet{TimerId::turn, TimerAction::start, running(scratch.round->turn_seconds)});
        return;
      }
      emit(TurnEnded{next, Outcome::skipped, 0});
    }
    if (scratch.round) {
      emit(RoundEnded{RoundEndReason::completed});
      reset_turn_timer();
    }
  }

  void give_floor(const std::string& member) {
    if (scratch.turn) end_turn(Outcome::spoke);
    emit(TurnStarted{member, TurnMode::floor});
    if (scratch.floor.turn_seconds) {
      emit(TimerSet{TimerId::turn, TimerAction::start, running(*scratch.floor.turn_seconds)});
    } else {
      reset_turn_timer();
    }
  }

  // The queued member to speak next: the head, or with quieter_first the least airtime so far.
  std::optional<std::string> next_in_queue() const {
    const auto& q = scratch.floor.queue;
    if (q.empty()) return std::nullopt;
    if (!scratch.floor.quieter_first) return q.front();
    std::string best = q.front();
    std::int64_t least = scratch.find_member(best) ? scratch.find_member(best)->airtime_ms : 0;
    for (const auto& id : q) {
      const Member* m = scratch.find_member(id);
      if (m && m->airtime_ms < least) {
        least = m->airtime_ms;
        best = id;
      }
    }
    return best;
  }

  // After a floor turn ended: the next in the queue, if the floor advances by itself.
  void after_floor_turn() {
    reset_turn_timer();
    if (!scratch.floor.auto_advance) return;
    while (auto next = next_in_queue()) {
      if (can_speak(*next)) return give_floor(*next);
      emit(HandLowered{*next});
    }
  }

  // A member stops being able to speak (left, lost, made observer): their hand and turn end.
  void withdraw(const std::string& member) {
    if (scratch.hand_raised(member)) emit(HandLowered{member});
    if (scratch.turn && scratch.turn->member_id == member) {
      const TurnMode mode = scratch.turn->mode;
      end_turn(Outcome::skipped);
      if (mode == TurnMode::round) advance_round();
      else after_floor_turn();
    }
  }

  // A member who was skipped for being away and comes back goes to the end of the round.
  void rejoin_round(const std::string& member) {
    if (!scratch.round) return;
    const auto& r = *scratch.round;
    if (std::find(r.remaining.begin(), r.remaining.end(), member) != r.remaining.end()) return;
    auto last = std::find_if(r.outcomes.rbegin(), r.outcomes.rend(), [&](const RoundOutcome& o) { return o.member_id == member; });
    if (last == r.outcomes.rend() || last->outcome != Outcome::skipped || last->ms != 0) return;
    auto remaining = r.remaining;
    remaining.push_back(member);
    emit(RoundOrderChanged{std::move(remaining)});
  }
};

Error forbidden(std::string_view what) { return Error{ErrorCode::forbidden, what}; }

bool valid_duration(std::int64_t seconds) { return seconds >= 1 && seconds <= max_duration_seconds; }

// A small deterministic generator for the shuffle (splitmix64); the seed comes from the server.
std::uint64_t next_random(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

struct Decider {
  const RoomState& state;
  std::int64_t now_ms;
  const Limits& limits;

  Builder builder() const { return Builder{state, now_ms, {}}; }

  Decision one(EventBody body, std::string member_id = {}) const {
    Builder b = builder();
    b.emit(std::move(body));
    b.decision.member_id = std::move(member_id);
    return std::move(b.decision);
  }

  // The sender, who must be a member of the room and not have left.
  const Member* actor(const std::string& id) const {
    const Member* m = state.find_member(id);
    return m && m->presence != Presence::left ? m : nullptr;
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
      Builder b = builder();
      b.emit(MemberBack{found->id});
      if (found->role != Role::observer) b.rejoin_round(found->id);
      b.decision.member_id = found->id;
      return std::move(b.decision);
    }
    const bool facilitator = c.credential == Credential::facilitator_key;
    const std::string& expected = facilitator ? state.key_hash : state.code_hash;
    if (!constant_time_equal(expected, presented)) {
      return Error{ErrorCode::bad_credentials, facilitator ? "that facilitator key is not valid for this room"
                                                           : "that join code is not valid for this room"};
    }
    if (state.members.size() >= limits.max_members) return Error{ErrorCode::room_full, "the room is full"};
    std::string id = "m" + std::to_string(state.members.size() + 1);
    return one(MemberJoined{MemberInfo{id, c.name, facilitator ? Role::facilitator : Role::participant}, c.new_token_hash}, id);
  }

  // A member goes (left, or lost their connection): the presence change, then their hand and
  // turn end.
  Decision departure(const std::string& member_id, EventBody presence) const {
    Builder b = builder();
    b.emit(std::move(presence));
    b.withdraw(member_id);
    b.decision.member_id = member_id;
    return std::move(b.decision);
  }

  DecideResult operator()(const Leave& c) const {
    const Member* m = state.find_member(c.member_id);
    if (!m || m->presence == Presence::left) return Error{ErrorCode::not_joined, "you are not in this room"};
    return departure(c.member_id, MemberLeft{c.member_id});
  }

  DecideResult operator()(const LoseConnection& c) const {
    const Member* m = state.find_member(c.member_id);
    // Only an online member can lose a connection; anything else is a no-op, not an error.
    if (!m || m->presence != Presence::online) return Decision{{}, c.member_id};
    return departure(c.member_id, MemberConnectionLost{c.member_id});
  }

  // ---- roles

  DecideResult operator()(const SetRole& c) const {
    const Member* a = actor(c.actor);
    if (!a || a->role != Role::facilitator) return forbidden("only the facilitator changes roles");
    if (c.member == c.actor) return Error{ErrorCode::invalid_field, "use hand_over to give up the facilitator role"};
    if (c.role == Role::facilitator) return Error{ErrorCode::invalid_field, "use hand_over to make someone facilitator"};
    const Member* m = state.find_member(c.member);
    if (!m) return Error{ErrorCode::unknown_member, "no member with that id"};
    if (m->role == c.role) return Decision{};
    Builder b = builder();
    b.emit(RoleChanged{c.member, c.role});
    if (c.role == Role::observer) {
      b.withdraw(c.member);
      if (b.scratch.round) {
        auto remaining = b.scratch.round->remaining;
        if (std::find(remaining.begin(), remaining.end(), c.member) != remaining.end()) {
          erase_first(remaining, c.member);
          b.emit(RoundOrderChanged{std::move(remaining)});
        }
      }
    }
    return std::move(b.decision);
  }

  DecideResult operator()(const HandOver& c) const {
    const Member* a = actor(c.actor);
    if (!a || a->role != Role::facilitator) return forbidden("only the facilitator hands the role over");
    const Member* m = actor(c.member);
    if (!m) return Error{ErrorCode::unknown_member, "no member with that id in the room"};
    if (c.member == c.actor) return Decision{};
    Builder b = builder();
    b.emit(RoleChanged{c.member, Role::facilitator});
    b.emit(RoleChanged{c.actor, Role::co_facilitator});
    return std::move(b.decision);
  }

  DecideResult operator()(const ClaimFacilitation& c) const {
    const Member* a = actor(c.actor);
    if (!a || a->role != Role::co_facilitator) return forbidden("only a co-facilitator may claim the facilitation");
    for (const auto& m : state.members) {
      if (m.role != Role::facilitator) continue;
      if (m.presence == Presence::online || now_ms - m.away_since_ms < facilitator_grace_ms) {
        return Error{ErrorCode::facilitator_present,
                     "a facilitator is here or left less than 120 seconds ago; ask them to hand over"};
      }
    }
    Builder b = builder();
    b.emit(RoleChanged{c.actor, Role::facilitator});
    for (const auto& m : state.members) {
      if (m.role == Role::facilitator) b.emit(RoleChanged{m.id, Role::co_facilitator});
    }
    return std::move(b.decision);
  }

  DecideResult operator()(const ChangeSettings& c) const {
    const Member* a = actor(c.actor);
    if (!a || a->role != Role::facilitator) return forbidden("only the facilitator changes room settings");
    if (state.airtime_visibility == c.airtime_visibility) return Decision{};
    return one(SettingsChanged{c.airtime_visibility});
  }

  // ---- go-rounds

  const Member* lead(const std::string& id) const {
    const Member* a = actor(id);
    return a && leads(a->role) ? a : nullptr;
  }

  DecideResult operator()(const StartRound& c) const {
    if (!lead(c.actor)) return forbidden("only facilitators start rounds");
    if (state.round) return Error{ErrorCode::round_in_progress, "a round is running; end it first"};
    if (!valid_duration(c.turn_seconds)) return Error{ErrorCode::invalid_duration, "a turn is 1 second to 4 hours"};
    std::vector<std::string> order;
    if (c.kind == OrderKind::custom) {
      for (const auto& id : c.order) {
        const Member* m = state.find_member(id);
        if (!m || m->role == Role::observer) return Error{ErrorCode::unknown_member, "the order names someone who cannot take part"};
        if (std::find(order.begin(), order.end(), id) != order.end()) {
          return Error{ErrorCode::invalid_field, "the order names a member twice"};
        }
        order.push_back(id);
      }
    } else {
      for (const auto& m : state.members) {
        if (m.presence == Presence::online && m.role != Role::observer) order.push_back(m.id);
      }
      if (c.kind == OrderKind::shuffle) {
        std::uint64_t seed = c.shuffle_seed;
        for (std::size_t i = order.size(); i > 1; --i) {
          std::swap(order[i - 1], order[next_random(seed) % i]);
        }
      }
    }
    if (order.empty()) return Error{ErrorCode::invalid_field, "nobody is here to take part"};
    Builder b = builder();
    if (b.scratch.turn) {
      b.end_turn(Outcome::ended);
      b.reset_turn_timer();
    }
    b.emit(RoundStarted{RoundHeader{state.rounds_started + 1, std::move(order), c.turn_seconds, c.auto_advance}});
    b.advance_round();
    return std::move(b.decision);
  }

  std::optional<Error> need_round_turn() const {
    if (!state.round) return Error{ErrorCode::no_round, "no round is running"};
    if (!state.turn || state.turn->mode != TurnMode::round) return Error{ErrorCode::no_turn, "nobody holds the talking piece"};
    return std::nullopt;
  }

  DecideResult finish(const std::string& actor_id, Outcome outcome) const {
    const Member* a = actor(actor_id);
    if (!a || a->role == Role::observer) return forbidden("observers do not speak in rounds");
    if (auto e = need_round_turn()) return *e;
    if (state.turn->member_id != actor_id) return Error{ErrorCode::not_your_turn, "it is someone else's turn"};
    Builder b = builder();
    b.end_turn(outcome);
    b.advance_round();
    return std::move(b.decision);
  }
  DecideResult operator()(const FinishTurn& c) const { return finish(c.actor, Outcome::spoke); }
  DecideResult operator()(const PassTurn& c) const { return finish(c.actor, Outcome::passed); }

  DecideResult operator()(const SkipTurn& c) const {
    if (!lead(c.actor)) return forbidden("only facilitators skip a turn");
    if (auto e = need_round_turn()) return *e;
    Builder b = builder();
    b.end_turn(Outcome::skipped);
    b.advance_round();
    return std::move(b.decision);
  }

  DecideResult operator()(const MoveLater& c) const {
    if (!lead(c.actor)) return forbidden("only facilitators change the order");
    if (!state.round) return Error{ErrorCode::no_round, "no round is running"};
    if (!state.find_member(c.member)) return Error{ErrorCode::unknown_member, "no member with that id"};
    const auto& remaining = state.round->remaining;
    if (std::find(remaining.begin(), remaining.end(), c.member) == remaining.end()) {
      return Error{ErrorCode::invalid_field, "that member is not waiting for a turn in this round"};
    }
    Builder b = builder();
    const bool speaking = state.turn && state.turn->mode == TurnMode::round && state.turn->member_id == c.member;
    if (speaking) b.end_turn(Outcome::moved);
    auto order = b.scratch.round->remaining;
    erase_first(order, c.member);
    order.push_back(c.member);
    if (order != b.scratch.round->remaining) b.emit(RoundOrderChanged{std::move(order)});
    if (speaking) b.advance_round();
    return std::move(b.decision);
  }

  DecideResult operator()(const EndRound& c) const {
    if (!lead(c.actor)) return forbidden("only facilitators end a round");
    if (!state.round) return Error{ErrorCode::no_round, "no round is running"};
    Builder b = builder();
    if (b.scratch.turn && b.scratch.turn->mode == TurnMode::round) b.end_turn(Outcome::ended);
    b.emit(RoundEnded{RoundEndReason::ended});
    b.reset_turn_timer();
    return std::move(b.decision);
  }

  // ---- the dialogue floor

  DecideResult operator()(const RaiseHand& c) const {
    const Member* a = actor(c.actor);
    if (!a || a->role == Role::observer) return forbidden("observers do not take the floor");
    if (state.hand_raised(c.actor)) return Error{ErrorCode::hand_already_raised, "your hand is raised already"};
    return one(HandRaised{c.actor});
  }

  DecideResult operator()(const LowerHand& c) const {
    const Member* a = actor(c.actor);
    if (!a) return forbidden("you are not in this room");
    const std::string target = c.member.value_or(c.actor);
    if (target != c.actor && !leads(a->role)) return forbidden("only facilitators lower someone else's hand");
    const Member* m = state.find_member(target);
    if (!m) return Error{ErrorCode::unknown_member, "no member with that id"};
    if (!state.hand_raised(target)) return Error{ErrorCode::hand_not_raised, "that hand is not raised"};
    return one(HandLowered{target});
  }

  DecideResult operator()(const GiveFloor& c) const {
    if (!lead(c.actor)) return forbidden("only facilitators give the floor");
    if (state.round) return Error{ErrorCode::round_in_progress, "a round is running; the talking piece goes round"};
    Builder b = builder();
    std::string target;
    if (c.member) {
      if (!b.can_speak(*c.member)) return Error{ErrorCode::unknown_member, "that member is not here to speak"};
      target = *c.member;
    } else {
      // The head of the queue (or the quietest), passing over anyone no longer here.
      for (;;) {
        auto next = b.next_in_queue();
        if (!next) return Error{ErrorCode::queue_empty, "nobody's hand is raised"};
        if (b.can_speak(*next)) {
          target = *next;
          break;
        }
        b.emit(HandLowered{*next});
      }
    }
    b.give_floor(target);
    return std::move(b.decision);
  }

  DecideResult operator()(const ReleaseFloor& c) const {
    const Member* a = actor(c.actor);
    if (!a) return forbidden("you are not in this room");
    if (!state.turn || state.turn->mode != TurnMode::floor) return Error{ErrorCode::no_turn, "nobody holds the floor"};
    if (state.turn->member_id != c.actor && !leads(a->role)) return Error{ErrorCode::not_your_turn, "someone else holds the floor"};
    Builder b = builder();
    b.end_turn(Outcome::spoke);
    b.after_floor_turn();
    return std::move(b.decision);
  }

  DecideResult operator()(const SetFloor& c) const {
    if (!lead(c.actor)) return forbidden("only facilitators change the dialogue settings");
    if (c.turn_seconds && !valid_duration(*c.turn_seconds)) return Error{ErrorCode::invalid_duration, "a turn is 1 second to 4 hours"};
    return one(FloorSettingsChanged{c.turn_seconds, c.auto_advance, c.quieter_first});
  }

  // ---- timers

  DecideResult operator()(const TimerCommand& c) const {
    if (!lead(c.actor)) return forbidden("only facilitators run the timers");
    const Timer& t = state.timer(c.timer);
    Timer next = t;
    const std::int64_t delta = c.seconds * 1000;
    switch (c.action) {
    case TimerAction::start:
      if (!valid_duration(c.seconds)) return Error{ErrorCode::invalid_duration, "a timer runs 1 second to 4 hours"};
      if (c.timer == TimerId::turn && !state.turn) return Error{ErrorCode::no_turn, "nobody holds the floor"};
      next = Timer{TimerState::running, delta, now_ms + delta, 0};
      break;
    case TimerAction::pause:
      if (t.state != TimerState::running) return Error{ErrorCode::timer_not_running, "that timer is not running"};
      next = Timer{TimerState::paused, t.duration_ms, 0, std::max<std::int64_t>(0, t.ends_at_ms - now_ms)};
      break;
    case TimerAction::resume:
      if (t.state != TimerState::paused) return Error{ErrorCode::timer_not_running, "that timer is not paused"};
      next = Timer{TimerState::running, t.duration_ms, now_ms + t.remaining_ms, 0};
      break;
    case TimerAction::extend:
      if (c.seconds == 0 || c.seconds < -max_duration_seconds || c.seconds > max_duration_seconds) {
        return Error{ErrorCode::invalid_duration, "extend by -4 hours to 4 hours, not 0"};
      }
      if (t.state == TimerState::running) {
        next.ends_at_ms = std::max(now_ms, t.ends_at_ms + delta);
        next.duration_ms = std::max<std::int64_t>(0, t.duration_ms + delta);
      } else if (t.state == TimerState::paused) {
        next.remaining_ms = std::max<std::int64_t>(0, t.remaining_ms + delta);
        next.duration_ms = std::max<std::int64_t>(0, t.duration_ms + delta);
      } else if (t.state == TimerState::expired && c.seconds > 0) {
        next = Timer{TimerState::running, delta, now_ms + delta, 0}; // more time after the end: runs again
      } else {
        return Error{ErrorCode::timer_not_running, "that timer is not running"};
      }
      break;
    case TimerAction::reset:
      next = Timer{};
      break;
    }
    if (next == t && c.action == TimerAction::reset) return Decision{};
    return one(TimerSet{c.timer, c.action, next});
  }

  // ---- anonymous prompts

  DecideResult operator()(const CheckPrompt& c) const {
    const Member* a = actor(c.actor);
    if (!a) return forbidden("you are not in this room");
    if (c.action == PromptAction::submit && a->role == Role::observer) return forbidden("observers do not submit prompts");
    if (c.action == PromptAction::manage && !leads(a->role)) return forbidden("only facilitators manage pending prompts");
    return Decision{};
  }

  DecideResult operator()(const ReleasePrompts& c) const {
    if (!c.actor.empty() && !lead(c.actor)) return forbidden("only facilitators release prompts");
    if (c.batch.empty()) return Decision{};
    for (const auto& p : c.batch) {
      if (state.find_prompt(p.id)) return Error{ErrorCode::invalid_field, "that prompt was released already"};
    }
    return one(PromptsReleased{c.batch});
  }

  DecideResult operator()(const UpvotePrompt& c) const {
    const Member* a = actor(c.actor);
    if (!a || a->role == Role::observer) return forbidden("observers do not vote");
    const ReleasedPrompt* p = state.find_prompt(c.prompt);
    if (!p) return Error{ErrorCode::unknown_prompt, "no released prompt with that id"};
    return one(PromptUpvoted{c.prompt, p->votes + 1});
  }

  DecideResult operator()(const PosePrompt& c) const {
    if (!lead(c.actor)) return forbidden("only facilitators pose prompts");
    if (!state.find_prompt(c.prompt)) return Error{ErrorCode::unknown_prompt, "no released prompt with that id"};
    if (c.member && !actor(*c.member)) return Error{ErrorCode::unknown_member, "no member with that id in the room"};
    return one(PromptPosed{c.prompt, c.member});
  }

  // ---- challenge deck

  DecideResult operator()(const AddCard& c) const {
    if (!lead(c.actor)) return forbidden("only facilitators edit the deck");
    auto cards = state.deck();
    std::uint64_t next = 0;
    for (const auto& card : cards) {
      if (card.id.size() > 1 && card.id[0] == 'c') next = std::max<std::uint64_t>(next, std::strtoull(card.id.c_str() + 1, nullptr, 10));
    }
    cards.push_back(DeckCard{"c" + std::to_string(next + 1), c.text});
    return one(DeckChanged{std::move(cards)});
  }

  DecideResult operator()(const RemoveCard& c) const {
    if (!lead(c.actor)) return forbidden("only facilitators edit the deck");
    auto cards = state.deck();
    const auto before = cards.size();
    std::erase_if(cards, [&](const DeckCard& card) { return card.id == c.card; });
    if (cards.size() == before) return Error{ErrorCode::unknown_card, "no card with that id"};
    return one(DeckChanged{std::move(cards)});
  }

  DecideResult operator()(const DrawCard& c) const {
    if (!lead(c.actor)) return forbidden("only facilitators draw a challenge");
    const auto& cards = state.deck();
    if (cards.empty()) return Error{ErrorCode::deck_empty, "the deck has no cards"};
    std::vector<const DeckCard*> fresh;
    for (const auto& card : cards) {
      if (std::find(state.deck_drawn.begin(), state.deck_drawn.end(), card.id) == state.deck_drawn.end()) fresh.push_back(&card);
    }
    if (fresh.empty()) {
      for (const auto& card : cards) fresh.push_back(&card); // all drawn: start over
    }
    std::uint64_t seed = c.seed;
    return one(DeckCardDrawn{*fresh[next_random(seed) % fresh.size()]});
  }

  // ---- climate-for-learning audit

  DecideResult operator()(const OpenAudit& c) const {
    if (!lead(c.actor)) return forbidden("only facilitators open an audit");
    if (state.audit && state.audit->open) return Error{ErrorCode::audit_in_progress, "an audit is open; close it first"};
    if (c.k < min_audit_k || c.k > max_audit_k) return Error{ErrorCode::invalid_field, "k is 3 to 50"};
    return one(AuditOpened{AuditHeader{"a" + std::to_string(state.audits_started + 1), c.k, default_audit_items()}});
  }

  DecideResult operator()(const CheckAuditAnswer& c) const {
    const Member* a = actor(c.actor);
    if (!a || a->role == Role::observer) return forbidden("observers do not answer the audit");
    if (!state.audit || !state.audit->open) return Error{ErrorCode::no_audit, "no audit is open"};
    const auto& items = state.audit->items;
    if (c.answers.size() != items.size()) return Error{ErrorCode::invalid_answer, "answer every statement once"};
    for (const auto& item : items) {
      auto it = std::find_if(c.answers.begin(), c.answers.end(), [&](const auto& answer) { return answer.first == item.id; });
      if (it == c.answers.end()) return Error{ErrorCode::invalid_answer, "answer every statement once"};
      if (it->second < 1 || it->second > 5) return Error{ErrorCode::invalid_answer, "answers are 1 to 5"};
    }
    return Decision{};
  }

  DecideResult operator()(const CloseAudit& c) const {
    if (!lead(c.actor)) return forbidden("only facilitators close an audit");
    if (!state.audit || !state.audit->open) return Error{ErrorCode::no_audit, "no audit is open"};
    // Results only from k answers: fewer could point at individuals.
    std::optional<AuditResults> results;
    if (c.responses >= state.audit->k) results = c.tally;
    return one(AuditClosed{state.audit->id, c.responses, std::move(results)});
  }

  DecideResult operator()(const Expire& c) const {
    const Timer& t = state.timer(c.timer);
    if (t.state != TimerState::running || t.ends_at_ms != c.ends_at_ms || now_ms < t.ends_at_ms) return Decision{};
    Builder b = builder();
    b.emit(TimerExpired{c.timer});
    if (c.timer == TimerId::turn && b.scratch.turn) {
      if (b.scratch.turn->mode == TurnMode::round && b.scratch.round && b.scratch.round->auto_advance) {
        b.end_turn(Outcome::spoke);
        b.advance_round();
      } else if (b.scratch.turn->mode == TurnMode::floor && b.scratch.floor.auto_advance) {
        b.end_turn(Outcome::spoke);
        b.after_floor_turn();
      }
    }
    return std::move(b.decision);
  }
};

} // namespace

DecideResult decide(const RoomState& state, const Command& command, std::int64_t now_ms, const Limits& limits) {
  return std::visit(Decider{state, now_ms, limits}, command);
}

void evolve(RoomState& state, const Event& event) {
  std::visit(Evolver{state, event.time_ms}, event.body);
  state.seq = event.seq;
}

} // namespace colloquy
