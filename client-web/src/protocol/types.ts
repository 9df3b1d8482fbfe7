// Wire protocol v1: every message a browser and a Colloquy server exchange.
// The authoritative definition is protocol/README.md at the repository root.

/** The protocol major version this client speaks. */
export const PROTOCOL_VERSION = 1;

export type Role = 'facilitator' | 'co_facilitator' | 'participant' | 'observer';
export type Presence = 'online' | 'away' | 'left';

export const ROLES: readonly Role[] = ['facilitator', 'co_facilitator', 'participant', 'observer'];
/** Roles `set_role` may give (facilitator moves only with `hand_over` or `claim_facilitation`). */
export type AssignableRole = 'co_facilitator' | 'participant' | 'observer';
export const ASSIGNABLE_ROLES: readonly AssignableRole[] = ['co_facilitator', 'participant', 'observer'];
export const PRESENCES: readonly Presence[] = ['online', 'away', 'left'];

/** Every error code of protocol v1 (WebSocket and HTTP). New codes may appear: keep `string` open. */
export type ErrorCode =
  | 'bad_json'
  | 'bad_frame'
  | 'unknown_type'
  | 'missing_field'
  | 'invalid_field'
  | 'unknown_field'
  | 'invalid_name'
  | 'invalid_title'
  | 'room_not_found'
  | 'bad_credentials'
  | 'room_full'
  | 'server_full'
  | 'already_joined'
  | 'not_joined'
  | 'not_found'
  | 'method_not_allowed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unavailable'
  | 'forbidden'
  | 'not_your_turn'
  | 'no_round'
  | 'no_turn'
  | 'round_in_progress'
  | 'queue_empty'
  | 'hand_already_raised'
  | 'hand_not_raised'
  | 'unknown_member'
  | 'invalid_duration'
  | 'timer_not_running'
  | 'facilitator_present'
  | 'invalid_text'
  | 'rate_limited'
  | 'unknown_prompt'
  | 'already_voted'
  | 'no_audit'
  | 'audit_in_progress'
  | 'invalid_answer'
  | 'already_answered'
  | 'unknown_card'
  | 'deck_empty'
  | 'internal';

/** WebSocket close codes the server uses. */
export const CloseCode = {
  serverShutdown: 1001,
  frameTooLarge: 1009,
  replaced: 4000,
  slowConsumer: 4001,
} as const;

// ---------------------------------------------------------------- limits

export const MAX_ID_CHARS = 64;
export const MAX_ROOM_CHARS = 64;
export const MAX_SECRET_CHARS = 128;
/** The largest seq a client may send back (`after`): the largest integer JavaScript holds exactly. */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;
export const MAX_NAME_CHARS = 60;
export const MAX_TITLE_CHARS = 120;
/** A member id in a command (`member`, round orders): 1..64 characters. */
export const MAX_MEMBER_ID_CHARS = 64;
/** Durations are whole seconds, 1..MAX_DURATION_SECONDS (4 hours). */
export const MAX_DURATION_SECONDS = 14_400;
/** An anonymous prompt's text: 1..500 code points after trimming (1.3). */
export const MAX_PROMPT_CHARS = 500;
/** A prompt id in a command: 1..64 characters (1.3). */
export const MAX_PROMPT_ID_CHARS = 64;
/** `prompt_release.prompts`: at most this many ids (the server's limit). */
export const MAX_RELEASE_PROMPTS = 100;
/** `audit_open.k`: results are shown only if at least k members answered; 3..50, default 5 (1.3). */
export const MIN_AUDIT_K = 3;
export const MAX_AUDIT_K = 50;
export const DEFAULT_AUDIT_K = 5;
/** An audit answer is 1 (strongly disagree) .. 5 (strongly agree) per item (1.3). */
export const AUDIT_SCALE = 5;
/** An audit comment: like a prompt's text, 1..500 code points after trimming (1.3). */
export const MAX_AUDIT_COMMENT_CHARS = 500;
/** A challenge card's text: like a prompt's text, 1..500 code points after trimming (1.3). */
export const MAX_CARD_CHARS = 500;
/** A card id in a command (`deck_remove.card`): 1..64 characters (1.3). */
export const MAX_CARD_ID_CHARS = 64;

// ---------------------------------------------------------------- commands (client -> server)

interface CommandBase {
  id: string;
}

