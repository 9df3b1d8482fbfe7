#pragma once
// The room as a pure, deterministic state machine: decide() checks a command against the state
// and returns events or an error; evolve() applies an event and never fails. No I/O, no clock,
// no randomness: time and fresh secrets come in as arguments.
#include "core/error_code.hpp"
#include "core/templates.hpp"

#include <array>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace colloquy {

enum class Role { facilitator, co_facilitator, participant, observer };
enum class Presence { online, away, left };

std::string_view to_string(Role role);
std::string_view to_string(Presence presence);
std::optional<Role> role_from_string(std::string_view text);
// Facilitators and co-facilitators run rounds, the floor and timers.
inline bool leads(Role role) { return role == Role::facilitator || role == Role::co_facilitator; }

// ---- Live rounds (protocol 1.2)
enum class TimerState { idle, running, paused, expired };
enum class TimerId { phase, turn };
enum class TimerAction { start, pause, resume, extend, reset };
enum class TurnMode { round, floor };
enum class Outcome { spoke, passed, skipped, moved, ended };
enum class RoundEndReason { completed, ended };
enum class AirtimeVisibility { everyone, facilitators };

std::string_view to_string(TimerState v);
std::string_view to_string(TimerId v);
std::string_view to_string(TimerAction v);
std::string_view to_string(TurnMode v);
std::string_view to_string(Outcome v);
std::string_view to_string(RoundEndReason v);
std::string_view to_string(AirtimeVisibility v);
std::optional<TimerState> timer_state_from_string(std::string_view text);
std::optional<TimerId> timer_id_from_string(std::string_view text);
std::optional<TimerAction> timer_action_from_string(std::string_view text);
std::optional<TurnMode> turn_mode_from_string(std::string_view text);
std::optional<Outcome> outcome_from_string(std::string_view text);
std::optional<RoundEndReason> round_end_reason_from_string(std::string_view text);
std::optional<AirtimeVisibility> airtime_visibility_from_string(std::string_view text);

inline constexpr std::int64_t max_duration_seconds = 4 * 60 * 60;
inline constexpr std::int64_t facilitator_grace_ms = 120'000;

// A deadline in server time while running; what was left while paused.
struct Timer {
  TimerState state = TimerState::idle;
  std::int64_t duration_ms = 0;
  std::int64_t ends_at_ms = 0;   // running (and expired: when it ended)
  std::int64_t remaining_ms = 0; // paused
  bool operator==(const Timer&) const = default;
};

struct Turn {
  std::string member_id;
  TurnMode mode = TurnMode::round;
  std::int64_t started_at_ms = 0;
};

struct RoundOutcome {
  std::string member_id;
  Outcome outcome = Outcome::spoke;
  std::int64_t ms = 0;
};

struct Round {
  std::uint64_t id = 0;
  std::vector<std::string> order;     // as started
  std::vector<std::string> remaining; // still to speak, the current speaker first
  std::int64_t turn_seconds = 0;
  bool auto_advance = true;
  std::vector<RoundOutcome> outcomes;
};

// An anonymous prompt once released to the group (protocol 1.3). Nothing in it names its author.
struct ReleasedPrompt {
  std::string id;
  std::string text;
  std::int64_t votes = 0;
  bool posed = false;
  std::optional<std::string> posed_to; // with posed: nothing = to the group
};

// A climate-for-learning audit (protocol 1.3): who answered what is never part of it.
struct AuditResults {
  struct Item {
    std::string id;
    std::array<std::int64_t, 5> counts{}; // answers 1..5
    bool operator==(const Item&) const = default;
  };
  std::vector<Item> items;
  std::vector<std::string> comments; // shuffled
  bool operator==(const AuditResults&) const = default;
};

struct Audit {
  std::string id;
  std::int64_t k = 5;
  std::vector<AuditItem> items;
  bool open = true;
  std::int64_t responses = 0;          // once closed
  std::optional<AuditResults> results; // once closed, if at least k answered
};

inline constexpr std::int64_t min_audit_k = 3;
inline constexpr std::int64_t max_audit_k = 50;

struct PromptText {
  std::string id;
  std::string text;
  bool operator==(const PromptText&) const = default;
};

struct Floor {
  std::vector<std::string> queue; // raised hands, in order
  std::optional<std::int64_t> turn_seconds;
  bool auto_advance = false;
  bool quieter_first = false;
};

struct Member {
  std::string id;   // "m1", "m2", … in join order; not secret
  std::string name;
  Role role = Role::participant;
  Presence presence = Presence::online;
  std::string token_hash; // SHA-256 hex of the resume token; the token itself is never kept
  std::int64_t airtime_ms = 0;    // time holding the floor, this session
  std::int64_t away_since_ms = 0; // when presence last stopped being online
};

