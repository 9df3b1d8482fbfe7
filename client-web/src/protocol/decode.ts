// Strict checking of frames in both directions.
//   decodeServerMessage: what the client accepts from the server (welcome, reply, error, event).
//   checkCommand: mirrors the server's command decoder (server/protocol/codec.cpp) exactly, including
//   the order in which errors are found; protocol/vectors/commands.json pins that behaviour.

import { cleanDisplayText, cleanPromptText, hasLoneSurrogate, validLength } from './text';
import {
  AIRTIME_VISIBILITIES,
  ASSIGNABLE_ROLES,
  AUDIT_SCALE,
  MAX_AUDIT_COMMENT_CHARS,
  MAX_AUDIT_K,
  MAX_CARD_CHARS,
  MAX_CARD_ID_CHARS,
  MIN_AUDIT_K,
  MAX_DURATION_SECONDS,
  MAX_ID_CHARS,
  MAX_MEMBER_ID_CHARS,
  MAX_NAME_CHARS,
  MAX_PROMPT_CHARS,
  MAX_PROMPT_ID_CHARS,
  MAX_RELEASE_PROMPTS,
  MAX_ROOM_CHARS,
  MAX_SECRET_CHARS,
  MAX_SEQ,
  PRESENCES,
  ROLES,
  ROUND_END_REASONS,
  TIMER_ACTIONS,
  TIMER_NAMES,
  TIMER_STATES,
  TURN_MODES,
  TURN_OUTCOMES,
  type AirtimeVisibility,
  type AuditItem,
  type AuditItemResult,
  type AuditResults,
  type AuditState,
  type CommandType,
  type DeckCard,
  type DeckState,
  type FloorState,
  type RoomSettings,
  type RoomTimers,
  type RoundId,
  type RoundOutcome,
  type RoundState,
  type TimerState,
  type TurnState,
  type ErrorCode,
  type ErrorMessage,
  type EventMessage,
  type JoinResult,
  type MemberInfo,
  type PendingPrompt,
  type PromptText,
  type PromptsPendingMessage,
  type ReleasedPrompt,
  type PingResult,
  type Presence,
  type ReplyMessage,
  type Role,
  type RoomEvent,
  type RoomSnapshot,
  type ServerMessage,
  type SnapshotMember,
  type WelcomeMessage,
} from './types';

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function has(o: Obj, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}
function isString(v: unknown): v is string {
  return typeof v === 'string';
}
function isInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}
function isNonNegInt(v: unknown): v is number {
  return isInteger(v) && v >= 0;
}
function isRole(v: unknown): v is Role {
  return isString(v) && (ROLES as readonly string[]).includes(v);
}
function isPresence(v: unknown): v is Presence {
  return isString(v) && (PRESENCES as readonly string[]).includes(v);
}

function oneOf<T extends string>(list: readonly T[], v: unknown): v is T {
  return isString(v) && (list as readonly string[]).includes(v);
}
function isBoolean(v: unknown): v is boolean {
  return typeof v === 'boolean';
}
function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every(isString);
}
function isRoundId(v: unknown): v is RoundId {
  return isNonNegInt(v) || isString(v);
}

/** Parses JSON text; undefined when it is not valid JSON (including lone-surrogate escapes). */
function parseJson(text: string): { value: unknown } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  // The server's JSON parser rejects \uD800-style escapes that do not form a pair; JSON.parse keeps them.
  if (containsLoneSurrogate(value)) return undefined;
  return { value };
}

function containsLoneSurrogate(v: unknown): boolean {
  if (isString(v)) return hasLoneSurrogate(v);
  if (Array.isArray(v)) return v.some(containsLoneSurrogate);
  if (isObject(v)) {
    for (const k of Object.keys(v)) {
      if (hasLoneSurrogate(k) || containsLoneSurrogate(v[k])) return true;
    }
  }
  return false;
}

// =============================================================== server -> client

export type DecodeResult = { ok: true; message: ServerMessage } | { ok: false; reason: string };