/** `join` with exactly one credential. A name goes with `key` or `code`, never with `resume`. */
export type JoinCommand = CommandBase & { type: 'join'; room: string } & (
    | { key: string; name: string }
    | { code: string; name: string }
    | { resume: string; after?: number }
  );

export interface LeaveCommand extends CommandBase {
  type: 'leave';
}

export interface PingCommand extends CommandBase {
  type: 'ping';
}

// ---- live rounds (1.2)

export type AirtimeVisibility = 'everyone' | 'facilitators';
export const AIRTIME_VISIBILITIES: readonly AirtimeVisibility[] = ['everyone', 'facilitators'];
export type TimerName = 'phase' | 'turn';
export const TIMER_NAMES: readonly TimerName[] = ['phase', 'turn'];
export type TimerAction = 'start' | 'pause' | 'resume' | 'extend' | 'reset';
export const TIMER_ACTIONS: readonly TimerAction[] = ['start', 'pause', 'resume', 'extend', 'reset'];
export type TimerStateName = 'idle' | 'running' | 'paused' | 'expired';
export const TIMER_STATES: readonly TimerStateName[] = ['idle', 'running', 'paused', 'expired'];
export type TurnMode = 'round' | 'floor';
export const TURN_MODES: readonly TurnMode[] = ['round', 'floor'];
export type TurnOutcome = 'spoke' | 'passed' | 'skipped' | 'moved' | 'ended';
export const TURN_OUTCOMES: readonly TurnOutcome[] = ['spoke', 'passed', 'skipped', 'moved', 'ended'];
export type RoundEndReason = 'completed' | 'ended';
export const ROUND_END_REASONS: readonly RoundEndReason[] = ['completed', 'ended'];
/** `round_start.order`: a word, or the member ids in speaking order. */
export type RoundOrder = 'join' | 'shuffle' | string[];

export interface SetRoleCommand extends CommandBase {
  type: 'set_role';
  member: string;
  role: AssignableRole;
}
export interface HandOverCommand extends CommandBase {
  type: 'hand_over';
  member: string;
}
export interface ClaimFacilitationCommand extends CommandBase {
  type: 'claim_facilitation';
}
export interface SettingsCommand extends CommandBase {
  type: 'settings';
  airtime_visibility: AirtimeVisibility;
}
export interface RoundStartCommand extends CommandBase {
  type: 'round_start';
  order: RoundOrder;
  turn_seconds: number;
  auto_advance?: boolean;
}
export interface RoundFinishCommand extends CommandBase {
  type: 'round_finish';
}
export interface RoundPassCommand extends CommandBase {
  type: 'round_pass';
}
export interface RoundSkipCommand extends CommandBase {
  type: 'round_skip';
}
export interface RoundLaterCommand extends CommandBase {
  type: 'round_later';
  member: string;
}
export interface RoundEndCommand extends CommandBase {
  type: 'round_end';
}
export interface HandRaiseCommand extends CommandBase {
  type: 'hand_raise';
}
export interface HandLowerCommand extends CommandBase {
  type: 'hand_lower';
  member?: string;
}
export interface FloorGiveCommand extends CommandBase {
  type: 'floor_give';
  member?: string;
}
export interface FloorReleaseCommand extends CommandBase {
  type: 'floor_release';
}
export interface FloorSettingsCommand extends CommandBase {
  type: 'floor_settings';
  turn_seconds: number | null;
  auto_advance: boolean;
  quieter_first: boolean;
}
export type TimerCommand = CommandBase & { type: 'timer'; timer: TimerName } & (
    | { action: 'start'; seconds: number }
    | { action: 'extend'; seconds: number }
    | { action: 'pause' | 'resume' | 'reset' }
  );

// ---- anonymous prompts (1.3)

export interface PromptSubmitCommand extends CommandBase {
  type: 'prompt_submit';
  text: string;
}
export interface PromptReleaseCommand extends CommandBase {
  type: 'prompt_release';
  /** Ids of pending prompts; absent: every pending prompt that is not held. */
  prompts?: string[];
}
export interface PromptHoldCommand extends CommandBase {
  type: 'prompt_hold';
  prompt: string;
}
export interface PromptDiscardCommand extends CommandBase {
  type: 'prompt_discard';
  prompt: string;
}
export interface PromptUpvoteCommand extends CommandBase {
  type: 'prompt_upvote';
  prompt: string;
}
export interface PromptPoseCommand extends CommandBase {
  type: 'prompt_pose';
  prompt: string;
  /** Absent: to the group. */
  member?: string;
}

