// The connection manager: one WebSocket to the server, the room as this client knows it, and the
// policy for joining, resuming, resynchronising and reconnecting. No UI code: it is driven by the
// view through subscribe()/getSnapshot() and unit-tested with a fake socket.

import {
  CloseCode,
  MAX_NAME_CHARS,
  PROTOCOL_VERSION,
  cleanDisplayText,
  decodeJoinResult,
  decodeServerMessage,
  type EventMessage,
  type JoinCommand,
  type MemberInfo,
  type Presence,
  type Role,
  type RoomEvent,
} from './protocol';
import { readItem, removeItem, storageKeys, writeItem, type StorageLike } from './storage';

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
  | 'left';

export interface RoomMember {
  id: string;
  name: string;
  role: Role;
  presence: Presence;
}

export interface RoomView {
  id: string;
  title: string;
  seq: number;
  members: RoomMember[];
}

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
  /** What this tab holds to join with. */
  credential: 'resume' | 'secret' | 'none';
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
  storage: StorageLike;
  /** Full WebSocket URL; default: ws(s)://<location.host>/ws. */
  url?: string;
  createSocket?: (url: string) => SocketLike;
  timers?: Timers;
  /** Returns a number in [0, 1); used for backoff jitter. */
  random?: () => number;
  /** Milliseconds between keep-alive pings. */
  pingIntervalMs?: number;
}

/** Reconnect delays: 0.5 s doubling to at most 10 s, each with ±30 % jitter. */
export const BACKOFF_BASE_MS = 500;
export const BACKOFF_MAX_MS = 10_000;
export const BACKOFF_JITTER = 0.3;
export const PING_INTERVAL_MS = 25_000;
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

type Pending = 'join' | 'leave' | 'ping';

export type RoomEventListener = (event: RoomEvent, room: RoomView) => void;

export class Connection {
  readonly roomId: string;
  private readonly storage: StorageLike;
  private readonly url: string;
  private readonly createSocket: (url: string) => SocketLike;
  private readonly timers: Timers;
  private readonly random: () => number;
  private readonly pingIntervalMs: number;

  private socket: SocketLike | null = null;
  private welcomed = false;
  private joined = false;
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  /** Name to join with when using key/code; remembered for a fallback after a rejected resume token. */
  private name: string | null = null;
  /** The credential the join in flight used. */
  private joinCredential: 'resume' | 'secret' | null = null;
  private attempt = 0;
  private reconnectTimer: unknown = null;
  private pingTimer: unknown = null;
  private leaveTimer: unknown = null;
  private wantConnected = false;

  private snapshot: ConnectionSnapshot;
  private readonly listeners = new Set<() => void>();
  private readonly eventListeners = new Set<RoomEventListener>();

