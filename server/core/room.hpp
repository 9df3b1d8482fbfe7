#pragma once
// The room as a pure, deterministic state machine: decide() checks a command against the state
// and returns events or an error; evolve() applies an event and never fails. No I/O, no clock,
// no randomness: time and fresh secrets come in as arguments.
#include "core/error_code.hpp"
#include "core/generated/messages.hpp"
#include "core/templates.hpp"

#include <array>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace colloquy {

// Facilitators and co-facilitators run rounds, the floor and timers.
inline bool leads(Role role) { return role == Role::facilitator || role == Role::co_facilitator; }

inline constexpr std::int64_t facilitator_grace_ms = facilitator_grace_seconds * 1000;

struct Turn {
  std::string member_id;
  TurnMode mode = TurnMode::round;
  std::int64_t started_at_ms = 0;
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

struct Audit {
  std::string id;
  std::int64_t k = 5;
  std::vector<AuditItem> items;
  bool open = true;
  std::int64_t responses = 0;          // once closed
  std::optional<AuditResults> results; // once closed, if at least k answered
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

// ---- Events: what happened (generated from protocol/messages.json). Stored in the room log;
// storage-only fields (hashes) never leave the server.
struct Event {
  std::uint64_t seq = 0;
  std::int64_t time_ms = 0;
  EventBody body;
  Audience audience;
};

// ---- Commands: what someone asks for. Room commands from clients are generated (SetRole, …);
// these are the hub's own, already decoded and shape-checked.
struct CreateRoom { std::string title; std::string key_hash; std::string code_hash; };
struct Join {
  Credential credential = Credential::join_code;
  std::string secret;         // as presented; only its hash is compared or kept
  std::string name;           // already cleaned; empty with resume_token
  std::string new_token_hash; // hash of a fresh resume token, used if a new member is made
};
struct Leave { std::string member_id; };
struct LoseConnection { std::string member_id; };

// Anonymous prompts. Submitting and managing pending prompts change no room state (pending prompts
// live outside the log, without authors); the core only checks who may do it.
enum class PromptAction { submit, manage };
struct CheckPrompt { std::string actor; PromptAction action; };
// The batch, already taken from the pending set and shuffled by the caller.
struct ReleasePrompts { std::string actor; std::vector<PromptText> batch; };

struct OpenAudit { std::string actor; std::int64_t k = 5; };
// Checks an answer against the open audit; the caller stores it (never in the room log).
struct CheckAuditAnswer { std::string actor; std::vector<std::pair<std::string, std::int64_t>> answers; };
// The tally, made by the caller from its store; results are published only if responses >= k.
struct CloseAudit { std::string actor; std::int64_t responses = 0; AuditResults tally; };

// Server-initiated: a running timer reached ends_at. Lands once: after that the timer is not
// running with that deadline any more, so the same command decides nothing.
struct Expire { TimerId timer; std::int64_t ends_at_ms; };

using Command = std::variant<CreateRoom, Join, Leave, LoseConnection, SetRole, HandOver, ClaimFacilitation, ChangeSettings,
                             StartRound, FinishTurn, PassTurn, SkipTurn, MoveLater, EndRound, RaiseHand, LowerHand, GiveFloor,
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