/** The commands of anonymous prompts (1.3). */
export type PromptCommand =
  | PromptSubmitCommand
  | PromptReleaseCommand
  | PromptHoldCommand
  | PromptDiscardCommand
  | PromptUpvoteCommand
  | PromptPoseCommand;

// ---- climate-for-learning audit (1.3)

export interface AuditOpenCommand extends CommandBase {
  type: 'audit_open';
  /** 3..50; absent: 5. */
  k?: number;
}
export interface AuditAnswerCommand extends CommandBase {
  type: 'audit_answer';
  /** Every item id of the audit -> an integer 1..5. */
  answers: Record<string, number>;
  /** Optional; checked like a prompt's text. */
  comment?: string;
}
export interface AuditCloseCommand extends CommandBase {
  type: 'audit_close';
}

/** The commands of the climate-for-learning audit (1.3). */
export type AuditCommand = AuditOpenCommand | AuditAnswerCommand | AuditCloseCommand;

// ---- challenge deck (1.3)

export interface DeckAddCommand extends CommandBase {
  type: 'deck_add';
  /** Checked like a prompt's text. */
  text: string;
}
export interface DeckRemoveCommand extends CommandBase {
  type: 'deck_remove';
  card: string;
}
export interface DeckDrawCommand extends CommandBase {
  type: 'deck_draw';
}

/** The commands of the challenge deck (1.3). */
export type DeckCommand = DeckAddCommand | DeckRemoveCommand | DeckDrawCommand;

/** The commands of live rounds (1.2). */
export type LiveCommand =
  | SetRoleCommand
  | HandOverCommand
  | ClaimFacilitationCommand
  | SettingsCommand
  | RoundStartCommand
  | RoundFinishCommand
  | RoundPassCommand
  | RoundSkipCommand
  | RoundLaterCommand
  | RoundEndCommand
  | HandRaiseCommand
  | HandLowerCommand
  | FloorGiveCommand
  | FloorReleaseCommand
  | FloorSettingsCommand
  | TimerCommand;

export type Command = JoinCommand | LeaveCommand | PingCommand | LiveCommand | PromptCommand | AuditCommand | DeckCommand;
export type CommandType = Command['type'];
export const COMMAND_TYPES: readonly CommandType[] = [
  'join',
  'leave',
  'ping',
  'set_role',
  'hand_over',
  'claim_facilitation',
  'settings',
  'round_start',
  'round_finish',
  'round_pass',
  'round_skip',
  'round_later',
  'round_end',
  'hand_raise',
  'hand_lower',
  'floor_give',
  'floor_release',
  'floor_settings',
  'timer',
  'prompt_submit',
  'prompt_release',
  'prompt_hold',
  'prompt_discard',
  'prompt_upvote',
  'prompt_pose',
  'audit_open',
  'audit_answer',
  'audit_close',
  'deck_add',
  'deck_remove',
  'deck_draw',
];

// ---------------------------------------------------------------- shared shapes

export interface MemberInfo {
  id: string;
  name: string;
  role: Role;
}

export interface SnapshotMember extends MemberInfo {
  presence: Presence;
  /** Total speaking time so far (1.2; 0 from an older server). */
  airtime_ms: number;
  /** In the speaking queue (1.2; false from an older server). */
  hand: boolean;
}

/** A timer as the server describes it: running ones carry `ends_at`, paused ones `remaining_ms`. */
export interface TimerState {
  state: TimerStateName;
  duration_ms: number;
  /** Server time (ms since the epoch) when a running timer ends. */
  ends_at: number | null;
  remaining_ms: number | null;
}

export interface RoomSettings {
  airtime_visibility: AirtimeVisibility;
}

/** A go-round's id: an integer in the README's examples; a string is accepted too. */
export type RoundId = number | string;

export interface RoundOutcome {
  member_id: string;
  outcome: TurnOutcome;
  ms: number;
}

export interface RoundState {
  id: RoundId;
  order: string[];
  /** Who is still to speak, in order; the current speaker first. */
  remaining: string[];
  turn_seconds: number;
  auto_advance: boolean;
  outcomes: RoundOutcome[];
}

export interface FloorState {
  queue: string[];
  turn_seconds: number | null;
  auto_advance: boolean;
  quieter_first: boolean;
}

export interface TurnState {
  member_id: string;
  mode: TurnMode;
  /** Server time the turn started (the `time` of its `turn_started` event). */
  started_at: number;
}

