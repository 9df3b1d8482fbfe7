#include "core/activities/speaking.hpp"

#include "core/random.hpp"

#include "core/room.hpp"
#include "core/state_bytes.hpp"

#include <algorithm>

namespace colloquy::speaking {
namespace {

void erase_first(std::vector<std::string>& list, const std::string& value) {
  auto it = std::find(list.begin(), list.end(), value);
  if (it != list.end()) list.erase(it);
}

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

Timer running(std::int64_t now_ms, std::int64_t seconds) {
  return Timer{TimerState::running, seconds * 1000, now_ms + seconds * 1000, 0};
}

// The chain's copy of the state follows its own events, and the turn timer's.
struct ApplyToChain {
  State& s;
  Timer& turn_timer;
  std::int64_t time_ms;
  template <typename E>
  auto operator()(const E& e) const -> decltype(evolve(s, e, time_ms)) { evolve(s, e, time_ms); }
  void operator()(const TimerSet& e) const {
    if (e.timer == TimerId::turn) turn_timer = e.state;
  }
  void operator()(const TimerExpired& e) const {
    if (e.timer == TimerId::turn) {
      turn_timer.state = TimerState::expired;
      turn_timer.remaining_ms = 0;
    }
  }
  template <typename... Ignored>
  void operator()(const Ignored&...) const {}
};

} // namespace

std::int64_t credited_ms(const Turn& turn, const std::optional<Pause>& paused, std::int64_t now_ms) {
  const std::int64_t end = paused ? std::max(paused->since_ms, turn.started_at_ms) : now_ms;
  return std::max<std::int64_t>(0, end - turn.started_at_ms - turn.paused_ms);
}

std::optional<std::int64_t> hold_deadline(const RoomState& room) {
  const auto& turn = room.speaking.turn;
  if (room.speaking.paused || !turn || !turn->held_until_ms) return std::nullopt;
  const Member* m = room.find_member(turn->member_id);
  if (!m || m->presence == Presence::online) return std::nullopt;
  return turn->held_until_ms;
}

bool State::hand_raised(std::string_view member_id) const {
  return std::find(floor.queue.begin(), floor.queue.end(), member_id) != floor.queue.end();
}

Chain::Chain(const RoomState& room, Emitter& out)
    : room_(room), out_(out), scratch_(room.speaking), turn_timer_(room.timers.turn) {}

void Chain::emit(EventBody body) {
  if (const auto* ended = std::get_if<TurnEnded>(&body)) airtime_added_.emplace_back(ended->member_id, ended->ms);
  std::visit(ApplyToChain{scratch_, turn_timer_, out_.now()}, body);
  out_.emit(std::move(body));
}

void Chain::cannot_speak(const std::string& member) { unable_ = member; }

bool Chain::can_speak(const std::string& member) const {
  if (member == unable_) return false;
  const Member* m = room_.find_member(member);
  if (!m || m->role == Role::observer) return false;
  // While paused nobody is passed over for being away: the pause is their time to come back.
  if (scratch_.paused) return m->presence != Presence::left;
  return m->presence == Presence::online;
}

Timer Chain::turn_timer(std::int64_t seconds) const {
  if (scratch_.paused) return Timer{TimerState::paused, seconds * 1000, 0, seconds * 1000};
  return running(out_.now(), seconds);
}

std::int64_t Chain::airtime(const std::string& member) const {
  const Member* m = room_.find_member(member);
  std::int64_t total = m ? m->airtime_ms : 0;
  for (const auto& [id, ms] : airtime_added_) total += id == member ? ms : 0;
  return total;
}

void Chain::reset_turn_timer() {
  if (turn_timer_.state != TimerState::idle) emit(TimerSet{TimerId::turn, TimerAction::reset, Timer{}});
}

void Chain::end_turn(Outcome outcome, std::optional<std::int64_t> until) {
  if (!scratch_.turn) return;
  const Turn t = *scratch_.turn;
  emit(TurnEnded{t.member_id, outcome, credited_ms(t, scratch_.paused, until.value_or(out_.now()))});
}

void Chain::advance_round() {
  while (scratch_.round && !scratch_.round->remaining.empty()) {
    const std::string next = scratch_.round->remaining.front();
    if (can_speak(next)) {
      emit(TurnStarted{next, TurnMode::round});
      emit(TimerSet{TimerId::turn, TimerAction::start, turn_timer(scratch_.round->turn_seconds)});
      return;
    }
    emit(TurnEnded{next, Outcome::skipped, 0});
  }
  if (scratch_.round) {
    emit(RoundEnded{RoundEndReason::completed});
    reset_turn_timer();
  }
}

void Chain::give_floor(const std::string& member) {
  if (scratch_.turn) end_turn(Outcome::spoke);
  // Whoever leaves the queue, for whatever reason, leaves it by hand_lowered: a client built from
  // the event table never shows the hand of the member who holds the floor as still raised.
  if (scratch_.hand_raised(member)) emit(HandLowered{member});
  emit(TurnStarted{member, TurnMode::floor});
  if (scratch_.floor.turn_seconds) {
    emit(TimerSet{TimerId::turn, TimerAction::start, turn_timer(*scratch_.floor.turn_seconds)});
  } else {
    reset_turn_timer();
  }
}

std::optional<std::string> Chain::next_in_queue() const {
  const auto& q = scratch_.floor.queue;
  if (q.empty()) return std::nullopt;
  if (!scratch_.floor.quieter_first) return q.front();
  std::string best = q.front();
  std::int64_t least = airtime(best);
  for (const auto& id : q) {
    const std::int64_t a = airtime(id);
    if (room_.find_member(id) && a < least) {
      least = a;
      best = id;
    }
  }
  return best;
}

void Chain::after_floor_turn() {
  reset_turn_timer();
  // While paused the floor waits: the next is given by hand after resume.
  if (!scratch_.floor.auto_advance || scratch_.paused) return;
  while (auto next = next_in_queue()) {
    if (can_speak(*next)) return give_floor(*next);
    emit(HandLowered{*next});
  }
}

void Chain::withdraw(const std::string& member) {
  if (scratch_.hand_raised(member)) emit(HandLowered{member});
  if (scratch_.turn && scratch_.turn->member_id == member) {
    const TurnMode mode = scratch_.turn->mode;
    end_turn(Outcome::skipped);
    if (mode == TurnMode::round) advance_round();
    else after_floor_turn();
  }
}

void Chain::rejoin_round(const std::string& member) {
  if (!scratch_.round) return;
  const auto& r = *scratch_.round;
  if (contains(r.remaining, member)) return;
  // Only a member skipped for being away (not one a facilitator skipped, nor one who spoke or passed).
  if (!contains(r.skipped_away, member)) return;
  // At most max_round_requeues times a round: a connection that keeps dropping cannot keep a
  // round (and its outcomes) growing. Each requeue followed a skip, so the skips count them.
  const auto skips = std::count_if(r.outcomes.begin(), r.outcomes.end(), [&](const RoundOutcome& o) {
    return o.member_id == member && o.outcome == Outcome::skipped;
  });
  if (static_cast<std::size_t>(skips) > max_round_requeues) return;
  auto remaining = r.remaining;
  remaining.push_back(member);
  emit(RoundOrderChanged{std::move(remaining)});
}

void Chain::drop_from_round(const std::string& member) {
  if (!scratch_.round || !contains(scratch_.round->remaining, member)) return;
  auto remaining = scratch_.round->remaining;
  erase_first(remaining, member);
  emit(RoundOrderChanged{std::move(remaining)});
}

void Chain::connection_lost(const std::string& member, std::int64_t grace_ms) {
  if (scratch_.paused) return;
  cannot_speak(member);
  if (scratch_.turn && scratch_.turn->member_id == member && grace_ms > 0) {
    if (scratch_.hand_raised(member)) emit(HandLowered{member});
    emit(TurnHeld{member, out_.now() + grace_ms});
    return;
  }
  withdraw(member);
}

void Chain::pause(PauseReason reason, std::int64_t since_ms) {
  emit(ActivityPaused{reason, since_ms});
  for (TimerId id : {TimerId::phase, TimerId::turn}) {
    const Timer& t = id == TimerId::phase ? room_.timers.phase : turn_timer_;
    if (t.state != TimerState::running || t.ends_at_ms <= since_ms) continue;
    emit(TimerSet{id, TimerAction::pause, Timer{TimerState::paused, t.duration_ms, 0, t.ends_at_ms - since_ms}});
  }
}

void Chain::resume(std::int64_t grace_ms) {
  emit(ActivityResumed{});
  for (TimerId id : {TimerId::phase, TimerId::turn}) {
    const Timer& t = id == TimerId::phase ? room_.timers.phase : turn_timer_;
    if (t.state != TimerState::paused) continue;
    emit(TimerSet{id, TimerAction::resume, Timer{TimerState::running, t.duration_ms, out_.now() + t.remaining_ms, 0}});
  }
  // A speaker still away gets the same grace as one whose connection has just dropped.
  if (scratch_.turn) {
    const Member* m = room_.find_member(scratch_.turn->member_id);
    if (m && m->presence != Presence::online) connection_lost(m->id, grace_ms);
  }
}

void Chain::hold_expired() {
  if (!scratch_.turn) return;
  const Turn t = *scratch_.turn;
  cannot_speak(t.member_id);
  if (scratch_.hand_raised(t.member_id)) emit(HandLowered{t.member_id});
  // Their airtime stops where they went, not where the grace ran out.
  end_turn(Outcome::skipped, t.held_since_ms);
  if (t.mode == TurnMode::round) advance_round();
  else after_floor_turn();
}

void Chain::turn_timer_expired() {
  if (!scratch_.turn) return;
  if (scratch_.turn->mode == TurnMode::round && scratch_.round && scratch_.round->auto_advance) {
    end_turn(Outcome::spoke);
    advance_round();
  } else if (scratch_.turn->mode == TurnMode::floor && scratch_.floor.auto_advance) {
    end_turn(Outcome::spoke);
    after_floor_turn();
  }
}

// ---- go-rounds

namespace {
std::optional<Error> need_round_turn(const RoomState& room) {
  if (!room.speaking.round) return Error{ErrorCode::no_round, "no round is running"};
  if (!room.speaking.turn || room.speaking.turn->mode != TurnMode::round) return Error{ErrorCode::no_turn, "nobody holds the talking piece"};
  return std::nullopt;
}

std::optional<Error> need_not_paused(const RoomState& room) {
  if (room.speaking.paused) return Error{ErrorCode::activity_paused, "the round is paused; a facilitator resumes it first"};
  return std::nullopt;
}

DecideResult finish(const RoomState& room, const Context& ctx, const std::string& actor_id, Outcome outcome) {
  const Member* a = presence::actor(room, actor_id);
  if (!a || a->role == Role::observer) return forbidden("observers do not speak in rounds");
  if (auto e = need_round_turn(room)) return *e;
  if (auto e = need_not_paused(room)) return *e;
  if (room.speaking.turn->member_id != actor_id) return Error{ErrorCode::not_your_turn, "it is someone else's turn"};
  Emitter out(room.seq, ctx.now_ms);
  Chain chain(room, out);
  chain.end_turn(outcome);
  chain.advance_round();
  return out.take();
}
} // namespace

DecideResult decide(const RoomState& room, const StartRound& c, const Context& ctx) {
  if (!presence::lead(room, c.actor)) return forbidden("only facilitators start rounds");
  if (auto e = need_not_paused(room)) return *e;
  if (room.speaking.round) return Error{ErrorCode::round_in_progress, "a round is running; end it first"};
  if (!valid_duration(c.turn_seconds)) return Error{ErrorCode::invalid_duration, "a turn is 1 second to 4 hours"};
  std::vector<std::string> order;
  if (c.kind == OrderKind::custom) {
    for (const auto& id : c.order) {
      const Member* m = room.find_member(id);
      if (!m || m->role == Role::observer) return Error{ErrorCode::unknown_member, "the order names someone who cannot take part"};
      if (contains(order, id)) return Error{ErrorCode::invalid_field, "the order names a member twice"};
      order.push_back(id);
    }
  } else {
    for (const auto& m : room.members) {
      if (m.presence == Presence::online && m.role != Role::observer) order.push_back(m.id);
    }
    if (c.kind == OrderKind::shuffle) {
      SeededRandom random(c.shuffle_seed);
      shuffle(order, random);
    }
  }
  if (c.sit_out) erase_first(order, c.actor);
  if (order.empty()) return Error{ErrorCode::invalid_field, "nobody is here to take part"};
  Emitter out(room.seq, ctx.now_ms);
  Chain chain(room, out);
  if (room.speaking.turn) {
    chain.end_turn(Outcome::ended);
    chain.reset_turn_timer();
  }
  chain.emit(RoundStarted{RoundHeader{room.speaking.rounds_started + 1, std::move(order), c.turn_seconds, c.auto_advance}});
  chain.advance_round();
  return out.take();
}

DecideResult decide(const RoomState& room, const FinishTurn& c, const Context& ctx) { return finish(room, ctx, c.actor, Outcome::spoke); }
DecideResult decide(const RoomState& room, const PassTurn& c, const Context& ctx) { return finish(room, ctx, c.actor, Outcome::passed); }

DecideResult decide(const RoomState& room, const SkipTurn& c, const Context& ctx) {
  if (!presence::lead(room, c.actor)) return forbidden("only facilitators skip a turn");
  if (auto e = need_round_turn(room)) return *e;
  if (auto e = need_not_paused(room)) return *e;
  Emitter out(room.seq, ctx.now_ms);
  Chain chain(room, out);
  chain.end_turn(Outcome::skipped);
  chain.advance_round();
  return out.take();
}

DecideResult decide(const RoomState& room, const MoveLater& c, const Context& ctx) {
  if (!presence::lead(room, c.actor)) return forbidden("only facilitators change the order");
  if (!room.speaking.round) return Error{ErrorCode::no_round, "no round is running"};
  if (!room.find_member(c.member)) return Error{ErrorCode::unknown_member, "no member with that id"};
  if (!contains(room.speaking.round->remaining, c.member)) {
    return Error{ErrorCode::invalid_field, "that member is not waiting for a turn in this round"};
  }
  // Moving the speaker adds a turn outcome the round keeps: the one way to grow a round past its members.
  if (auto full = state_bytes::check_growth(room, state_bytes::outcome, ctx)) return *full;
  Emitter out(room.seq, ctx.now_ms);
  Chain chain(room, out);
  const auto& turn = room.speaking.turn;
  const bool speaking = turn && turn->mode == TurnMode::round && turn->member_id == c.member;
  if (speaking) {
    if (auto e = need_not_paused(room)) return *e;
    chain.end_turn(Outcome::moved);
  }
  auto order = chain.state().round->remaining;
  erase_first(order, c.member);
  order.push_back(c.member);
  if (order != chain.state().round->remaining) chain.emit(RoundOrderChanged{std::move(order)});
  if (speaking) chain.advance_round();
  return out.take();
}

DecideResult decide(const RoomState& room, const EndRound& c, const Context& ctx) {
  if (!presence::lead(room, c.actor)) return forbidden("only facilitators end a round");
  if (!room.speaking.round) return Error{ErrorCode::no_round, "no round is running"};
  Emitter out(room.seq, ctx.now_ms);
  Chain chain(room, out);
  if (room.speaking.turn && room.speaking.turn->mode == TurnMode::round) chain.end_turn(Outcome::ended);
  chain.emit(RoundEnded{RoundEndReason::ended});
  chain.reset_turn_timer();
  return out.take();
}

DecideResult decide(const RoomState& room, const AddToRound& c, const Context& ctx) {
  if (!presence::lead(room, c.actor)) return forbidden("only facilitators change the order");
  if (!room.speaking.round) return Error{ErrorCode::no_round, "no round is running"};
  const Member* m = room.find_member(c.member);
  if (!m || m->presence == Presence::left) return Error{ErrorCode::unknown_member, "that member is not in the room"};
  if (m->role == Role::observer) return Error{ErrorCode::member_is_observer, "observers do not speak in rounds"};
  if (contains(room.speaking.round->remaining, c.member)) {
    return Error{ErrorCode::already_in_round, "that member is still to speak in this round"};
  }
  // Another turn for the member: one more outcome the round (and its summary) keeps.
  if (auto full = state_bytes::check_growth(room, state_bytes::outcome, ctx)) return *full;
  Emitter out(room.seq, ctx.now_ms);
  auto remaining = room.speaking.round->remaining;
  remaining.push_back(c.member);
  out.emit(RoundOrderChanged{std::move(remaining)});
  return out.take();
}

// ---- pause and resume

DecideResult decide(const RoomState& room, const PauseActivity& c, const Context& ctx) {
  if (!presence::lead(room, c.actor)) return forbidden("only facilitators pause the room");
  if (room.speaking.paused) return Error{ErrorCode::activity_paused, "the room is paused already"};
  const bool timing = room.timers.phase.state == TimerState::running || room.timers.turn.state == TimerState::running;
  if (!room.speaking.round && !room.speaking.turn && !timing) {
    return Error{ErrorCode::nothing_to_pause, "no round, turn or timer is running"};
  }
  Emitter out(room.seq, ctx.now_ms);
  Chain(room, out).pause(PauseReason::facilitator, ctx.now_ms);
  return out.take();
}

DecideResult decide(const RoomState& room, const ResumeActivity& c, const Context& ctx) {
  if (!presence::lead(room, c.actor)) return forbidden("only facilitators resume the room");
  if (!room.speaking.paused) return Error{ErrorCode::not_paused, "nothing is paused"};
  Emitter out(room.seq, ctx.now_ms);
  Chain(room, out).resume(ctx.limits.speaker_grace_ms);
  return out.take();
}

DecideResult decide(const RoomState& room, const PauseForRestart& c, const Context& ctx) {
  if (room.speaking.paused) return Decision{}; // paused before the server stopped: it stays so
  // A timer whose deadline had passed while the server was still alive is not paused: it fires now.
  auto counting = [&](const Timer& t) { return t.state == TimerState::running && t.ends_at_ms > c.since_ms; };
  if (!room.speaking.round && !room.speaking.turn && !counting(room.timers.phase) && !counting(room.timers.turn)) {
    return Decision{};
  }
  Emitter out(room.seq, ctx.now_ms);
  Chain(room, out).pause(PauseReason::restart, c.since_ms);
  return out.take();
}

// ---- the dialogue floor

DecideResult decide(const RoomState& room, const RaiseHand& c, const Context& ctx) {
  const Member* a = presence::actor(room, c.actor);
  if (!a || a->role == Role::observer) return forbidden("observers do not take the floor");
  if (room.speaking.hand_raised(c.actor)) return Error{ErrorCode::hand_already_raised, "your hand is raised already"};
  Emitter out(room.seq, ctx.now_ms);
  out.emit(HandRaised{c.actor});
  return out.take();
}

DecideResult decide(const RoomState& room, const LowerHand& c, const Context& ctx) {
  // Who may first, then what state the hand is in: an observer learns nothing about the queue.
  const Member* a = presence::actor(room, c.actor);
  if (!a || a->role == Role::observer) return forbidden("observers do not take the floor");
  const std::string target = c.member.value_or(c.actor);
  if (target != c.actor && !leads(a->role)) return forbidden("only facilitators lower someone else's hand");
  if (!room.find_member(target)) return Error{ErrorCode::unknown_member, "no member with that id"};
  if (!room.speaking.hand_raised(target)) return Error{ErrorCode::hand_not_raised, "that hand is not raised"};
  Emitter out(room.seq, ctx.now_ms);
  out.emit(HandLowered{target});
  return out.take();
}

DecideResult decide(const RoomState& room, const GiveFloor& c, const Context& ctx) {
  if (!presence::lead(room, c.actor)) return forbidden("only facilitators give the floor");
  if (auto e = need_not_paused(room)) return *e;
  if (room.speaking.round) return Error{ErrorCode::round_in_progress, "a round is running; the talking piece goes round"};
  Emitter out(room.seq, ctx.now_ms);
  Chain chain(room, out);
  std::string target;
  if (c.member) {
    if (!chain.can_speak(*c.member)) return Error{ErrorCode::unknown_member, "that member is not here to speak"};
    target = *c.member;
  } else {
    // The head of the queue (or the quietest), passing over anyone no longer here.
    for (;;) {
      auto next = chain.next_in_queue();
      if (!next) return Error{ErrorCode::queue_empty, "nobody's hand is raised"};
      if (chain.can_speak(*next)) {
        target = *next;
        break;
      }
      chain.emit(HandLowered{*next});
    }
  }
  chain.give_floor(target);
  return out.take();
}

DecideResult decide(const RoomState& room, const ReleaseFloor& c, const Context& ctx) {
  const Member* a = presence::actor(room, c.actor);
  if (!a || a->role == Role::observer) return forbidden("observers do not hold the floor");
  const auto& turn = room.speaking.turn;
  if (!turn || turn->mode != TurnMode::floor) return Error{ErrorCode::no_turn, "nobody holds the floor"};
  if (turn->member_id != c.actor && !leads(a->role)) return Error{ErrorCode::not_your_turn, "someone else holds the floor"};
  if (auto e = need_not_paused(room)) return *e;
  Emitter out(room.seq, ctx.now_ms);
  Chain chain(room, out);
  chain.end_turn(Outcome::spoke);
  chain.after_floor_turn();
  return out.take();
}

DecideResult decide(const RoomState& room, const SetFloor& c, const Context& ctx) {
  if (!presence::lead(room, c.actor)) return forbidden("only facilitators change the dialogue settings");
  if (c.turn_seconds && !valid_duration(*c.turn_seconds)) return Error{ErrorCode::invalid_duration, "a turn is 1 second to 4 hours"};
  Emitter out(room.seq, ctx.now_ms);
  out.emit(FloorSettingsChanged{c.turn_seconds, c.auto_advance, c.quieter_first});
  return out.take();
}

// ---- evolve

void evolve(State& s, const RoundStarted& e, std::int64_t) {
  s.round = Round{e.round.id, e.round.order, e.round.order, e.round.turn_seconds, e.round.auto_advance, {}, {}};
  s.last_round.reset();
  s.rounds_started = std::max(s.rounds_started, e.round.id);
}
void evolve(State& s, const RoundOrderChanged& e, std::int64_t) {
  if (s.round) s.round->remaining = e.remaining;
}
void evolve(State& s, const RoundEnded& e, std::int64_t) {
  if (s.round) s.last_round = RoundSummary{s.round->id, e.reason, std::move(s.round->outcomes)};
  s.round.reset();
  if (s.turn && s.turn->mode == TurnMode::round) s.turn.reset();
}
void evolve(State& s, const ActivityPaused& e, std::int64_t) {
  s.paused = Pause{e.reason, e.since};
  if (s.turn) s.turn->held_until_ms.reset(); // the pause is the grace now
}
void evolve(State& s, const ActivityResumed&, std::int64_t time_ms) {
  if (s.turn && s.paused) s.turn->paused_ms += std::max<std::int64_t>(0, time_ms - std::max(s.paused->since_ms, s.turn->started_at_ms));
  s.paused.reset();
}
void evolve(State& s, const TurnHeld& e, std::int64_t time_ms) {
  if (s.turn && s.turn->member_id == e.member_id) {
    s.turn->held_until_ms = e.until;
    s.turn->held_since_ms = time_ms;
  }
}
void evolve(State& s, const TurnStarted& e, std::int64_t time_ms) {
  s.turn = Turn{e.member_id, e.mode, time_ms, 0, std::nullopt, 0};
  if (e.mode == TurnMode::floor) erase_first(s.floor.queue, e.member_id);
}
void evolve(State& s, const TurnEnded& e, std::int64_t) {
  const bool holder = s.turn && s.turn->member_id == e.member_id;
  const TurnMode mode = holder ? s.turn->mode : TurnMode::round;
  if (mode == TurnMode::round && s.round) {
    erase_first(s.round->remaining, e.member_id);
    s.round->outcomes.push_back(RoundOutcome{e.member_id, e.outcome, e.ms});
  }
  if (holder) s.turn.reset();
}
void evolve(State& s, const HandRaised& e, std::int64_t) { s.floor.queue.push_back(e.member_id); }
void evolve(State& s, const HandLowered& e, std::int64_t) { erase_first(s.floor.queue, e.member_id); }
void evolve(State& s, const FloorSettingsChanged& e, std::int64_t) {
  s.floor.turn_seconds = e.turn_seconds;
  s.floor.auto_advance = e.auto_advance;
  s.floor.quieter_first = e.quieter_first;
}
void evolve(RoomState& room, const TurnEnded& e, std::int64_t time_ms) {
  Member* m = room.find_member(e.member_id);
  if (m) m->airtime_ms += e.ms;
  const bool in_round = room.speaking.round && !(room.speaking.turn && room.speaking.turn->member_id == e.member_id &&
                                                 room.speaking.turn->mode == TurnMode::floor);
  evolve(room.speaking, e, time_ms);
  if (!in_round || !room.speaking.round) return;
  // A turn skipped while its member is not online (gone before their turn came, or left or lost
  // their connection mid-turn: the presence event comes first) is owed to them if they come back.
  auto& away = room.speaking.round->skipped_away;
  erase_first(away, e.member_id);
  if (e.outcome == Outcome::skipped && m && m->presence != Presence::online && m->role != Role::observer) away.push_back(e.member_id);
}

} // namespace colloquy::speaking
