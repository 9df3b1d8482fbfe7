// The connection manager: one WebSocket to the server, the room as this client knows it, and the
// policy for joining, resuming, resynchronising and reconnecting. No UI code: it is driven by the
// view through subscribe()/getSnapshot() and unit-tested with a fake socket.

import { ClockOffset } from './clock';
import {
  AUDIT_SCALE,
  CloseCode,
  EPHEMERAL_FLUSH_MS,
  MAX_AUDIT_COMMENT_CHARS,
  MAX_AUDIT_K,
  MIN_AUDIT_K,
  MAX_CARD_CHARS,
  MAX_NAME_CHARS,
  MAX_PROMPT_CHARS,
  PROTOCOL_VERSION,
  cleanDisplayText,
  cleanPromptText,
  trimAscii,
  decodeJoinResult,
  decodePingResult,
  decodeAuditStatusResult,
  decodeServerMessage,
  type AirtimeVisibility,
  type AssignableRole,
  type AuditCommand,
  type CursorData,
  type DeckCommand,
  type EphemeralKind,
  type EphemeralMessage,
  type EventMessage,
  type GroupFlag,
  type GroupsCommand,
  type GroupMethod,
  type JoinCommand,
  type LiveCommand,
  type MemberInfo,
  type PendingPrompt,
  type PromptCommand,
  type PromptsPendingMessage,
  type Role,
  type RoomEvent,
  type RoundOrder,
  type TimerName,
} from './protocol';
import { applyEvent, isFacilitatorRole, mayMissGroupEvents, roomFromSnapshot, type RoomView } from './room-state';
import {
  MemoryStorage,
  forgetIdentity,
  forgetRoom,
  forgetSecret,
  readItem,
  readLayered,
  rememberIdentity,
  removeItem,
  storageKeys,
  storedSecret,
  writeItem,
  type StorageLike,
  type Stores,
} from './storage';

export { applyEvent, type RoomMember, type RoomView } from './room-state';

export type ConnectionState =
  /** Not connected: waiting for a name (or for start()). */
  | 'idle'
  | 'connecting'
  | 'online'
  | 'reconnecting'
  /** Another tab took over this member (close code 4000); reconnect only when asked. */
  | 'replaced'
  /** The server refused the join for good (bad credentials, no such room, room full). */
  | 'failed'
  /** The server speaks another protocol major version. */
  | 'update_required'
  /** This member chose to leave. */
  | 'left'
  /** A facilitator removed this member (close code 4003, 1.5): the resume token is dropped; no reconnect. */
  | 'removed'
  /** The facilitator closed the room for good (close code 4004, 1.5): no reconnect. */
  | 'closed';

export interface ConnectionError {
  code: string;
  message: string;
}

export interface ConnectionSnapshot {
  state: ConnectionState;
  /** The room as of the last applied event; null until the first join succeeds. */
  room: RoomView | null;
  /** This client's member; null until joined. */
  self: MemberInfo | null;
  lastError: ConnectionError | null;
  /** The last live-round command the server refused (shown in the room's error area); cleared by the next command. */
  commandError: ConnectionError | null;
  /** What this tab holds to join with. */
  credential: 'resume' | 'secret' | 'none';
  /**
   * Anonymous prompts waiting for release (1.3), from the last `prompts_pending` push. Only
   * facilitators and co-facilitators get them; empty for everyone else.
   */
  pendingPrompts: PendingPrompt[];
  /** Ids of released prompts this member has voted for (remembered per tab and member). */
  votedPrompts: string[];
  /** Ids of climate-check audits this member has answered (remembered per tab and member; 1.3). */
  answeredAudits: string[];
}

/** The part of the browser WebSocket the manager uses; a fake one is passed in tests. */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string; wasClean?: boolean }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

const OPEN = 1;

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface ConnectionOptions {
  roomId: string;
  /** The browser's store (localStorage): secrets and identity kept across tabs and restarts. */
  storage: StorageLike;
  /** The tab's own store (sessionStorage), read before `storage`; default: memory of this object. */
  tabStorage?: StorageLike;
  /** Full WebSocket URL; default: ws(s)://<location.host>/ws. */
  url?: string;
  createSocket?: (url: string) => SocketLike;
  timers?: Timers;
  /** Returns a number in [0, 1); used for backoff jitter. */
  random?: () => number;
  /** Milliseconds between keep-alive pings. */
  pingIntervalMs?: number;
  /** The local clock (ms since the epoch); default Date.now. */
  now?: () => number;
}

/** The outcome of a command sent with Connection.command(). */
export type CommandOutcome =
  | { ok: true; result: Record<string, unknown> }
  | { ok: false; code: string; message: string };

/** A room command (live rounds, 1.2; anonymous prompts, 1.3) without its id (the connection assigns one). */
export type LiveCommandBody = LiveCommand | PromptCommand | AuditCommand | DeckCommand | GroupsCommand extends infer C ? (C extends { id: string } ? Omit<C, 'id'> : never) : never;

/** The message shown when a prompt's text is not acceptable (checked before sending). */
export const INVALID_PROMPT_MESSAGE = `Write 1 to ${MAX_PROMPT_CHARS} characters. Line breaks are fine; tabs and other special control characters are not.`;

/**
 * A prompt as typed, made ready to send: line breaks as \n (a pasted \r\n or \r too) and tabs
 * as spaces, then trimmed and checked as the server does. Null when it is still not acceptable.
 */
export function preparePromptText(text: string): string | null {
  const normalized = text.replace(/\r\n?/g, '\n').replace(/\t/g, ' ');
  return cleanPromptText(normalized, MAX_PROMPT_CHARS);
}