struct RoomState {
  std::string id;
  std::string title;
  std::string key_hash;  // facilitator key, hashed
  std::string code_hash; // participant join code, hashed
  std::uint64_t seq = 0; // the last event applied; 0 = the room does not exist yet
  std::int64_t created_at_ms = 0;
  std::vector<Member> members;
  AirtimeVisibility airtime_visibility = AirtimeVisibility::everyone;
  std::uint64_t rounds_started = 0;
  std::optional<Round> round;
  Floor floor;
  std::optional<Turn> turn;
  Timer phase_timer;
  Timer turn_timer;
  std::vector<ReleasedPrompt> prompts;
  std::optional<Audit> audit;
  std::uint64_t audits_started = 0;
  std::optional<std::vector<DeckCard>> deck_cards; // nothing: the built-in deck, never edited
  std::vector<std::string> deck_drawn;
  const std::vector<DeckCard>& deck() const { return deck_cards ? *deck_cards : default_deck(); }

  const ReleasedPrompt* find_prompt(std::string_view prompt_id) const;
  // A member's hand is raised exactly when they are in the speaking queue.
  bool hand_raised(std::string_view member_id) const;

  Timer& timer(TimerId which) { return which == TimerId::phase ? phase_timer : turn_timer; }
  const Timer& timer(TimerId which) const { return which == TimerId::phase ? phase_timer : turn_timer; }
  const Member* find_member(std::string_view member_id) const;
  Member* find_member(std::string_view member_id);
  bool exists() const { return seq > 0; }
};

// Who may see an event. Fan-out filters by it; private data never reaches another connection.
// leads: facilitators and co-facilitators. group: the members of one breakout group.
struct Audience {
  enum class Kind { everyone, member, leads, group };
  Kind kind = Kind::everyone;
  std::string member_id; // for Kind::member
  std::string group_id;  // for Kind::group
};

// ---- Events: what happened. Stored in the room log; hashes never leave the server.
struct RoomCreated { std::string title; std::string key_hash; std::string code_hash; };
struct MemberJoined { std::string member_id; std::string name; Role role; std::string token_hash; };
struct MemberLeft { std::string member_id; };
struct MemberConnectionLost { std::string member_id; };
struct MemberBack { std::string member_id; };

struct RoleChanged { std::string member_id; Role role; };
struct SettingsChanged { AirtimeVisibility airtime_visibility; };
struct RoundStarted { std::uint64_t id; std::vector<std::string> order; std::int64_t turn_seconds; bool auto_advance; };
struct RoundOrderChanged { std::vector<std::string> remaining; };
struct RoundEnded { RoundEndReason reason; };
struct TurnStarted { std::string member_id; TurnMode mode; };
struct TurnEnded { std::string member_id; Outcome outcome; std::int64_t ms; };
struct HandRaised { std::string member_id; };
struct HandLowered { std::string member_id; };
struct FloorSettingsChanged { std::optional<std::int64_t> turn_seconds; bool auto_advance; bool quieter_first; };
struct TimerSet { TimerId timer; TimerAction action; Timer state; };
struct TimerExpired { TimerId timer; };
struct PromptsReleased { std::vector<PromptText> prompts; };
struct PromptUpvoted { std::string prompt_id; std::int64_t votes; };
struct PromptPosed { std::string prompt_id; std::optional<std::string> member_id; };
struct AuditOpened { std::string id; std::int64_t k; std::vector<AuditItem> items; };
struct AuditClosed { std::string id; std::int64_t responses; std::optional<AuditResults> results; };
// The whole deck after an edit, so replaying the log never depends on the built-in template.
struct DeckChanged { std::vector<DeckCard> cards; };
struct DeckCardDrawn { DeckCard card; };

using EventBody = std::variant<RoomCreated, MemberJoined, MemberLeft, MemberConnectionLost, MemberBack, RoleChanged,
                               SettingsChanged, RoundStarted, RoundOrderChanged, RoundEnded, TurnStarted, TurnEnded,
                               HandRaised, HandLowered, FloorSettingsChanged, TimerSet, TimerExpired,
                               PromptsReleased, PromptUpvoted, PromptPosed, AuditOpened, AuditClosed, DeckChanged,
                               DeckCardDrawn>;

struct Event {
  std::uint64_t seq = 0;
  std::int64_t time_ms = 0;
  EventBody body;
  Audience audience;
};