export interface RoomTimers {
  phase: TimerState;
  turn: TimerState;
}

/**
 * The live-round (1.2) part of a room: in a join snapshot and in the client's room view.
 * The decoder defaults these fields when an older server leaves them out.
 */
export interface LiveRoomState {
  settings: RoomSettings;
  round: RoundState | null;
  floor: FloorState;
  turn: TurnState | null;
  timers: RoomTimers;
  /** True when the snapshot carried the 1.2 fields (the server speaks live rounds). */
  live: boolean;
}

/** A prompt waiting for release, as facilitators see it (`prompts_pending`, 1.3). No author, no time. */
export interface PendingPrompt {
  id: string;
  text: string;
  /** Kept back: not released automatically. */
  held: boolean;
}

/** A released prompt's id and text (the `prompts_released` event, 1.3). */
export interface PromptText {
  id: string;
  text: string;
}

/** A released prompt in the room (1.3). */
export interface ReleasedPrompt extends PromptText {
  votes: number;
  /** Absent (undefined): never posed; null: posed to the group; else the member it was put to. */
  posed_to?: string | null;
}

/** One statement of a climate-for-learning audit (1.3). */
export interface AuditItem {
  id: string;
  text: string;
}

/** How many answered 1, 2, 3, 4 and 5 for one item. */
export interface AuditItemResult {
  id: string;
  /** Exactly AUDIT_SCALE (5) counts: index 0 is "1 strongly disagree". */
  counts: number[];
}

/** The aggregate results of a closed audit (when at least k answered). */
export interface AuditResults {
  items: AuditItemResult[];
  /** Shuffled by the server; no author. */
  comments: string[];
}

/**
 * A climate-for-learning audit (1.3), as in the snapshot's `audit`. While it is open there is no
 * count and no result (`responses`/`results` absent); once closed both are set, `results` being
 * null when fewer than k members answered.
 */
export interface AuditState {
  id: string;
  k: number;
  items: AuditItem[];
  open: boolean;
  responses?: number;
  results?: AuditResults | null;
}

/** A card of the challenge deck (1.3). */
export interface DeckCard {
  id: string;
  text: string;
}

/** The challenge deck (1.3): its cards, and the ids drawn since it last started over (the last one is on show). */
export interface DeckState {
  cards: DeckCard[];
  drawn: string[];
}

export interface RoomSnapshot extends LiveRoomState {
  room: string;
  seq: number;
  title: string;
  members: SnapshotMember[];
  /** Released anonymous prompts (1.3; [] from an older server). */
  prompts: ReleasedPrompt[];
  /** The latest climate-for-learning audit (1.3; null when none, or from an older server). */
  audit: AuditState | null;
  /** The challenge deck (1.3; null from an older server: no deck shown). */
  deck: DeckState | null;
}

/** Result of a successful `join`. */
/** A join's result: a snapshot, or (resume with `after`) a replay whose events follow as pushes. */
export type JoinResult =
  | { member: MemberInfo; resume_token: string; snapshot: RoomSnapshot; replay?: undefined }
  | { member: MemberInfo; resume_token: string; replay: { after: number; events: number }; snapshot?: undefined };

/** Result of `ping`. */
export interface PingResult {
  server_time: number;
}

/** Result of `leave`: an empty object. */
export type LeaveResult = Record<string, never>;

// ---------------------------------------------------------------- room events