/** The message shown when an audit comment is not acceptable (checked before sending). */
export const INVALID_COMMENT_MESSAGE = `A comment is at most ${MAX_AUDIT_COMMENT_CHARS} characters. Line breaks are fine; tabs and other special control characters are not.`;

/**
 * An audit comment as typed: prepared like a prompt. Returns undefined for no comment (empty or
 * only white space: the field is optional, so it is left out), null when it is not acceptable.
 */
export function prepareAuditComment(text: string): string | null | undefined {
  const normalized = text.replace(/\r\n?/g, '\n').replace(/\t/g, ' ');
  if (trimAscii(normalized) === '') return undefined;
  return cleanPromptText(normalized, MAX_AUDIT_COMMENT_CHARS);
}

/** The message shown when a new challenge card's text is not acceptable (checked before sending). */
export const INVALID_CARD_MESSAGE = `Write 1 to ${MAX_CARD_CHARS} characters. Line breaks are fine; tabs and other special control characters are not.`;

/** A challenge card as typed: prepared like a prompt. Null when it is not acceptable. */
export function prepareCardText(text: string): string | null {
  const normalized = text.replace(/\r\n?/g, '\n').replace(/\t/g, ' ');
  return cleanPromptText(normalized, MAX_CARD_CHARS);
}

/** Reconnect delays: 0.5 s doubling to at most 10 s, each with ±30 % jitter. */
export const BACKOFF_BASE_MS = 500;
export const BACKOFF_MAX_MS = 10_000;
export const BACKOFF_JITTER = 0.3;
export const PING_INTERVAL_MS = 25_000;
/** Right after joining: this many pings, this far apart, for a first good clock offset. */
export const STARTUP_PINGS = 3;
export const STARTUP_PING_GAP_MS = 200;
/** How long leave() waits for the server's reply before closing anyway. */
export const LEAVE_TIMEOUT_MS = 1_500;

export function backoffDelay(attempt: number, random: () => number): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt));
  const jitter = 1 + (random() * 2 - 1) * BACKOFF_JITTER;
  return Math.round(base * jitter);
}

