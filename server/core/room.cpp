#include "core/room.hpp"


namespace colloquy {

const Member* RoomState::find_member(std::string_view member_id) const {
  // The number in the id says where the member is.
  const std::size_t n = member_number(member_id);
  if (n == 0 || n > members.size()) return nullptr;
  const Member& m = members[n - 1];
  return m.id == member_id ? &m : nullptr;
}

Member* RoomState::find_member(std::string_view member_id) {
  return const_cast<Member*>(std::as_const(*this).find_member(member_id));
}

namespace lifecycle {
DecideResult decide(const RoomState& room, const CreateRoom& c, const Context& ctx) {
  if (room.exists()) return Error{ErrorCode::invalid_field, "room already exists"};
  Emitter out(room.seq, ctx.now_ms);
  out.emit(RoomCreated{c.title, c.key_hash, c.code_hash});
  return out.take();
}
void evolve(RoomState& room, const RoomCreated& e, std::int64_t time_ms) {
  room.title = e.title;
  room.key_hash = e.key_hash;
  room.code_hash = e.code_hash;
  room.created_at_ms = time_ms;
}
} // namespace lifecycle

namespace {

// ---- the registration: each command and event to the module that owns it. The overload sets
// below choose the module by the command's (or event's) type; an unregistered or doubly
// registered one does not compile. A new activity is a new module plus its lines here.
struct Registry {
  // decide(room, command, context): every module takes the committed room, read-only.
  template <typename C>
  static DecideResult decide(const RoomState& room, const C& c, const Context& ctx) {
    using lifecycle::decide;
    using presence::decide;  // Join, Leave, LoseConnection, SetRole, HandOver, ClaimFacilitation, RemoveMember, CloseRoom, ChangeSettings
    using speaking::decide;  // StartRound, FinishTurn, PassTurn, SkipTurn, MoveLater, EndRound, AddToRound, PauseActivity, ResumeActivity, PauseForRestart, RaiseHand, LowerHand, GiveFloor, ReleaseFloor, SetFloor
    using timers::decide;    // TimerCommand, Expire
    using prompts::decide;   // CheckPrompt, ReleasePrompts, UpvotePrompt, PosePrompt
    using audit::decide;     // OpenAudit, CheckAuditAnswer, CloseAudit
    using deck::decide;      // AddCard, RemoveCard, DrawCard
    using groups::decide;    // OpenGroups, MoveToGroup, ExtendGroups, RecallGroups, CloseGroups, MessageGroups, FlagGroup
    return decide(room, c, ctx);
  }
  // evolve: each module applies its events to its own part of the room, in place.
  static void evolve(RoomState& r, const RoomCreated& e, std::int64_t t) { lifecycle::evolve(r, e, t); }
  static void evolve(RoomState& r, const MemberJoined& e, std::int64_t t) { presence::evolve(r, e, t); }
  static void evolve(RoomState& r, const MemberLeft& e, std::int64_t t) { presence::evolve(r, e, t); }
  static void evolve(RoomState& r, const MemberConnectionLost& e, std::int64_t t) { presence::evolve(r, e, t); }
  static void evolve(RoomState& r, const MemberBack& e, std::int64_t t) { presence::evolve(r, e, t); }
  static void evolve(RoomState& r, const MemberRemoved& e, std::int64_t t) { presence::evolve(r, e, t); }
  static void evolve(RoomState& r, const RoomClosed& e, std::int64_t t) { presence::evolve(r, e, t); }
  static void evolve(RoomState& r, const RoleChanged& e, std::int64_t t) { presence::evolve(r, e, t); }
  static void evolve(RoomState& r, const SettingsChanged& e, std::int64_t t) { presence::evolve(r, e, t); }
  static void evolve(RoomState& r, const RoundStarted& e, std::int64_t t) { speaking::evolve(r.speaking, e, t); }
  static void evolve(RoomState& r, const RoundOrderChanged& e, std::int64_t t) { speaking::evolve(r.speaking, e, t); }
  static void evolve(RoomState& r, const RoundEnded& e, std::int64_t t) { speaking::evolve(r.speaking, e, t); }
  static void evolve(RoomState& r, const ActivityPaused& e, std::int64_t t) { speaking::evolve(r.speaking, e, t); }
  static void evolve(RoomState& r, const ActivityResumed& e, std::int64_t t) { speaking::evolve(r.speaking, e, t); }
  static void evolve(RoomState& r, const TurnHeld& e, std::int64_t t) { speaking::evolve(r.speaking, e, t); }
  static void evolve(RoomState& r, const TurnStarted& e, std::int64_t t) { speaking::evolve(r.speaking, e, t); }
  static void evolve(RoomState& r, const TurnEnded& e, std::int64_t t) { speaking::evolve(r, e, t); }
  static void evolve(RoomState& r, const HandRaised& e, std::int64_t t) { speaking::evolve(r.speaking, e, t); }
  static void evolve(RoomState& r, const HandLowered& e, std::int64_t t) { speaking::evolve(r.speaking, e, t); }
  static void evolve(RoomState& r, const FloorSettingsChanged& e, std::int64_t t) { speaking::evolve(r.speaking, e, t); }
  static void evolve(RoomState& r, const TimerSet& e, std::int64_t t) { timers::evolve(r.timers, e, t); }
  static void evolve(RoomState& r, const TimerExpired& e, std::int64_t t) { timers::evolve(r.timers, e, t); }
  static void evolve(RoomState& r, const PromptsReleased& e, std::int64_t t) { prompts::evolve(r.prompts, e, t); }
  static void evolve(RoomState& r, const PromptUpvoted& e, std::int64_t t) { prompts::evolve(r.prompts, e, t); }
  static void evolve(RoomState& r, const PromptPosed& e, std::int64_t t) { prompts::evolve(r.prompts, e, t); }
  static void evolve(RoomState& r, const AuditOpened& e, std::int64_t t) { audit::evolve(r.audit, e, t); }
  static void evolve(RoomState& r, const AuditClosed& e, std::int64_t t) { audit::evolve(r.audit, e, t); }
  static void evolve(RoomState& r, const DeckChanged& e, std::int64_t t) { deck::evolve(r.deck, e, t); }
  static void evolve(RoomState& r, const DeckCardAdded& e, std::int64_t t) { deck::evolve(r.deck, e, t); }
  static void evolve(RoomState& r, const DeckCardRemoved& e, std::int64_t t) { deck::evolve(r.deck, e, t); }
  static void evolve(RoomState& r, const DeckCardDrawn& e, std::int64_t t) { deck::evolve(r.deck, e, t); }
  static void evolve(RoomState& r, const GroupsOpened& e, std::int64_t t) { groups::evolve(r, e, t); }
  static void evolve(RoomState& r, const GroupMemberMoved& e, std::int64_t t) { groups::evolve(r.groups, e, t); }
  static void evolve(RoomState& r, const GroupsExtended& e, std::int64_t t) { groups::evolve(r.groups, e, t); }
  static void evolve(RoomState& r, const GroupsRecalled& e, std::int64_t t) { groups::evolve(r.groups, e, t); }
  static void evolve(RoomState& r, const GroupsClosed& e, std::int64_t t) { groups::evolve(r.groups, e, t); }
  static void evolve(RoomState& r, const GroupsMessage& e, std::int64_t t) { groups::evolve(r.groups, e, t); }
  static void evolve(RoomState& r, const GroupFlagChanged& e, std::int64_t t) { groups::evolve(r.groups, e, t); }
};

} // namespace

DecideResult decide(const RoomState& state, const Command& command, std::int64_t now_ms, const Limits& limits) {
  const Context ctx{now_ms, limits};
  // A closed room decides nothing more (the hub removes it); a lost connection is a no-op.
  if (state.closed) {
    if (std::holds_alternative<LoseConnection>(command)) return Decision{};
    return Error{ErrorCode::room_not_found, "that room was closed"};
  }
  return std::visit([&](const auto& c) { return Registry::decide(state, c, ctx); }, command);
}

void evolve(RoomState& state, const Event& event) {
  std::visit([&](const auto& body) { Registry::evolve(state, body, event.time_ms); }, event.body);
  state.seq = event.seq;
}

} // namespace colloquy