export interface RoomCreatedEvent {
  kind: 'room_created';
  title: string;
}
export interface MemberJoinedEvent {
  kind: 'member_joined';
  member: MemberInfo;
}
export interface MemberLeftEvent {
  kind: 'member_left';
  member_id: string;
}
export interface MemberConnectionLostEvent {
  kind: 'member_connection_lost';
  member_id: string;
}
export interface MemberBackEvent {
  kind: 'member_back';
  member_id: string;
}
export interface RoleChangedEvent {
  kind: 'role_changed';
  member_id: string;
  role: Role;
}
export interface SettingsChangedEvent {
  kind: 'settings_changed';
  airtime_visibility: AirtimeVisibility;
}
export interface RoundStartedEvent {
  kind: 'round_started';
  round: { id: RoundId; order: string[]; turn_seconds: number; auto_advance: boolean };
}
export interface RoundOrderChangedEvent {
  kind: 'round_order_changed';
  remaining: string[];
}
export interface RoundEndedEvent {
  kind: 'round_ended';
  reason: RoundEndReason;
}
export interface TurnStartedEvent {
  kind: 'turn_started';
  member_id: string;
  mode: TurnMode;
}
export interface TurnEndedEvent {
  kind: 'turn_ended';
  member_id: string;
  outcome: TurnOutcome;
  ms: number;
}
export interface HandRaisedEvent {
  kind: 'hand_raised';
  member_id: string;
}
export interface HandLoweredEvent {
  kind: 'hand_lowered';
  member_id: string;
}
export interface FloorSettingsChangedEvent {
  kind: 'floor_settings_changed';
  turn_seconds: number | null;
  auto_advance: boolean;
  quieter_first: boolean;
}
export interface TimerSetEvent {
  kind: 'timer_set';
  timer: TimerName;
  action: TimerAction;
  state: TimerState;
}
export interface TimerExpiredEvent {
  kind: 'timer_expired';
  timer: TimerName;
}
export interface PromptsReleasedEvent {
  kind: 'prompts_released';
  /** Shuffled by the server. */
  prompts: PromptText[];
}
export interface PromptUpvotedEvent {
  kind: 'prompt_upvoted';
  prompt_id: string;
  /** The new count. */
  votes: number;
}
export interface PromptPosedEvent {
  kind: 'prompt_posed';
  prompt_id: string;
  /** null: to the group. */
  member_id: string | null;
}
export interface AuditOpenedEvent {
  kind: 'audit_opened';
  audit: { id: string; k: number; items: AuditItem[] };
}
export interface AuditClosedEvent {
  kind: 'audit_closed';
  audit_id: string;
  /** How many members answered. */
  responses: number;
  /** null: fewer than k answered (the answers were deleted unseen). */
  results: AuditResults | null;
}
export interface DeckChangedEvent {
  kind: 'deck_changed';
  /** The whole deck after an edit. */
  cards: DeckCard[];
}
export interface DeckCardDrawnEvent {
  kind: 'deck_card_drawn';
  card: DeckCard;
}
/** An event kind this client does not know (a later minor version). Ignored, but its seq counts. */
export interface UnknownEvent {
  kind: 'unknown';
  /** The kind as the server sent it. */
  original_kind: string;
}

export type RoomEvent =
  | RoomCreatedEvent
  | MemberJoinedEvent
  | MemberLeftEvent
  | MemberConnectionLostEvent
  | MemberBackEvent
  | RoleChangedEvent
  | SettingsChangedEvent
  | RoundStartedEvent
  | RoundOrderChangedEvent
  | RoundEndedEvent
  | TurnStartedEvent
  | TurnEndedEvent
  | HandRaisedEvent
  | HandLoweredEvent
  | FloorSettingsChangedEvent
  | TimerSetEvent
  | TimerExpiredEvent
  | PromptsReleasedEvent
  | PromptUpvotedEvent
  | PromptPosedEvent
  | AuditOpenedEvent
  | AuditClosedEvent
  | DeckChangedEvent
  | DeckCardDrawnEvent
  | UnknownEvent;

// ---------------------------------------------------------------- server messages

export interface WelcomeMessage {
  type: 'welcome';
  protocol: number;
  server: string;
  server_time: number;
  max_frame_bytes: number;
}

export interface ReplyMessage {
  type: 'reply';
  id: string;
  /** Shape depends on the command; see JoinResult, PingResult, LeaveResult and the guards in decode.ts. */
  result: Record<string, unknown>;
}

export interface ErrorMessage {
  type: 'error';
  id: string | null;
  code: ErrorCode | (string & {});
  message: string;
}

export interface EventMessage {
  type: 'event';
  room: string;
  seq: number;
  time: number;
  event: RoomEvent;
}

/** The facilitators' list of pending prompts (1.3): a push, not an event (no seq). Replaces the last one. */
export interface PromptsPendingMessage {
  type: 'prompts_pending';
  room: string;
  prompts: PendingPrompt[];
}

export type ServerMessage = WelcomeMessage | ReplyMessage | ErrorMessage | EventMessage | PromptsPendingMessage;

// ---------------------------------------------------------------- HTTP API

export interface CreateRoomRequest {
  title: string;
}

export interface CreateRoomResponse {
  room: string;
  title: string;
  facilitator_key: string;
  join_code: string;
  facilitator_url: string;
  invite_url: string;
}

export interface HttpError {
  error: { code: ErrorCode | (string & {}); message: string };
}

export interface HealthResponse {
  status: 'ok';
  version: string;
  rooms: number;
  connections: number;
}