  constructor(options: ConnectionOptions) {
    this.roomId = options.roomId;
    this.storage = options.storage;
    this.url = options.url ?? defaultSocketUrl();
    this.createSocket = options.createSocket ?? ((url) => new WebSocket(url) as unknown as SocketLike);
    this.timers = options.timers ?? defaultTimers;
    this.random = options.random ?? Math.random;
    this.pingIntervalMs = options.pingIntervalMs ?? PING_INTERVAL_MS;
    this.snapshot = { state: 'idle', room: null, self: null, lastError: null, credential: this.credential() };
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

  /** True when a stored resume token lets this tab rejoin without asking for a name. */
  hasResumeToken(): boolean {
    return this.resumeToken() !== null;
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

  /** Leaves the room: tells the server, closes, and forgets the resume token. */
  leave(): void {
    removeItem(this.storage, storageKeys.resume(this.roomId));
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
  }

  // ------------------------------------------------------------ credentials

  private resumeToken(): string | null {
    return readItem(this.storage, storageKeys.resume(this.roomId));
  }

  private secret(): { key: string } | { code: string } | null {
    const key = readItem(this.storage, storageKeys.key(this.roomId));
    if (key) return { key };
    const code = readItem(this.storage, storageKeys.code(this.roomId));
    if (code) return { code };
    return null;
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
    const socket = this.socket;
    if (this.leaveTimer !== null) {
      this.timers.clearTimeout(this.leaveTimer);
      this.leaveTimer = null;
    }
    this.stopPing();
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
    this.socket = null;
    this.welcomed = false;
    this.joined = false;
    this.stopPing();
    this.pending.clear();
    if (!this.wantConnected) return;
    if (code === CloseCode.replaced) {
      this.wantConnected = false;
      this.update({
        state: 'replaced',
        lastError: { code: 'replaced', message: 'This session was opened in another tab or window.' },
      });
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
    this.pingTimer = this.timers.setInterval(() => {
      if (this.socket && this.socket.readyState === OPEN && this.welcomed) {
        this.send({ type: 'ping', id: this.newId('ping') });
      }
    }, this.pingIntervalMs);
  }

  private stopPing(): void {
    if (this.pingTimer !== null) {
      this.timers.clearInterval(this.pingTimer);
      this.pingTimer = null;
    }
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
    if (resume) {
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
        this.startPing();
        this.sendJoin();
        return;
      case 'reply': {
        const kind = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (kind === 'join') this.handleJoined(msg.result);
        else if (kind === 'leave') this.dropSocket(1000, 'left');
        return;
      }
      case 'error': {
        const kind = msg.id === null ? undefined : this.pending.get(msg.id);
        if (msg.id !== null) this.pending.delete(msg.id);
        if (kind === 'join') this.handleJoinError(msg.code, msg.message);
        else if (kind === 'leave') this.dropSocket(1000, 'left');
        return;
      }
      case 'event':
        this.handleEvent(msg);
        return;
    }
  }

  private handleJoined(result: unknown): void {
    const joined = decodeJoinResult(result);
    if (!joined) {
      this.update({ state: 'failed', lastError: { code: 'bad_reply', message: 'The server sent an unexpected reply.' } });
      return;
    }
    writeItem(this.storage, storageKeys.resume(this.roomId), joined.resume_token);
    if (joined.replay) {
      const room = this.snapshot.room;
      if (!room || room.seq !== joined.replay.after) {
        // Not the position we asked from (cannot happen with a correct server): start clean.
        this.update({ room: null });
        this.connect('reconnecting');
        return;
      }
      // The room stays as it is; the missed events follow as ordinary pushes, in order.
      this.joined = true;
      this.attempt = 0;
      this.name = joined.member.name;
      this.update({ state: 'online', self: joined.member, lastError: null, credential: 'resume' });
      return;
    }
    this.joined = true;
    this.attempt = 0;
    this.name = joined.member.name;
    const snap = joined.snapshot;
    this.update({
      state: 'online',
      self: joined.member,
      lastError: null,
      credential: 'resume',
      room: {
        id: snap.room,
        title: snap.title,
        seq: snap.seq,
        members: snap.members.map((m) => ({ ...m })),
      },
    });
  }

  private handleJoinError(code: string, message: string): void {
    const usedResume = this.joinCredential === 'resume';
    if (code === 'bad_credentials' && usedResume) {
      // The stored token is no good (the room was recreated, or it expired): forget it and
      // fall back to the key or code if this tab still has one.
      removeItem(this.storage, storageKeys.resume(this.roomId));
      if (this.secret()) {
        if (this.name) {
          this.sendJoin();
        } else {
          this.update({ state: 'idle', credential: this.credential(), lastError: null });
        }
        return;
      }
      this.stopFor('failed', code, message);
      return;
    }
    if (code === 'room_not_found') removeItem(this.storage, storageKeys.resume(this.roomId));
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
    if (msg.seq !== room.seq + 1) {
      // A gap: something was missed. Join again with the resume token on a fresh connection
      // (this one is in the room already) to get a new snapshot.
      this.connect('reconnecting');
      return;
    }
    const next = applyEvent(room, msg.event, msg.seq);
    this.update({ room: next });
    for (const fn of this.eventListeners) fn(msg.event, next);
  }

  // ------------------------------------------------------------ state

  private update(patch: Partial<ConnectionSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...patch };
    for (const fn of [...this.listeners]) fn();
  }
}

/** The room after one event (pure). Unknown kinds change nothing but the seq. */
export function applyEvent(room: RoomView, event: RoomEvent, seq: number): RoomView {
  const setPresence = (id: string, presence: Presence): RoomMember[] =>
    room.members.map((m) => (m.id === id ? { ...m, presence } : m));
  switch (event.kind) {
    case 'room_created':
      return { ...room, seq, title: event.title };
    case 'member_joined': {
      const member: RoomMember = { ...event.member, presence: 'online' };
      const exists = room.members.some((m) => m.id === member.id);
      const members = exists ? room.members.map((m) => (m.id === member.id ? member : m)) : [...room.members, member];
      return { ...room, seq, members };
    }
    case 'member_left':
      return { ...room, seq, members: setPresence(event.member_id, 'left') };
    case 'member_connection_lost':
      return { ...room, seq, members: setPresence(event.member_id, 'away') };
    case 'member_back':
      return { ...room, seq, members: setPresence(event.member_id, 'online') };
    case 'unknown':
      return { ...room, seq };
  }
}