function bad(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

export function decodeMember(v: unknown): MemberInfo | undefined {
  if (!isObject(v)) return undefined;
  if (!isString(v.id) || !isString(v.name) || !isRole(v.role)) return undefined;
  return { id: v.id, name: v.name, role: v.role };
}

/** A snapshot member. `airtime_ms` and `hand` (1.2) default to 0 and false when absent, but must be valid when present. */
export function decodeSnapshotMember(v: unknown): SnapshotMember | undefined {
  const m = decodeMember(v);
  if (!m || !isObject(v) || !isPresence(v.presence)) return undefined;
  if (has(v, 'airtime_ms') && !isNonNegInt(v.airtime_ms)) return undefined;
  if (has(v, 'hand') && !isBoolean(v.hand)) return undefined;
  return {
    ...m,
    presence: v.presence,
    airtime_ms: isNonNegInt(v.airtime_ms) ? v.airtime_ms : 0,
    hand: v.hand === true,
  };
}

// ---- live rounds (1.2)

export const IDLE_TIMER: TimerState = Object.freeze({ state: 'idle', duration_ms: 0, ends_at: null, remaining_ms: null });
export const DEFAULT_SETTINGS: RoomSettings = Object.freeze({ airtime_visibility: 'everyone' });
export const DEFAULT_FLOOR: FloorState = Object.freeze({ queue: [], turn_seconds: null, auto_advance: false, quieter_first: false });

function isNullableInt(v: unknown): v is number | null {
  return v === null || isInteger(v);
}

/** A timer object. `ends_at` and `remaining_ms` may be absent (read as null). */
export function decodeTimer(v: unknown): TimerState | undefined {
  if (!isObject(v) || !oneOf(TIMER_STATES, v.state) || !isNonNegInt(v.duration_ms)) return undefined;
  const endsAt = has(v, 'ends_at') ? v.ends_at : null;
  const remaining = has(v, 'remaining_ms') ? v.remaining_ms : null;
  if (!isNullableInt(endsAt) || !(remaining === null || isNonNegInt(remaining))) return undefined;
  if (v.state === 'running' && endsAt === null) return undefined;
  return { state: v.state, duration_ms: v.duration_ms, ends_at: endsAt, remaining_ms: remaining };
}

function decodeOutcome(v: unknown): RoundOutcome | undefined {
  if (!isObject(v) || !isString(v.member_id) || !oneOf(TURN_OUTCOMES, v.outcome) || !isNonNegInt(v.ms)) return undefined;
  return { member_id: v.member_id, outcome: v.outcome, ms: v.ms };
}

function isTurnSeconds(v: unknown): v is number {
  return isInteger(v) && v >= 1;
}

function decodeRound(v: unknown): RoundState | undefined {
  if (!isObject(v) || !isRoundId(v.id) || !isStringArray(v.order) || !isTurnSeconds(v.turn_seconds)) return undefined;
  if (!isBoolean(v.auto_advance)) return undefined;
  const remaining = has(v, 'remaining') ? v.remaining : v.order;
  if (!isStringArray(remaining)) return undefined;
  const outcomes: RoundOutcome[] = [];
  if (has(v, 'outcomes')) {
    if (!Array.isArray(v.outcomes)) return undefined;
    for (const raw of v.outcomes) {
      const o = decodeOutcome(raw);
      if (!o) return undefined;
      outcomes.push(o);
    }
  }
  return {
    id: v.id,
    order: [...v.order],
    remaining: [...remaining],
    turn_seconds: v.turn_seconds,
    auto_advance: v.auto_advance,
    outcomes,
  };
}

function decodeFloor(v: unknown): FloorState | undefined {
  if (!isObject(v) || !isStringArray(v.queue)) return undefined;
  if (!(v.turn_seconds === null || isTurnSeconds(v.turn_seconds))) return undefined;
  if (!isBoolean(v.auto_advance) || !isBoolean(v.quieter_first)) return undefined;
  return { queue: [...v.queue], turn_seconds: v.turn_seconds, auto_advance: v.auto_advance, quieter_first: v.quieter_first };
}

function decodeTurn(v: unknown): TurnState | undefined {
  if (!isObject(v) || !isString(v.member_id) || !oneOf(TURN_MODES, v.mode) || !isInteger(v.started_at)) return undefined;
  return { member_id: v.member_id, mode: v.mode, started_at: v.started_at };
}

function decodeTimers(v: unknown): RoomTimers | undefined {
  if (!isObject(v)) return undefined;
  const phase = has(v, 'phase') ? decodeTimer(v.phase) : IDLE_TIMER;
  const turn = has(v, 'turn') ? decodeTimer(v.turn) : IDLE_TIMER;
  if (!phase || !turn) return undefined;
  return { phase, turn };
}

// ---- anonymous prompts (1.3)

function isPromptId(v: unknown): v is string {
  return isString(v) && v.length > 0;
}

/**
 * Anonymous items are closed objects (protocol/README.md#versioning): a field beyond the known ones
 * could carry who wrote it, so the item is refused rather than silently carried.
 */
function onlyKeys(v: Record<string, unknown>, allowed: readonly string[]): boolean {
  return Object.keys(v).every((k) => allowed.includes(k));
}

/** `{id, text}` of a released prompt. */
export function decodePromptText(v: unknown, allowed: readonly string[] = ['id', 'text']): PromptText | undefined {
  if (!isObject(v) || !onlyKeys(v, allowed) || !isPromptId(v.id) || !isString(v.text)) return undefined;
  return { id: v.id, text: v.text };
}

/** A snapshot's released prompt: `posed_to` absent (never posed), null (the group) or a member id. */
export function decodeReleasedPrompt(v: unknown): ReleasedPrompt | undefined {
  const p = decodePromptText(v, ['id', 'text', 'votes', 'posed_to']);
  if (!p || !isObject(v) || !isNonNegInt(v.votes)) return undefined;
  if (!has(v, 'posed_to')) return { ...p, votes: v.votes };
  if (!(v.posed_to === null || isString(v.posed_to))) return undefined;
  return { ...p, votes: v.votes, posed_to: v.posed_to };
}

/** A pending prompt of a `prompts_pending` push. */
export function decodePendingPrompt(v: unknown): PendingPrompt | undefined {
  const p = decodePromptText(v, ['id', 'text', 'held']);
  if (!p || !isObject(v) || !isBoolean(v.held)) return undefined;
  return { ...p, held: v.held };
}

/** Decodes every element of a list, or undefined when it is not an array or one element is bad. */
function decodeList<T>(v: unknown, decode: (x: unknown) => T | undefined): T[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: T[] = [];
  for (const raw of v) {
    const x = decode(raw);
    if (x === undefined) return undefined;
    out.push(x);
  }
  return out;
}

// ---- climate-for-learning audit (1.3)

function isAuditId(v: unknown): v is string {
  return isString(v) && v.length > 0;
}

/** An audit item `{id, text}` (extra fields are ignored). */
export function decodeAuditItem(v: unknown): AuditItem | undefined {
  if (!isObject(v) || !isAuditId(v.id) || !isString(v.text)) return undefined;
  return { id: v.id, text: v.text };
}

/** A result item `{id, counts}`: closed like an anonymous item (a field more could tie answers to someone). */
function decodeAuditItemResult(v: unknown): AuditItemResult | undefined {
  if (!isObject(v) || !onlyKeys(v, ['id', 'counts']) || !isAuditId(v.id) || !Array.isArray(v.counts)) return undefined;
  if (v.counts.length !== AUDIT_SCALE || !v.counts.every(isNonNegInt)) return undefined;
  return { id: v.id, counts: [...(v.counts as number[])] };
}

/** An audit's `results`: null (fewer than k answered) or `{items: [{id, counts}], comments}`. */
export function decodeAuditResults(v: unknown): AuditResults | null | undefined {
  if (v === null) return null;
  if (!isObject(v)) return undefined;
  const items = decodeList(v.items, decodeAuditItemResult);
  if (!items || !isStringArray(v.comments)) return undefined;
  return { items, comments: [...v.comments] };
}

/** `{id, k, items}`: the audit of an `audit_opened` event (and the start of the snapshot's). */
function decodeAuditHead(v: unknown): { id: string; k: number; items: AuditItem[] } | undefined {
  if (!isObject(v) || !isAuditId(v.id) || !isInteger(v.k) || v.k < 1) return undefined;
  const items = decodeList(v.items, decodeAuditItem);
  return items ? { id: v.id, k: v.k, items } : undefined;
}

/**
 * The snapshot's `audit` (not null). A closed audit must carry `responses` and `results`; an open
 * one carries neither (no count exists while it is open), and any sent anyway are dropped.
 */
export function decodeAuditState(v: unknown): AuditState | undefined {
  const head = decodeAuditHead(v);
  if (!head || !isObject(v) || !isBoolean(v.open)) return undefined;
  if (v.open) return { ...head, open: true };
  if (!isNonNegInt(v.responses) || !has(v, 'results')) return undefined;
  const results = decodeAuditResults(v.results);
  if (results === undefined) return undefined;
  return { ...head, open: false, responses: v.responses, results };
}

// ---- challenge deck (1.3)

/** A card `{id, text}`: a non-empty id and a string (extra fields are ignored: cards are not anonymous). */
export function decodeDeckCard(v: unknown): DeckCard | undefined {
  if (!isObject(v) || !isString(v.id) || v.id.length === 0 || !isString(v.text)) return undefined;
  return { id: v.id, text: v.text };
}

/**
 * The snapshot's `deck` (not null): `{cards, drawn}`, both required. A drawn id that names no card
 * is dropped (as `deck_changed` drops it), so the card on show is always one of the cards.
 */
export function decodeDeckState(v: unknown): DeckState | undefined {
  if (!isObject(v)) return undefined;
  const cards = decodeList(v.cards, decodeDeckCard);
  if (!cards || !isStringArray(v.drawn)) return undefined;
  const ids = new Set(cards.map((c) => c.id));
  return { cards, drawn: v.drawn.filter((id) => ids.has(id)) };
}

/** Decodes an `event` object (the body of an event push). Unknown kinds become `{kind: 'unknown'}`. */
export function decodeRoomEvent(v: unknown): RoomEvent | undefined {
  if (!isObject(v) || !isString(v.kind)) return undefined;
  switch (v.kind) {
    case 'room_created':
      return isString(v.title) ? { kind: 'room_created', title: v.title } : undefined;
    case 'member_joined': {
      const member = decodeMember(v.member);
      return member ? { kind: 'member_joined', member } : undefined;
    }
    case 'member_left':
    case 'member_connection_lost':
    case 'member_back':
    case 'hand_raised':
    case 'hand_lowered':
      return isString(v.member_id) ? { kind: v.kind, member_id: v.member_id } : undefined;
    case 'role_changed':
      return isString(v.member_id) && isRole(v.role) ? { kind: 'role_changed', member_id: v.member_id, role: v.role } : undefined;
    case 'settings_changed':
      return oneOf<AirtimeVisibility>(AIRTIME_VISIBILITIES, v.airtime_visibility)
        ? { kind: 'settings_changed', airtime_visibility: v.airtime_visibility }
        : undefined;
    case 'round_started': {
      const r = v.round;
      if (!isObject(r) || !isRoundId(r.id) || !isStringArray(r.order) || !isTurnSeconds(r.turn_seconds)) return undefined;
      if (!isBoolean(r.auto_advance)) return undefined;
      return {
        kind: 'round_started',
        round: { id: r.id, order: [...r.order], turn_seconds: r.turn_seconds, auto_advance: r.auto_advance },
      };
    }
    case 'round_order_changed':
      return isStringArray(v.remaining) ? { kind: 'round_order_changed', remaining: [...v.remaining] } : undefined;
    case 'round_ended':
      return oneOf(ROUND_END_REASONS, v.reason) ? { kind: 'round_ended', reason: v.reason } : undefined;
    case 'turn_started':
      return isString(v.member_id) && oneOf(TURN_MODES, v.mode)
        ? { kind: 'turn_started', member_id: v.member_id, mode: v.mode }
        : undefined;
    case 'turn_ended':
      return isString(v.member_id) && oneOf(TURN_OUTCOMES, v.outcome) && isNonNegInt(v.ms)
        ? { kind: 'turn_ended', member_id: v.member_id, outcome: v.outcome, ms: v.ms }
        : undefined;
    case 'floor_settings_changed':
      return (v.turn_seconds === null || isTurnSeconds(v.turn_seconds)) && isBoolean(v.auto_advance) && isBoolean(v.quieter_first)
        ? {
            kind: 'floor_settings_changed',
            turn_seconds: v.turn_seconds,
            auto_advance: v.auto_advance,
            quieter_first: v.quieter_first,
          }
        : undefined;
    case 'timer_set': {
      const state = decodeTimer(v.state);
      if (!oneOf(TIMER_NAMES, v.timer) || !oneOf(TIMER_ACTIONS, v.action) || !state) return undefined;
      return { kind: 'timer_set', timer: v.timer, action: v.action, state };
    }
    case 'timer_expired':
      return oneOf(TIMER_NAMES, v.timer) ? { kind: 'timer_expired', timer: v.timer } : undefined;
    case 'prompts_released': {
      const prompts = decodeList(v.prompts, decodePromptText);
      return prompts ? { kind: 'prompts_released', prompts } : undefined;
    }
    case 'prompt_upvoted':
      return isPromptId(v.prompt_id) && isNonNegInt(v.votes)
        ? { kind: 'prompt_upvoted', prompt_id: v.prompt_id, votes: v.votes }
        : undefined;
    case 'prompt_posed':
      // member_id is required: null means "to the group".
      return isPromptId(v.prompt_id) && has(v, 'member_id') && (v.member_id === null || isString(v.member_id))
        ? { kind: 'prompt_posed', prompt_id: v.prompt_id, member_id: v.member_id }
        : undefined;
    case 'audit_opened': {
      const audit = decodeAuditHead(v.audit);
      return audit ? { kind: 'audit_opened', audit } : undefined;
    }
    case 'audit_closed': {
      if (!isAuditId(v.audit_id) || !isNonNegInt(v.responses) || !has(v, 'results')) return undefined;
      const results = decodeAuditResults(v.results);
      return results === undefined ? undefined : { kind: 'audit_closed', audit_id: v.audit_id, responses: v.responses, results };
    }
    case 'deck_changed': {
      const cards = decodeList(v.cards, decodeDeckCard);
      return cards ? { kind: 'deck_changed', cards } : undefined;
    }
    case 'deck_card_drawn': {
      const card = decodeDeckCard(v.card);
      return card ? { kind: 'deck_card_drawn', card } : undefined;
    }
    default:
      return { kind: 'unknown', original_kind: v.kind };
  }
}

export function decodeSnapshot(v: unknown): RoomSnapshot | undefined {
  if (!isObject(v)) return undefined;
  if (!isString(v.room) || !isNonNegInt(v.seq) || !isString(v.title) || !Array.isArray(v.members)) return undefined;
  const members: SnapshotMember[] = [];
  for (const raw of v.members) {
    const m = decodeSnapshotMember(raw);
    if (!m) return undefined;
    members.push(m);
  }
  // 1.2 fields: absent from a 1.0/1.1 server (defaults), strictly checked when present.
  let settings: RoomSettings = { ...DEFAULT_SETTINGS };
  if (has(v, 'settings')) {
    const s = v.settings;
    if (!isObject(s) || !oneOf<AirtimeVisibility>(AIRTIME_VISIBILITIES, s.airtime_visibility)) return undefined;
    settings = { airtime_visibility: s.airtime_visibility };
  }
  let round: RoundState | null = null;
  if (has(v, 'round') && v.round !== null) {
    const r = decodeRound(v.round);
    if (!r) return undefined;
    round = r;
  }
  let floor: FloorState = { ...DEFAULT_FLOOR, queue: [] };
  if (has(v, 'floor')) {
    const f = decodeFloor(v.floor);
    if (!f) return undefined;
    floor = f;
  }
  let turn: TurnState | null = null;
  if (has(v, 'turn') && v.turn !== null) {
    const t = decodeTurn(v.turn);
    if (!t) return undefined;
    turn = t;
  }
  let timers: RoomTimers = { phase: IDLE_TIMER, turn: IDLE_TIMER };
  if (has(v, 'timers')) {
    const t = decodeTimers(v.timers);
    if (!t) return undefined;
    timers = t;
  }
  // 1.3: released prompts; absent from an older server.
  let prompts: ReleasedPrompt[] = [];
  if (has(v, 'prompts')) {
    const p = decodeList(v.prompts, decodeReleasedPrompt);
    if (!p) return undefined;
    prompts = p;
  }
  // 1.3: the latest audit; absent from an older server, null when none was opened.
  let audit: AuditState | null = null;
  if (has(v, 'audit') && v.audit !== null) {
    const a = decodeAuditState(v.audit);
    if (!a) return undefined;
    audit = a;
  }
  // 1.3: the challenge deck; absent (or null) from an older server: no deck shown.
  let deck: DeckState | null = null;
  if (has(v, 'deck') && v.deck !== null) {
    const d = decodeDeckState(v.deck);
    if (!d) return undefined;
    deck = d;
  }
  const live = ['settings', 'round', 'floor', 'turn', 'timers'].some((k) => has(v, k));
  return { room: v.room, seq: v.seq, title: v.title, members, settings, round, floor, turn, timers, live, prompts, audit, deck };
}

/** Reads a `join` reply's result; undefined when it does not have the documented shape. */
export function decodeJoinResult(result: unknown): JoinResult | undefined {
  if (!isObject(result)) return undefined;
  const member = decodeMember(result.member);
  if (!member || !isString(result.resume_token) || result.resume_token.length === 0) return undefined;
  // Either a snapshot, or a replay: the missed events follow as ordinary event pushes.
  if (has(result, 'snapshot')) {
    const snapshot = decodeSnapshot(result.snapshot);
    if (!snapshot || has(result, 'replay')) return undefined;
    return { member, resume_token: result.resume_token, snapshot };
  }
  const replay = result.replay;
  if (!isObject(replay) || !isNonNegInt(replay.after) || !isNonNegInt(replay.events)) return undefined;
  return { member, resume_token: result.resume_token, replay: { after: replay.after, events: replay.events } };
}

/** Reads a `ping` reply's result. */
export function decodePingResult(result: unknown): PingResult | undefined {
  if (!isObject(result) || !isInteger(result.server_time)) return undefined;
  return { server_time: result.server_time };
}

function decodeWelcome(o: Obj): DecodeResult {
  if (!isNonNegInt(o.protocol)) return bad("welcome needs an integer 'protocol'");
  if (!isString(o.server)) return bad("welcome needs a string 'server'");
  if (!isInteger(o.server_time)) return bad("welcome needs an integer 'server_time'");
  if (!isNonNegInt(o.max_frame_bytes)) return bad("welcome needs an integer 'max_frame_bytes'");
  const message: WelcomeMessage = {
    type: 'welcome',
    protocol: o.protocol,
    server: o.server,
    server_time: o.server_time,
    max_frame_bytes: o.max_frame_bytes,
  };
  return { ok: true, message };
}

function decodeReply(o: Obj): DecodeResult {
  if (!isString(o.id)) return bad("reply needs a string 'id'");
  if (!isObject(o.result)) return bad("reply needs an object 'result'");
  const message: ReplyMessage = { type: 'reply', id: o.id, result: o.result };
  return { ok: true, message };
}

function decodeError(o: Obj): DecodeResult {
  if (!has(o, 'id') || !(o.id === null || isString(o.id))) return bad("error needs 'id' (a string or null)");
  if (!isString(o.code) || o.code.length === 0) return bad("error needs a string 'code'");
  if (!isString(o.message)) return bad("error needs a string 'message'");
  const message: ErrorMessage = { type: 'error', id: o.id, code: o.code as ErrorCode, message: o.message };
  return { ok: true, message };
}

function decodeEvent(o: Obj): DecodeResult {
  if (!isString(o.room)) return bad("event needs a string 'room'");
  if (!isInteger(o.seq) || o.seq < 1) return bad("event needs an integer 'seq' of at least 1");
  if (!isNonNegInt(o.time)) return bad("event needs an integer 'time'");
  const event = decodeRoomEvent(o.event);
  if (!event) return bad("event needs a valid 'event' body");
  const message: EventMessage = { type: 'event', room: o.room, seq: o.seq, time: o.time, event };
  return { ok: true, message };
}

function decodePromptsPending(o: Obj): DecodeResult {
  if (!isString(o.room)) return bad("prompts_pending needs a string 'room'");
  const prompts = decodeList(o.prompts, decodePendingPrompt);
  if (!prompts) return bad("prompts_pending needs 'prompts': a list of {id, text, held}");
  const message: PromptsPendingMessage = { type: 'prompts_pending', room: o.room, prompts };
  return { ok: true, message };
}

/**
 * Strictly validates one frame from the server. Unknown extra fields are ignored; unknown event
 * kinds are accepted as kind "unknown" (the client ignores them but still advances its seq).
 */
export function decodeServerMessage(text: string): DecodeResult {
  const parsed = parseJson(text);
  if (!parsed) return bad('not valid JSON');
  const o = parsed.value;
  if (!isObject(o)) return bad('not a JSON object');
  if (!isString(o.type)) return bad("no string 'type'");
  switch (o.type) {
    case 'welcome':
      return decodeWelcome(o);
    case 'reply':
      return decodeReply(o);
    case 'error':
      return decodeError(o);
    case 'event':
      return decodeEvent(o);
    case 'prompts_pending':
      return decodePromptsPending(o);
    default:
      return bad(`unknown message type '${o.type}'`);
  }
}

// =============================================================== client -> server

export type CheckResult =
  | { ok: true; type: CommandType }
  | { ok: false; code: ErrorCode; id: string | null; message: string };

class CommandError {
  constructor(
    readonly code: ErrorCode,
    readonly id: string | null,
    readonly message: string,
  ) {}
}

function fail(code: ErrorCode, id: string | null, message: string): never {
  throw new CommandError(code, id, message);
}

/** A string field of 1..max code points. */
function requireString(o: Obj, name: string, max: number, id: string): string {
  if (!has(o, name)) fail('missing_field', id, `missing field '${name}'`);
  const v = o[name];
  if (!isString(v)) fail('invalid_field', id, `field '${name}' must be a string`);
  if (!validLength(v, max)) fail('invalid_field', id, `field '${name}' must be 1 to ${max} characters`);
  return v;
}

function onlyFields(o: Obj, allowed: readonly string[], id: string): void {
  for (const k of Object.keys(o)) {
    if (k === 'type' || k === 'id') continue;
    if (!allowed.includes(k)) fail('unknown_field', id, `unknown field '${k}'`);
  }
}

function checkJoin(o: Obj, id: string): void {
  onlyFields(o, ['room', 'key', 'code', 'resume', 'name', 'after'], id);
  requireString(o, 'room', MAX_ROOM_CHARS, id);
  let chosen: string | undefined;
  for (const k of ['key', 'code', 'resume']) {
    if (!has(o, k)) continue;
    if (chosen) fail('invalid_field', id, "give only one of 'key', 'code' and 'resume'");
    chosen = k;
  }
  if (!chosen) fail('missing_field', id, "missing field: one of 'key', 'code' or 'resume'");
  requireString(o, chosen, MAX_SECRET_CHARS, id);
  if (chosen === 'resume') {
    if (has(o, 'name')) fail('invalid_field', id, "field 'name' is not allowed with 'resume'");
    // JSON cannot tell 1.0 from 1 here; the server also refuses 1.0 (write integers as integers).
    if (has(o, 'after') && !(isNonNegInt(o.after) && o.after <= MAX_SEQ)) {
      fail('invalid_field', id, "field 'after' must be a whole number from 0 to 2^53-1");
    }
    return;
  }
  if (has(o, 'after')) fail('invalid_field', id, "field 'after' is only allowed with 'resume'");
  if (!has(o, 'name')) fail('missing_field', id, "missing field 'name'");
  const name = o.name;
  if (!isString(name)) fail('invalid_field', id, "field 'name' must be a string");
  if (cleanDisplayText(name, MAX_NAME_CHARS) === null) {
    fail('invalid_name', id, 'name must be 1 to 60 characters, without control characters');
  }
}

/** A member id field: a string of 1..64 characters. */
function requireMember(o: Obj, name: string, id: string): string {
  return requireString(o, name, MAX_MEMBER_ID_CHARS, id);
}

function optionalMember(o: Obj, name: string, id: string): void {
  if (has(o, name)) requireMember(o, name, id);
}

function requireEnum(o: Obj, name: string, list: readonly string[], id: string): string {
  if (!has(o, name)) fail('missing_field', id, `missing field '${name}'`);
  const v = o[name];
  if (!isString(v) || !list.includes(v)) fail('invalid_field', id, `field '${name}' must be one of ${list.join(', ')}`);
  return v;
}

function requireBoolean(o: Obj, name: string, id: string): boolean {
  if (!has(o, name)) fail('missing_field', id, `missing field '${name}'`);
  const v = o[name];
  if (!isBoolean(v)) fail('invalid_field', id, `field '${name}' must be true or false`);
  return v;
}

/** A JSON number that is an integer (a string or a fraction is invalid_field). */
function requireIntegerField(o: Obj, name: string, id: string): number {
  if (!has(o, name)) fail('missing_field', id, `missing field '${name}'`);
  const v = o[name];
  if (!isInteger(v)) fail('invalid_field', id, `field '${name}' must be a whole number`);
  return v;
}

/** A duration: whole seconds, 1..14400 (otherwise invalid_duration). */
function requireDuration(o: Obj, name: string, id: string): number {
  const v = requireIntegerField(o, name, id);
  if (v < 1 || v > MAX_DURATION_SECONDS) fail('invalid_duration', id, `field '${name}' must be 1 to ${MAX_DURATION_SECONDS} seconds`);
  return v;
}

function checkRoundStart(o: Obj, id: string): void {
  onlyFields(o, ['order', 'turn_seconds', 'auto_advance'], id);
  if (!has(o, 'order')) fail('missing_field', id, "missing field 'order'");
  const order = o.order;
  if (isString(order)) {
    if (order !== 'join' && order !== 'shuffle') fail('invalid_field', id, "field 'order' must be 'join', 'shuffle' or a list of member ids");
  } else if (Array.isArray(order)) {
    if (order.length === 0) fail('invalid_field', id, "field 'order' must not be empty");
    for (const m of order) {
      if (!isString(m) || !validLength(m, MAX_MEMBER_ID_CHARS)) fail('invalid_field', id, "field 'order' must hold member ids");
    }
  } else {
    fail('invalid_field', id, "field 'order' must be 'join', 'shuffle' or a list of member ids");
  }
  requireDuration(o, 'turn_seconds', id);
  if (has(o, 'auto_advance') && !isBoolean(o.auto_advance)) fail('invalid_field', id, "field 'auto_advance' must be true or false");
}

function checkFloorSettings(o: Obj, id: string): void {
  onlyFields(o, ['turn_seconds', 'auto_advance', 'quieter_first'], id);
  if (!has(o, 'turn_seconds')) fail('missing_field', id, "missing field 'turn_seconds'");
  if (o.turn_seconds !== null) requireDuration(o, 'turn_seconds', id);
  requireBoolean(o, 'auto_advance', id);
  requireBoolean(o, 'quieter_first', id);
}

function checkTimer(o: Obj, id: string): void {
  onlyFields(o, ['timer', 'action', 'seconds'], id);
  requireEnum(o, 'timer', TIMER_NAMES, id);
  const action = requireEnum(o, 'action', TIMER_ACTIONS, id);
  if (action === 'start') {
    requireDuration(o, 'seconds', id);
  } else if (action === 'extend') {
    const v = requireIntegerField(o, 'seconds', id);
    if (v === 0 || v < -MAX_DURATION_SECONDS || v > MAX_DURATION_SECONDS) {
      fail('invalid_duration', id, "field 'seconds' must be -14400 to 14400, not 0");
    }
  } else if (has(o, 'seconds')) {
    fail('invalid_field', id, `field 'seconds' is not allowed with action '${action}'`);
  }
}

/** The 1.2 commands; returns false for a type it does not know. */
function checkLive(type: string, o: Obj, id: string): boolean {
  switch (type) {
    case 'set_role':
      onlyFields(o, ['member', 'role'], id);
      requireMember(o, 'member', id);
      requireEnum(o, 'role', ASSIGNABLE_ROLES, id);
      return true;
    case 'hand_over':
    case 'round_later':
      onlyFields(o, ['member'], id);
      requireMember(o, 'member', id);
      return true;
    case 'hand_lower':
    case 'floor_give':
      onlyFields(o, ['member'], id);
      optionalMember(o, 'member', id);
      return true;
    case 'claim_facilitation':
    case 'round_finish':
    case 'round_pass':
    case 'round_skip':
    case 'round_end':
    case 'hand_raise':
    case 'floor_release':
      onlyFields(o, [], id);
      return true;
    case 'settings':
      onlyFields(o, ['airtime_visibility'], id);
      requireEnum(o, 'airtime_visibility', AIRTIME_VISIBILITIES, id);
      return true;
    case 'round_start':
      checkRoundStart(o, id);
      return true;
    case 'floor_settings':
      checkFloorSettings(o, id);
      return true;
    case 'timer':
      checkTimer(o, id);
      return true;
    default:
      return false;
  }
}

/** The 1.3 commands (anonymous prompts); returns false for a type it does not know. */
function checkPrompt(type: string, o: Obj, id: string): boolean {
  switch (type) {
    case 'prompt_submit': {
      onlyFields(o, ['text'], id);
      if (!has(o, 'text')) fail('missing_field', id, "missing field 'text'");
      const text = o.text;
      if (!isString(text)) fail('invalid_field', id, "field 'text' must be a string");
      if (cleanPromptText(text, MAX_PROMPT_CHARS) === null) {
        fail('invalid_text', id, 'a prompt is 1 to 500 characters, without control characters');
      }
      return true;
    }
    case 'prompt_release': {
      onlyFields(o, ['prompts'], id);
      if (!has(o, 'prompts')) return true;
      const list = o.prompts;
      if (!Array.isArray(list) || list.length === 0 || list.length > MAX_RELEASE_PROMPTS) {
        fail('invalid_field', id, `field 'prompts' must list 1 to ${MAX_RELEASE_PROMPTS} prompt ids`);
      }
      for (const p of list) {
        if (!isString(p) || !validLength(p, MAX_PROMPT_ID_CHARS)) fail('invalid_field', id, "field 'prompts' must list prompt ids");
      }
      return true;
    }
    case 'prompt_hold':
    case 'prompt_discard':
    case 'prompt_upvote':
      onlyFields(o, ['prompt'], id);
      requireString(o, 'prompt', MAX_PROMPT_ID_CHARS, id);
      return true;
    case 'prompt_pose':
      onlyFields(o, ['prompt', 'member'], id);
      requireString(o, 'prompt', MAX_PROMPT_ID_CHARS, id);
      optionalMember(o, 'member', id);
      return true;
    default:
      return false;
  }
}

/** The 1.3 commands of the climate-for-learning audit; returns false for a type it does not know. */
function checkAudit(type: string, o: Obj, id: string): boolean {
  switch (type) {
    case 'audit_open': {
      onlyFields(o, ['k'], id);
      if (!has(o, 'k')) return true;
      const k = o.k;
      if (!isInteger(k) || k < MIN_AUDIT_K || k > MAX_AUDIT_K) {
        fail('invalid_field', id, `field 'k' must be a whole number from ${MIN_AUDIT_K} to ${MAX_AUDIT_K}`);
      }
      return true;
    }
    case 'audit_answer': {
      onlyFields(o, ['answers', 'comment'], id);
      if (!has(o, 'answers')) fail('missing_field', id, "missing field 'answers'");
      const answers = o.answers;
      if (!isObject(answers)) fail('invalid_field', id, "field 'answers' must be an object of item id -> 1 to 5");
      // Whether the answers name exactly the audit's items is the server's check (invalid_answer).
      for (const key of Object.keys(answers)) {
        const a = answers[key];
        if (!isInteger(a)) fail('invalid_field', id, `answer '${key}' must be a whole number`);
        if (a < 1 || a > AUDIT_SCALE) fail('invalid_answer', id, `answer '${key}' must be 1 to ${AUDIT_SCALE}`);
      }
      if (has(o, 'comment')) {
        const comment = o.comment;
        if (!isString(comment)) fail('invalid_field', id, "field 'comment' must be a string");
        if (cleanPromptText(comment, MAX_AUDIT_COMMENT_CHARS) === null) {
          fail('invalid_text', id, `a comment is 1 to ${MAX_AUDIT_COMMENT_CHARS} characters, without control characters`);
        }
      }
      return true;
    }
    case 'audit_close':
      onlyFields(o, [], id);
      return true;
    default:
      return false;
  }
}

/** The 1.3 commands of the challenge deck; returns false for a type it does not know. */
function checkDeck(type: string, o: Obj, id: string): boolean {
  switch (type) {
    case 'deck_add': {
      onlyFields(o, ['text'], id);
      if (!has(o, 'text')) fail('missing_field', id, "missing field 'text'");
      const text = o.text;
      if (!isString(text)) fail('invalid_field', id, "field 'text' must be a string");
      if (cleanPromptText(text, MAX_CARD_CHARS) === null) {
        fail('invalid_text', id, `a card is 1 to ${MAX_CARD_CHARS} characters, without control characters`);
      }
      return true;
    }
    case 'deck_remove':
      onlyFields(o, ['card'], id);
      requireString(o, 'card', MAX_CARD_ID_CHARS, id);
      return true;
    case 'deck_draw':
      onlyFields(o, [], id);
      return true;
    default:
      return false;
  }
}

function check(text: string): CommandType {
  const parsed = parseJson(text);
  if (!parsed) fail('bad_json', null, 'frame is not valid JSON');
  const o = parsed.value;
  if (!isObject(o)) fail('bad_frame', null, 'frame must be a JSON object');

  const rawId = o.id;
  const id = isString(rawId) && validLength(rawId, MAX_ID_CHARS) ? rawId : null;
  if (!isString(o.type)) fail('bad_frame', id, "frame needs a string 'type'");
  if (!has(o, 'id')) fail('missing_field', null, "missing field 'id'");
  if (id === null) fail('invalid_field', null, "field 'id' must be a string of 1 to 64 characters");

  const type = o.type;
  if (type === 'join') {
    checkJoin(o, id);
    return 'join';
  }
  if (type === 'leave' || type === 'ping') {
    onlyFields(o, [], id);
    return type;
  }
  if (checkLive(type, o, id)) return type as CommandType;
  if (checkPrompt(type, o, id)) return type as CommandType;
  if (checkAudit(type, o, id)) return type as CommandType;
  if (checkDeck(type, o, id)) return type as CommandType;
  return fail('unknown_type', id, `unknown message type '${type}'`);
}

/**
 * Checks a command frame exactly as the server's strict decoder does: the same verdict, the same
 * error code and the same error id for every frame (see protocol/vectors/commands.json).
 */
export function checkCommand(text: string): CheckResult {
  try {
    return { ok: true, type: check(text) };
  } catch (e) {
    if (e instanceof CommandError) return { ok: false, code: e.code, id: e.id, message: e.message };
    throw e;
  }
}