// ---- Commands: what someone asks for. Already decoded and shape-checked by the protocol layer.
struct CreateRoom { std::string title; std::string key_hash; std::string code_hash; };
enum class Credential { facilitator_key, join_code, resume_token };
struct Join {
  Credential credential = Credential::join_code;
  std::string secret;         // as presented; only its hash is compared or kept
  std::string name;           // already cleaned; empty with resume_token
  std::string new_token_hash; // hash of a fresh resume token, used if a new member is made
};
struct Leave { std::string member_id; };
struct LoseConnection { std::string member_id; };

// Live-round commands carry the sending member (`actor`); the core checks their role.
struct SetRole { std::string actor; std::string member; Role role; };
struct HandOver { std::string actor; std::string member; };
struct ClaimFacilitation { std::string actor; };
struct ChangeSettings { std::string actor; AirtimeVisibility airtime_visibility; };
enum class OrderKind { join, shuffle, custom };
struct StartRound {
  std::string actor;
  OrderKind kind = OrderKind::join;
  std::vector<std::string> order; // custom
  std::int64_t turn_seconds = 0;
  bool auto_advance = true;
  std::uint64_t shuffle_seed = 0; // drawn by the caller; the resulting order is in the event
};
struct FinishTurn { std::string actor; bool pass = false; };
struct SkipTurn { std::string actor; };
struct MoveLater { std::string actor; std::string member; };
struct EndRound { std::string actor; };
struct RaiseHand { std::string actor; };
struct LowerHand { std::string actor; std::optional<std::string> member; };
struct GiveFloor { std::string actor; std::optional<std::string> member; };
struct ReleaseFloor { std::string actor; };
struct SetFloor { std::string actor; std::optional<std::int64_t> turn_seconds; bool auto_advance = false; bool quieter_first = false; };
struct TimerCommand { std::string actor; TimerId timer; TimerAction action; std::int64_t seconds = 0; };
// Anonymous prompts. Submitting and managing pending prompts change no room state (pending prompts
// live outside the log, without authors); the core only checks who may do it.
enum class PromptAction { submit, manage };
struct CheckPrompt { std::string actor; PromptAction action; };
// The batch, already taken from the pending set and shuffled by the caller.
struct ReleasePrompts { std::string actor; std::vector<PromptText> batch; };
struct UpvotePrompt { std::string actor; std::string prompt; };
struct PosePrompt { std::string actor; std::string prompt; std::optional<std::string> member; };

struct OpenAudit { std::string actor; std::int64_t k = 5; };
// Checks an answer against the open audit; the caller stores it (never in the room log).
struct CheckAuditAnswer { std::string actor; std::vector<std::pair<std::string, std::int64_t>> answers; };
// The tally, made by the caller from its store; results are published only if responses >= k.
struct CloseAudit { std::string actor; std::int64_t responses = 0; AuditResults tally; };

struct AddCard { std::string actor; std::string text; };
struct RemoveCard { std::string actor; std::string card; };
struct DrawCard { std::string actor; std::uint64_t seed = 0; }; // the caller draws the seed

// Server-initiated: a running timer reached ends_at. Lands once: after that the timer is not
// running with that deadline any more, so the same command decides nothing.
struct Expire { TimerId timer; std::int64_t ends_at_ms; };

using Command = std::variant<CreateRoom, Join, Leave, LoseConnection, SetRole, HandOver, ClaimFacilitation, ChangeSettings,
                             StartRound, FinishTurn, SkipTurn, MoveLater, EndRound, RaiseHand, LowerHand, GiveFloor,
                             ReleaseFloor, SetFloor, TimerCommand, Expire, CheckPrompt, ReleasePrompts, UpvotePrompt,
                             PosePrompt, OpenAudit, CheckAuditAnswer, CloseAudit, AddCard, RemoveCard, DrawCard>;

// The open audit's answer values in its item order, for a checked answer.
std::vector<std::int64_t> audit_values(const Audit& audit, const CheckAuditAnswer& answer);

// The earliest deadline of a running timer, if any (for scheduling Expire).
struct Deadline { TimerId timer; std::int64_t ends_at_ms; };
std::optional<Deadline> next_deadline(const RoomState& state);

struct Limits {
  std::size_t max_members = 50;
};

struct Decision {
  std::vector<Event> events;  // seq and time already assigned
  std::string member_id;      // for Join: the member it resolved to
};

using DecideResult = std::variant<Decision, Error>;

DecideResult decide(const RoomState& state, const Command& command, std::int64_t now_ms,
                    const Limits& limits = {});

// Applies one event; events must arrive in seq order (state.seq + 1).
void evolve(RoomState& state, const Event& event);

} // namespace colloquy