export function defaultSocketUrl(loc: { protocol: string; host: string } = globalThis.location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`;
}

const defaultTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
  setInterval: (fn, ms) => globalThis.setInterval(fn, ms),
  clearInterval: (h) => globalThis.clearInterval(h as ReturnType<typeof setInterval>),
};

type Pending = 'join' | 'leave' | 'ping' | 'command';

/** Called with the event, the room after it and the room before it. */
export type RoomEventListener = (event: RoomEvent, room: RoomView, before: RoomView) => void;
/** Called when a join's snapshot replaces the room: the new room and the one shown before (null: none). */
export type RoomSnapshotListener = (room: RoomView, before: RoomView | null) => void;

/** An ephemeral message of another member (a cursor): never part of the room's state. */
export type EphemeralListener = (message: EphemeralMessage) => void;

/**
 * The ephemeral channel's pace (protocol/README.md#the-ephemeral-channel): the server takes at most
 * MAX_EPHEMERAL_PER_SECOND a second from a member and forwards the latest per member and kind every
 * EPHEMERAL_FLUSH_MS; this client sends at most one per kind in each such interval, the latest.
 */
export const EPHEMERAL_INTERVAL_MS = EPHEMERAL_FLUSH_MS;

export class Connection {
  readonly roomId: string;
  private readonly storage: StorageLike;
  private readonly stores: Stores;
  private readonly url: string;
  private readonly createSocket: (url: string) => SocketLike;
  private readonly timers: Timers;
  private readonly random: () => number;
  private readonly pingIntervalMs: number;
  private readonly now: () => number;
  private readonly clock = new ClockOffset();
  /** Local send time of each ping in flight, by command id. */
  private readonly pingSentAt = new Map<string, number>();
  private readonly commandWaiters = new Map<string, (outcome: CommandOutcome) => void>();
  private startupPingTimers: unknown[] = [];

  private socket: SocketLike | null = null;
  private welcomed = false;
  private joined = false;
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  /** Name to join with when using key/code; remembered for a fallback after a rejected resume token. */
  private name: string | null = null;
  /** The credential the join in flight used. */
  private joinCredential: 'resume' | 'secret' | null = null;
  /** join() asked for a new member: the key or code is used even if a resume token is stored. */
  private joinAsNew = false;
  private attempt = 0;
  private reconnectTimer: unknown = null;
  private pingTimer: unknown = null;
  private leaveTimer: unknown = null;
  private wantConnected = false;

  private snapshot: ConnectionSnapshot;
  private readonly listeners = new Set<() => void>();
  private readonly eventListeners = new Set<RoomEventListener>();
  private readonly snapshotListeners = new Set<RoomSnapshotListener>();
  private readonly ephemeralListeners = new Set<EphemeralListener>();
  /** Per kind: when the last ephemeral message went out, and the latest one waiting for its turn. */
  private readonly ephemeralSentAt = new Map<EphemeralKind, number>();
  private readonly ephemeralWaiting = new Map<EphemeralKind, { data: CursorData; timer: unknown }>();
  private nextEphemeralId = 1;

  constructor(options: ConnectionOptions) {
    this.roomId = options.roomId;
    this.storage = options.storage;
    this.stores = { tab: options.tabStorage ?? new MemoryStorage(), device: options.storage };
    this.url = options.url ?? defaultSocketUrl();
    this.createSocket = options.createSocket ?? ((url) => new WebSocket(url) as unknown as SocketLike);
    this.timers = options.timers ?? defaultTimers;
    this.random = options.random ?? Math.random;
    this.pingIntervalMs = options.pingIntervalMs ?? PING_INTERVAL_MS;
    this.now = options.now ?? (() => Date.now());
    this.snapshot = {
      state: 'idle',
      room: null,
      self: null,
      lastError: null,
      commandError: null,
      credential: this.credential(),
      pendingPrompts: [],
      votedPrompts: [],
      answeredAudits: [],
    };
  }

  // ------------------------------------------------------------ public API

  getSnapshot(): ConnectionSnapshot {
    return this.snapshot;
  }

  /** Calls `fn` after every change of the snapshot. Returns the unsubscribe function. */
  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Calls `fn` for every room event applied (for announcements). */
  onRoomEvent(fn: RoomEventListener): () => void {
    this.eventListeners.add(fn);
    return () => this.eventListeners.delete(fn);
  }

  /** Calls `fn` each time a join's snapshot replaces the room (the first join, or after a gap). */
  onRoomSnapshot(fn: RoomSnapshotListener): () => void {
    this.snapshotListeners.add(fn);
    return () => this.snapshotListeners.delete(fn);
  }

  /** Calls `fn` for every ephemeral message (another member's cursor) of this room. Returns the unsubscribe function. */
  onEphemeral(fn: EphemeralListener): () => void {
    this.ephemeralListeners.add(fn);
    return () => this.ephemeralListeners.delete(fn);
  }

  /**
   * Sends an ephemeral message (1.4: a `cursor` at `{x, y}`): never logged, no reply. At most one
   * per kind every EPHEMERAL_INTERVAL_MS goes out: a message sent sooner waits and is replaced by
   * any later one (only the latest position matters). False when not in the room (nothing sent).
   */
  sendEphemeral(kind: EphemeralKind, data: CursorData): boolean {
    if (!this.socket || this.socket.readyState !== OPEN || !this.joined) return false;
    const waiting = this.ephemeralWaiting.get(kind);
    if (waiting) {
      waiting.data = { ...data };
      return true;
    }
    const wait = (this.ephemeralSentAt.get(kind) ?? -Infinity) + EPHEMERAL_INTERVAL_MS - this.now();
    if (wait <= 0) {
      this.flushEphemeral(kind, data);
      return true;
    }
    const entry = { data: { ...data }, timer: null as unknown };
    entry.timer = this.timers.setTimeout(() => {
      this.ephemeralWaiting.delete(kind);
      if (this.socket && this.socket.readyState === OPEN && this.joined) this.flushEphemeral(kind, entry.data);
    }, wait);
    this.ephemeralWaiting.set(kind, entry);
    return true;
  }

  private flushEphemeral(kind: EphemeralKind, data: CursorData): void {
    this.ephemeralSentAt.set(kind, this.now());
    // Its own ids: no reply is awaited (an error for it, if any, is ignored).
    this.send({ type: 'ephemeral', id: `e${this.nextEphemeralId++}`, kind, data });
  }

  private dropEphemeral(): void {
    for (const w of this.ephemeralWaiting.values()) this.timers.clearTimeout(w.timer);
    this.ephemeralWaiting.clear();
  }

  /** The estimated server clock offset (server − local), in ms. */
  get serverOffsetMs(): number {
    return this.clock.offsetMs;
  }

  /** The server's time now, as best this client can tell (ms since the epoch). */
  serverNow(): number {
    return this.clock.serverTime(this.now());
  }

  /**
   * Sends a live-round command. Resolves with the reply or the error; a refused command also sets
   * `commandError` (with the server's message) for the view's error area.
   */
  command(body: LiveCommandBody): Promise<CommandOutcome> {
    if (!this.socket || this.socket.readyState !== OPEN || !this.joined) {
      const outcome: CommandOutcome = { ok: false, code: 'not_connected', message: 'Not connected to the session right now. Try again in a moment.' };
      this.update({ commandError: { code: outcome.code, message: outcome.message } });
      return Promise.resolve(outcome);
    }
    const id = this.newId('command');
    if (this.snapshot.commandError) this.update({ commandError: null });
    return new Promise((resolve) => {
      this.commandWaiters.set(id, resolve);
      this.send({ ...body, id });
    });
  }

  /** Shows an error in the room's error area (a check the view made before sending). */
  showError(code: string, message: string): void {
    this.update({ commandError: { code, message } });
  }

  /** A command refused before sending: shows `message` in the error area and says so as an outcome. */
  private refuse(code: string, message: string): CommandOutcome {
    this.showError(code, message);
    return { ok: false, code, message };
  }

  /** Clears the shown command error (the view's dismiss button). */
  clearCommandError(): void {
    if (this.snapshot.commandError) this.update({ commandError: null });
  }

  // Helpers, one per command of live rounds (1.2).
  setRole(member: string, role: AssignableRole) {
    return this.command({ type: 'set_role', member, role });
  }
  handOver(member: string) {
    return this.command({ type: 'hand_over', member });
  }
  claimFacilitation() {
    return this.command({ type: 'claim_facilitation' });
  }
  /** 1.5: removes a member (facilitators; co-facilitators remove participants and observers). */
  removeMember(member: string) {
    return this.command({ type: 'member_remove', member });
  }
  /** 1.5: closes the room for good (the facilitator): everything in it is deleted. */
  closeRoom() {
    return this.command({ type: 'room_close' });
  }
  setAirtimeVisibility(airtime_visibility: AirtimeVisibility) {
    return this.command({ type: 'settings', airtime_visibility });
  }
  /** With `sitOut` the caller is not in the order (sent only then: a 1.5 server knows no `sit_out`). */
  startRound(order: RoundOrder, turnSeconds: number, autoAdvance = true, sitOut = false) {
    return this.command({
      type: 'round_start',
      order,
      turn_seconds: turnSeconds,
      auto_advance: autoAdvance,
      ...(sitOut ? { sit_out: true } : {}),
    });
  }
  /** Puts a member at the end of the running round's order (facilitators). */
  addToRound(member: string) {
    return this.command({ type: 'round_add', member });
  }
  /** Pauses the room's running round, turn and timers (facilitators). */
  pauseActivity() {
    return this.command({ type: 'pause' });
  }
  resumeActivity() {
    return this.command({ type: 'resume' });
  }
  finishTurn() {
    return this.command({ type: 'round_finish' });
  }
  passTurn() {
    return this.command({ type: 'round_pass' });
  }
  skipTurn() {
    return this.command({ type: 'round_skip' });
  }
  moveLater(member: string) {
    return this.command({ type: 'round_later', member });
  }
  endRound() {
    return this.command({ type: 'round_end' });
  }
  raiseHand() {
    return this.command({ type: 'hand_raise' });
  }
  /** Lowers this member's hand, or (facilitators) another member's. */
  lowerHand(member?: string) {
    return this.command(member === undefined ? { type: 'hand_lower' } : { type: 'hand_lower', member });
  }
  /** Gives the floor to `member`, or to the head of the queue. */
  giveFloor(member?: string) {
    return this.command(member === undefined ? { type: 'floor_give' } : { type: 'floor_give', member });
  }
  releaseFloor() {
    return this.command({ type: 'floor_release' });
  }
  floorSettings(turnSeconds: number | null, autoAdvance: boolean, quieterFirst: boolean) {
    return this.command({ type: 'floor_settings', turn_seconds: turnSeconds, auto_advance: autoAdvance, quieter_first: quieterFirst });
  }
  startTimer(timer: TimerName, seconds: number) {
    return this.command({ type: 'timer', timer, action: 'start', seconds });
  }
  /** Extends (positive) or shortens (negative) a timer. */
  extendTimer(timer: TimerName, seconds: number) {
    return this.command({ type: 'timer', timer, action: 'extend', seconds });
  }
  timerAction(timer: TimerName, action: 'pause' | 'resume' | 'reset') {
    return this.command({ type: 'timer', timer, action });
  }

  // Helpers for anonymous prompts (1.3).
  /**
   * Submits an anonymous prompt. The text is prepared and checked first (an unacceptable one is
   * not sent: it shows as `invalid_text` in the error area). The reply goes to this member only.
   */
  submitPrompt(text: string): Promise<CommandOutcome> {
    const cleaned = preparePromptText(text);
    if (cleaned === null) {
      return Promise.resolve(this.refuse('invalid_text', INVALID_PROMPT_MESSAGE));
    }
    return this.command({ type: 'prompt_submit', text: cleaned });
  }
  /** Releases the chosen pending prompts, or (no ids) every pending prompt that is not held. */
  releasePrompts(ids?: string[]) {
    return this.command(ids === undefined ? { type: 'prompt_release' } : { type: 'prompt_release', prompts: ids });
  }
  holdPrompt(prompt: string) {
    return this.command({ type: 'prompt_hold', prompt });
  }
  discardPrompt(prompt: string) {
    return this.command({ type: 'prompt_discard', prompt });
  }
  /** Votes for a released prompt; the vote is remembered (also when the server says `already_voted`). */
  async upvotePrompt(prompt: string): Promise<CommandOutcome> {
    const outcome = await this.command({ type: 'prompt_upvote', prompt });
    if (outcome.ok || outcome.code === 'already_voted') this.rememberVote(prompt);
    return outcome;
  }
  /** Poses a released prompt to the group, or to `member`. */
  posePrompt(prompt: string, member?: string) {
    return this.command(member === undefined ? { type: 'prompt_pose', prompt } : { type: 'prompt_pose', prompt, member });
  }

  // Helpers for the climate-for-learning audit (1.3).
  /** Opens an audit (facilitators): results only if at least `k` (3..50) answer; no k: the server's 5. */
  openAudit(k?: number): Promise<CommandOutcome> {
    if (k !== undefined && !(Number.isInteger(k) && k >= MIN_AUDIT_K && k <= MAX_AUDIT_K)) {
      const message = `Choose a number from ${MIN_AUDIT_K} to ${MAX_AUDIT_K}.`;
      return Promise.resolve(this.refuse('invalid_field', message));
    }
    return this.command(k === undefined ? { type: 'audit_open' } : { type: 'audit_open', k });
  }
  /**
   * Answers the open audit: `answers` maps every item id to 1..5; `comment` is optional (empty
   * means none). Checked first; once the server accepts it (or says `already_answered`), the
   * audit is remembered as answered by this member.
   */
  async answerAudit(answers: Record<string, number>, comment = ''): Promise<CommandOutcome> {
    const audit = this.snapshot.room?.audit;
    if (!audit || !audit.open) {
      const message = 'The climate check is closed.';
      return this.refuse('no_audit', message);
    }
    const complete = audit.items.every((i) => Number.isInteger(answers[i.id]) && answers[i.id]! >= 1 && answers[i.id]! <= AUDIT_SCALE);
    if (!complete) {
      const message = 'Choose an answer from 1 to 5 for every statement.';
      return this.refuse('invalid_answer', message);
    }
    const cleaned = prepareAuditComment(comment);
    if (cleaned === null) {
      return this.refuse('invalid_text', INVALID_COMMENT_MESSAGE);
    }
    const body: Record<string, number> = {};
    for (const i of audit.items) body[i.id] = answers[i.id]!;
    const outcome = await this.command(cleaned === undefined ? { type: 'audit_answer', answers: body } : { type: 'audit_answer', answers: body, comment: cleaned });
    if (outcome.ok || outcome.code === 'already_answered') this.rememberAudit(audit.id);
    return outcome;
  }
  /** Closes the open audit and publishes its results (facilitators). */
  closeAudit() {
    return this.command({ type: 'audit_close' });
  }
  /** How many have answered the open audit so far (1.6, facilitators): a count, never who. */
  async auditStatus(): Promise<{ ok: true; responses: number; k: number } | { ok: false; code: string; message: string }> {
    const outcome = await this.command({ type: 'audit_status' });
    if (!outcome.ok) return outcome;
    const status = decodeAuditStatusResult(outcome.result);
    if (!status) return { ok: false, code: 'bad_reply', message: 'The server sent an answer this page does not understand.' };
    return { ok: true, responses: status.responses, k: status.k };
  }

  // Helpers for the challenge deck (1.3, facilitators).
  /** Adds a card; the text is prepared and checked first (an unacceptable one is not sent: `invalid_text`). */
  addCard(text: string): Promise<CommandOutcome> {
    const cleaned = prepareCardText(text);
    if (cleaned === null) {
      return Promise.resolve(this.refuse('invalid_text', INVALID_CARD_MESSAGE));
    }
    return this.command({ type: 'deck_add', text: cleaned });
  }
  removeCard(card: string) {
    return this.command({ type: 'deck_remove', card });
  }
  /** Draws a card not drawn yet and shows it to the group (`deck_empty` with no cards). */
  drawCard() {
    return this.command({ type: 'deck_draw' });
  }

  // Breakout groups (1.7). Facilitators split, move, extend, recall, close and message; a group's
  // members raise its flags.
  /** Splits into groups of `size` (`manual`: `members` in that order); `minutes` null: until recalled. */
  openGroups(method: GroupMethod, size: number, minutes: number | null, members?: string[]) {
    const seconds = minutes === null ? null : Math.round(minutes * 60);
    return this.command(method === 'manual' ? { type: 'groups_open', method, size, members: members ?? [], seconds } : { type: 'groups_open', method, size, seconds });
  }
  moveToGroup(member: string, group: string | null) {
    return this.command({ type: 'group_move', member, group });
  }
  extendGroups(minutes: number) {
    return this.command({ type: 'groups_extend', seconds: Math.round(minutes * 60) });
  }
  recallGroups(seconds?: number) {
    return this.command(seconds === undefined ? { type: 'groups_recall' } : { type: 'groups_recall', seconds });
  }
  closeGroups() {
    return this.command({ type: 'groups_close' });
  }
  messageGroups(text: string) {
    return this.command({ type: 'groups_message', text });
  }
  /** Raises or clears one of the group's flags; facilitators name the group they answer. */
  flagGroup(flag: GroupFlag, on: boolean, group?: string) {
    return this.command(group === undefined ? { type: 'group_flag', flag, on } : { type: 'group_flag', flag, on, group });
  }

  /** True when a stored resume token lets this tab rejoin without asking for a name. */
  hasResumeToken(): boolean {
    return this.resumeToken() !== null;
  }

  /** The token this tab would resume with (for its personal rejoin link), or null. */
  rejoinToken(): string | null {
    return this.resumeToken();
  }

  /** True when this tab holds a facilitator key or a join code for the room. */
  hasSecret(): boolean {
    return this.secret() !== null;
  }

  /** Connects and joins with the stored resume token (after a reload). */
  start(): void {
    if (!this.hasResumeToken() && !(this.hasSecret() && this.name)) {
      this.update({ state: 'idle', credential: this.credential() });
      return;
    }
    this.connect('connecting');
  }

  /** Joins with the stored key or code under `name` (a new member). */
  join(name: string): void {
    const cleaned = cleanDisplayText(name, MAX_NAME_CHARS);
    if (cleaned === null) {
      this.update({
        lastError: { code: 'invalid_name', message: 'Enter a name of 1 to 60 characters, without special control characters.' },
      });
      return;
    }
    if (!this.hasSecret()) {
      this.update({ state: 'failed', lastError: { code: 'no_credentials', message: 'This link has no invitation code.' } });
      return;
    }
    this.name = cleaned;
    this.joinAsNew = true;
    // A new member: whatever this tab showed before (a room it left) is not ours any more.
    this.update({ lastError: null, room: null, self: null });
    if (this.socket && this.socket.readyState === OPEN && this.welcomed && !this.joined) {
      this.sendJoin();
    } else {
      this.connect('connecting');
    }
  }

  /** After close code 4000: take this member back into this tab. */
  useHere(): void {
    this.attempt = 0;
    this.connect('connecting');
  }

  /** Tries again now (from "reconnecting" or "failed"). */
  retryNow(): void {
    this.attempt = 0;
    this.connect(this.snapshot.room ? 'reconnecting' : 'connecting');
  }

  /**
   * "Not you?": forgets the identity in this tab and for the browser (another tab that is someone
   * keeps its own copy), so the next join() makes a new member. Only while not in the room.
   */
  forgetIdentity(): void {
    if (this.joined) return;
    forgetIdentity(this.stores, this.roomId, null);
    this.update({ credential: this.credential(), lastError: null });
  }

  /** Leaves the room: tells the server, closes, and forgets the resume token. */
  leave(): void {
    forgetIdentity(this.stores, this.roomId, this.resumeToken());
    removeItem(this.storage, storageKeys.votes(this.roomId));
    removeItem(this.storage, storageKeys.audits(this.roomId));
    this.update({ pendingPrompts: [], votedPrompts: [], answeredAudits: [] });
    const socket = this.socket;
    this.wantConnected = false;
    this.clearReconnect();
    this.stopPing();
    if (socket && socket.readyState === OPEN && this.joined) {
      this.send({ type: 'leave', id: this.newId('leave') });
      this.leaveTimer = this.timers.setTimeout(() => this.dropSocket(1000, 'left'), LEAVE_TIMEOUT_MS);
    } else {
      this.dropSocket(1000, 'left');
    }
    this.joined = false;
    this.update({ state: 'left', lastError: null, credential: this.credential() });
  }

  /** Stops everything without leaving (page unload, component unmount). */
  dispose(): void {
    this.wantConnected = false;
    this.clearReconnect();
    this.stopPing();
    this.dropSocket(1000, 'closed');
    this.listeners.clear();
    this.eventListeners.clear();
    this.snapshotListeners.clear();
  }

  // ------------------------------------------------------------ credentials

  private resumeToken(): string | null {
    return readLayered(this.stores, storageKeys.resume(this.roomId));
  }

  private secret(): { key: string } | { code: string } | null {
    return storedSecret(this.stores, this.roomId);
  }

  private credential(): ConnectionSnapshot['credential'] {
    if (this.resumeToken()) return 'resume';
    if (this.secret()) return 'secret';
    return 'none';
  }

  // ------------------------------------------------------------ socket lifecycle

  private connect(state: 'connecting' | 'reconnecting'): void {
    this.clearReconnect();
    this.dropSocket(1000, 'reconnecting');
    this.wantConnected = true;
    this.welcomed = false;
    this.joined = false;
    this.pending.clear();
    this.update({ state });

    let socket: SocketLike;
    try {
      socket = this.createSocket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onmessage = (ev) => {
      if (this.socket !== socket) return;
      if (typeof ev.data === 'string') this.handleFrame(ev.data);
    };
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.handleClose(ev.code);
    };
    socket.onerror = () => {
      // A close event follows; nothing to do here.
    };
  }

  /** Detaches and closes the current socket; its later events are ignored. */
  private dropSocket(code: number, reason: string): void {
    this.dropEphemeral();
    const socket = this.socket;
    if (this.leaveTimer !== null) {
      this.timers.clearTimeout(this.leaveTimer);
      this.leaveTimer = null;
    }
    this.stopPing();
    this.failWaiters();
    if (!socket) return;
    this.socket = null;
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    socket.onerror = null;
    try {
      socket.close(code, reason);
    } catch {
      // already closed
    }
  }

  private handleClose(code: number): void {
    this.dropEphemeral();
    this.socket = null;
    this.welcomed = false;
    this.joined = false;
    this.stopPing();
    this.pending.clear();
    this.failWaiters();
    if (!this.wantConnected) return;
    if (code === CloseCode.replaced) {
      this.wantConnected = false;
      this.update({
        state: 'replaced',
        lastError: { code: 'replaced', message: 'This session was opened in another tab or window.' },
      });
      return;
    }
    if (code === CloseCode.removed || code === CloseCode.roomClosed) {
      // For good: the token no longer works (removed) or the room is gone (closed).
      this.wantConnected = false;
      const removed = code === CloseCode.removed;
      if (removed) forgetIdentity(this.stores, this.roomId, this.resumeToken());
      else forgetRoom(this.stores, this.roomId);
      this.update({
        state: removed ? 'removed' : 'closed',
        credential: this.credential(),
        lastError: removed
          ? { code: 'removed', message: 'A facilitator removed you from this room.' }
          : { code: 'room_closed', message: 'The facilitator closed this room for good.' },
      });
      return;
    }
    if (code === CloseCode.joinTimeout) {
      // Open too long without joining (the name prompt was left waiting): no reconnect loop; the
      // next join() connects again.
      this.wantConnected = false;
      this.update({ state: 'idle', credential: this.credential() });
      return;
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.clearReconnect();
    if (!this.wantConnected) return;
    const delay = backoffDelay(this.attempt, this.random);
    this.attempt++;
    this.update({ state: 'reconnecting' });
    this.reconnectTimer = this.timers.setTimeout(() => {
      this.reconnectTimer = null;
      this.connect('reconnecting');
    }, delay);
  }

  private clearReconnect(): void {
    if (this.reconnectTimer !== null) {
      this.timers.clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
    }
  }

  private startPing(): void {
    this.stopPing();
    this.pingTimer = this.timers.setInterval(() => this.sendPing(), this.pingIntervalMs);
  }

  private stopPing(): void {
    if (this.pingTimer !== null) {
      this.timers.clearInterval(this.pingTimer);
      this.pingTimer = null;
    }
    for (const h of this.startupPingTimers) this.timers.clearTimeout(h);
    this.startupPingTimers = [];
    this.pingSentAt.clear();
  }

  private sendPing(): void {
    if (!this.socket || this.socket.readyState !== OPEN || !this.welcomed) return;
    const id = this.newId('ping');
    this.pingSentAt.set(id, this.now());
    this.send({ type: 'ping', id });
  }

  /** A few pings right after joining, so that countdowns are right from the start. */
  private startupPings(): void {
    for (const h of this.startupPingTimers) this.timers.clearTimeout(h);
    this.startupPingTimers = [];
    this.sendPing();
    for (let i = 1; i < STARTUP_PINGS; i++) {
      this.startupPingTimers.push(this.timers.setTimeout(() => this.sendPing(), i * STARTUP_PING_GAP_MS));
    }
  }

  /** Commands in flight on a connection that is gone get no answer: settle them. */
  private failWaiters(): void {
    if (this.commandWaiters.size === 0) return;
    const waiters = [...this.commandWaiters.values()];
    this.commandWaiters.clear();
    for (const w of waiters) w({ ok: false, code: 'not_connected', message: 'The connection was lost before the server answered.' });
  }

  // ------------------------------------------------------------ commands

  private newId(kind: Pending): string {
    const id = String(this.nextId++);
    this.pending.set(id, kind);
    return id;
  }

  private send(command: object): void {
    try {
      this.socket?.send(JSON.stringify(command));
    } catch {
      // The close event will follow and reconnect.
    }
  }

  /** Sends `join` with the resume token if there is one, else with key/code and the name. */
  private sendJoin(): void {
    const resume = this.resumeToken();
    const secret = this.secret();
    let command: JoinCommand;
    if (resume && !this.joinAsNew) {
      // Coming back with a room already on screen: ask only for what was missed since its seq.
      const room = this.snapshot.room;
      command =
        room && room.id === this.roomId
          ? { type: 'join', id: this.newId('join'), room: this.roomId, resume, after: room.seq }
          : { type: 'join', id: this.newId('join'), room: this.roomId, resume };
      this.joinCredential = 'resume';
    } else if (secret && this.name) {
      command = { type: 'join', id: this.newId('join'), room: this.roomId, ...secret, name: this.name };
      this.joinCredential = 'secret';
    } else {
      // Nothing to join with yet: ask for a name (the view shows the prompt).
      this.update({ state: 'idle', credential: this.credential() });
      return;
    }
    this.send(command);
  }

  // ------------------------------------------------------------ server frames

  private handleFrame(text: string): void {
    const decoded = decodeServerMessage(text);
    if (!decoded.ok) return; // Not a frame of protocol v1: ignore it.
    const msg = decoded.message;
    switch (msg.type) {
      case 'welcome':
        if (msg.protocol !== PROTOCOL_VERSION) {
          this.wantConnected = false;
          this.clearReconnect();
          this.dropSocket(1000, 'update_required');
          this.update({
            state: 'update_required',
            lastError: { code: 'update_required', message: `The server speaks protocol version ${msg.protocol}.` },
          });
          return;
        }
        this.welcomed = true;
        this.clock.reset();
        this.clock.fromWelcome(msg.server_time, this.now());
        this.startPing();
        this.sendJoin();
        return;
      case 'reply': {
        const kind = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (kind === 'join') this.handleJoined(msg.result);
        else if (kind === 'leave') this.dropSocket(1000, 'left');
        else if (kind === 'ping') this.handlePong(msg.id, msg.result);
        else if (kind === 'command') this.settle(msg.id, { ok: true, result: msg.result });
        return;
      }
      case 'error': {
        const kind = msg.id === null ? undefined : this.pending.get(msg.id);
        if (msg.id !== null) this.pending.delete(msg.id);
        if (kind === 'join') this.handleJoinError(msg.code, msg.message);
        else if (kind === 'leave') this.dropSocket(1000, 'left');
        else if (kind === 'ping') this.pingSentAt.delete(msg.id ?? '');
        else if (kind === 'command' && msg.id !== null) {
          this.update({ commandError: { code: msg.code, message: msg.message } });
          this.settle(msg.id, { ok: false, code: msg.code, message: msg.message });
        }
        return;
      }
      case 'event':
        this.handleEvent(msg);
        return;
      case 'prompts_pending':
        this.handlePromptsPending(msg);
        return;
      case 'ephemeral':
        if (this.joined && msg.room === this.roomId) for (const fn of this.ephemeralListeners) fn(msg);
        return;
    }
  }

  /** This member's role as of the last event (null before the first join). */
  private selfRole(): Role | null {
    const self = this.snapshot.self;
    if (!self) return null;
    return this.snapshot.room?.members.find((m) => m.id === self.id)?.role ?? self.role;
  }

  /**
   * A new list of pending prompts: it replaces the last one whole (it is not an event, so no seq).
   * Kept only for facilitators and co-facilitators. It may arrive just before the join reply on a
   * new connection; the reply then drops it if this member is not a facilitator.
   */
  private handlePromptsPending(msg: PromptsPendingMessage): void {
    if (!this.welcomed || msg.room !== this.roomId) return;
    const role = this.selfRole();
    if (role !== null && !isFacilitatorRole(role)) return;
    this.update({ pendingPrompts: msg.prompts.map((p) => ({ ...p })) });
  }

  /** The votes this tab remembers for `member` (those of another member of this room are dropped). */
  private loadVotes(member: string): string[] {
    return this.loadRemembered(storageKeys.votes(this.roomId), 'prompts', member);
  }

  private rememberVote(prompt: string): void {
    const votedPrompts = this.remember(storageKeys.votes(this.roomId), 'prompts', this.snapshot.votedPrompts, prompt);
    if (votedPrompts) this.update({ votedPrompts });
  }

  /** The audits this tab remembers `member` answered (another member's list is dropped). */
  private loadAudits(member: string): string[] {
    return this.loadRemembered(storageKeys.audits(this.roomId), 'audits', member);
  }

  private rememberAudit(audit: string): void {
    const answeredAudits = this.remember(storageKeys.audits(this.roomId), 'audits', this.snapshot.answeredAudits, audit);
    if (answeredAudits) this.update({ answeredAudits });
  }

  /** The ids stored as JSON `{member, [field]: ids}` under `key`, if `member` stored them; else drops the item. */
  private loadRemembered(key: string, field: 'prompts' | 'audits', member: string): string[] {
    const raw = readItem(this.storage, key);
    if (!raw) return [];
    try {
      const v = JSON.parse(raw) as { member?: unknown } & Record<string, unknown>;
      const ids = v[field];
      if (v.member === member && Array.isArray(ids)) return ids.filter((id): id is string => typeof id === 'string');
    } catch {
      // unreadable: start over
    }
    removeItem(this.storage, key);
    return [];
  }

  /** Adds `id` to `ids` and stores the list for this member; null if already there (or not joined). */
  private remember(key: string, field: 'prompts' | 'audits', ids: readonly string[], id: string): string[] | null {
    const self = this.snapshot.self;
    if (!self || ids.includes(id)) return null;
    const next = [...ids, id];
    writeItem(this.storage, key, JSON.stringify({ member: self.id, [field]: next }));
    return next;
  }

  private handlePong(id: string, result: unknown): void {
    const receivedAt = this.now();
    const sentAt = this.pingSentAt.get(id);
    this.pingSentAt.delete(id);
    const pong = decodePingResult(result);
    if (sentAt === undefined || !pong) return;
    this.clock.fromPing(pong.server_time, sentAt, receivedAt);
  }

  private settle(id: string, outcome: CommandOutcome): void {
    const waiter = this.commandWaiters.get(id);
    this.commandWaiters.delete(id);
    waiter?.(outcome);
  }

  private handleJoined(result: unknown): void {
    const joined = decodeJoinResult(result);
    if (!joined) {
      this.update({ state: 'failed', lastError: { code: 'bad_reply', message: 'The server sent an unexpected reply.' } });
      return;
    }
    rememberIdentity(this.stores, this.roomId, joined.resume_token, { ...joined.member });
    this.joinAsNew = false;
    if (joined.replay) {
      const room = this.snapshot.room;
      if (!room || room.seq !== joined.replay.after) {
        // Not the position we asked from (cannot happen with a correct server): start clean.
        this.update({ room: null });
        this.connect('reconnecting');
        return;
      }
      // The room stays as it is; the missed events follow as ordinary pushes, in order.
      this.goOnline(joined.member);
      return;
    }
    const before = this.snapshot.room;
    const room = roomFromSnapshot(joined.snapshot);
    this.goOnline(joined.member, { room });
    for (const fn of this.snapshotListeners) fn(room, before);
  }

  /** A join succeeded: online as `member`, with `patch` (e.g. a fresh room) applied too. */
  private goOnline(member: MemberInfo, patch: Partial<ConnectionSnapshot> = {}): void {
    this.joined = true;
    this.attempt = 0;
    this.name = member.name;
    this.update({
      state: 'online',
      self: member,
      lastError: null,
      commandError: null,
      credential: 'resume',
      ...patch,
      ...this.promptStateFor(member),
    });
    this.startupPings();
  }

  /** After a join: this member's remembered votes; the pending list only for facilitators. */
  private promptStateFor(member: MemberInfo): Pick<ConnectionSnapshot, 'pendingPrompts' | 'votedPrompts' | 'answeredAudits'> {
    const sameMember = this.snapshot.self?.id === member.id;
    return {
      pendingPrompts: isFacilitatorRole(member.role) ? this.snapshot.pendingPrompts : [],
      votedPrompts: sameMember && this.snapshot.votedPrompts.length > 0 ? this.snapshot.votedPrompts : this.loadVotes(member.id),
      answeredAudits:
        sameMember && this.snapshot.answeredAudits.length > 0 ? this.snapshot.answeredAudits : this.loadAudits(member.id),
    };
  }

  private handleJoinError(code: string, message: string): void {
    const usedResume = this.joinCredential === 'resume';
    if (code === 'bad_credentials' && usedResume) {
      // The stored token is no good (the member was removed while away): forget it. Never join
      // as a new member by ourselves (a stale tab would bring a removed ghost back): with a key
      // or code the view explains and asks for a name; without one, this tab cannot get in.
      forgetIdentity(this.stores, this.roomId, this.resumeToken());
      const refused = { code: 'resume_refused', message: 'That identity no longer works in this room.' };
      if (this.secret()) {
        this.wantConnected = false;
        this.clearReconnect();
        this.dropSocket(1000, 'resume_refused');
        this.update({ state: 'idle', room: null, self: null, credential: this.credential(), lastError: refused });
        return;
      }
      this.stopFor('failed', 'identity_lost', refused.message);
      return;
    }
    if (code === 'bad_credentials') {
      const secret = this.secret();
      if (secret) forgetSecret(this.stores, this.roomId, secret);
    }
    if (code === 'room_not_found') forgetRoom(this.stores, this.roomId);
    if (code === 'invalid_name') {
      // Keep the socket: the view asks for another name and join() sends it on this connection.
      this.name = null;
      this.update({ state: 'idle', lastError: { code, message }, credential: this.credential() });
      return;
    }
    if (code === 'already_joined') return; // This connection is in the room already.
    this.stopFor('failed', code, message);
  }

  private stopFor(state: ConnectionState, code: string, message: string): void {
    this.wantConnected = false;
    this.clearReconnect();
    this.dropSocket(1000, state);
    this.update({ state, lastError: { code, message }, credential: this.credential() });
  }

  private handleEvent(msg: EventMessage): void {
    const room = this.snapshot.room;
    if (!this.joined || !room || msg.room !== this.roomId) return;
    if (msg.seq <= room.seq) return; // Already part of the snapshot.
    if (msg.seq !== room.seq + 1 && !mayMissGroupEvents(room, this.snapshot.self?.id)) {
      // A gap: something was missed (not another group's own event, which skips its seq). Join again with the resume token on a fresh connection
      // (this one is in the room already) to get a new snapshot.
      this.connect('reconnecting');
      return;
    }
    const next = applyEvent(room, msg.event, msg.seq, msg.time);
    const self = this.snapshot.self;
    const ev = msg.event;
    if (self && ev.kind === 'role_changed' && ev.member_id === self.id && ev.role !== self.role) {
      // No longer a facilitator: the pending list is not this member's to see.
      const pending = isFacilitatorRole(ev.role) ? {} : { pendingPrompts: [] };
      this.update({ room: next, self: { ...self, role: ev.role }, ...pending });
    } else {
      this.update({ room: next });
    }
    for (const fn of this.eventListeners) fn(msg.event, next, room);
  }

  // ------------------------------------------------------------ state

  private update(patch: Partial<ConnectionSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...patch };
    for (const fn of [...this.listeners]) fn();
  }
}
