import { beforeEach, describe, expect, it } from 'vitest';
import {
  BACKOFF_MAX_MS,
  Connection,
  EPHEMERAL_INTERVAL_MS,
  PING_INTERVAL_MS,
  STARTUP_PING_GAP_MS,
  applyEvent,
  backoffDelay,
  defaultSocketUrl,
  type SocketLike,
  type Timers,
} from './connection';
import { checkCommand } from './protocol';
import { emptyRoom } from './room-state';
import { MemoryStorage, storageKeys } from './storage';

const ROOM = 'abcdefghjkmnpqrs';

class FakeSocket implements SocketLike {
  readyState = 0;
  onopen: SocketLike['onopen'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  sent: string[] = [];
  closedWith: { code?: number; reason?: string } | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    // Every frame the client sends must pass the server's strict decoder.
    const check = checkCommand(data);
    if (!check.ok) throw new Error(`client sent an invalid frame: ${data} (${check.code})`);
    this.sent.push(data);
  }
  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = 3;
  }

  // test helpers
  open(protocol = 1): void {
    this.readyState = 1;
    this.onopen?.({});
    this.receive({ type: 'welcome', protocol, server: 'colloquy/test', server_time: 1, max_frame_bytes: 65536 });
  }
  receive(msg: object): void {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
  serverClose(code: number, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  commands(): Array<Record<string, unknown>> {
    return this.sent.map((s) => JSON.parse(s) as Record<string, unknown>);
  }
  last(): Record<string, unknown> {
    const all = this.commands();
    return all[all.length - 1]!;
  }
}

class FakeTimers implements Timers {
  now = 0;
  private nextHandle = 1;
  private tasks = new Map<number, { at: number; fn: () => void; every?: number }>();

  setTimeout(fn: () => void, ms: number): unknown {
    const h = this.nextHandle++;
    this.tasks.set(h, { at: this.now + ms, fn });
    return h;
  }
  clearTimeout(h: unknown): void {
    this.tasks.delete(h as number);
  }
  setInterval(fn: () => void, ms: number): unknown {
    const h = this.nextHandle++;
    this.tasks.set(h, { at: this.now + ms, fn, every: ms });
    return h;
  }
  clearInterval(h: unknown): void {
    this.tasks.delete(h as number);
  }
  /** Pending one-shot delays, for asserting the backoff. */
  pendingTimeouts(): number[] {
    return [...this.tasks.values()].filter((t) => t.every === undefined).map((t) => t.at - this.now);
  }
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void; every?: number }] | undefined;
      for (const entry of this.tasks) {
        if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      }
      if (!next) break;
      const [h, task] = next;
      this.now = task.at;
      if (task.every !== undefined) task.at += task.every;
      else this.tasks.delete(h);
      task.fn();
    }
    this.now = end;
  }
}

function joinReply(id: unknown, opts: { seq?: number; token?: string; self?: string; role?: string } = {}) {
  const self = opts.self ?? 'm2';
  return {
    type: 'reply',
    id,
    result: {
      member: { id: self, name: 'Ada', role: opts.role ?? 'participant' },
      resume_token: opts.token ?? 'TOKEN',
      snapshot: {
        room: ROOM,
        seq: opts.seq ?? 3,
        title: 'Spring cohort',
        members: [
          { id: 'm1', name: 'Grace', role: 'facilitator', presence: 'online' },
          { id: self, name: 'Ada', role: opts.role ?? 'participant', presence: 'online' },
        ],
      },
    },
  };
}

function event(seq: number, body: object) {
  return { type: 'event', room: ROOM, seq, time: 1000 + seq, event: body };
}

let storage: MemoryStorage;
let timers: FakeTimers;
let sockets: FakeSocket[];

function make(random = () => 0.5): Connection {
  return new Connection({
    roomId: ROOM,
    storage,
    url: 'ws://example.test/ws',
    createSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    timers,
    random,
    now: () => timers.now,
  });
}

function lastSocket(): FakeSocket {
  return sockets[sockets.length - 1]!;
}

/** Joins as `name` with a join code and opens the socket: the join is sent, its reply not yet received. */
function joinOpened(name: string): { c: Connection; s: FakeSocket } {
  storage.setItem(storageKeys.code(ROOM), 'c0de');
  const c = make();
  c.join(name);
  const s = lastSocket();
  s.open();
  return { c, s };
}

/** Joins with a join code and returns the connection, online at seq 3. */
function joinedConnection(): Connection {
  const { c, s } = joinOpened('  Ada  ');
  s.receive(joinReply(s.last().id));
  return c;
}

beforeEach(() => {
  storage = new MemoryStorage();
  timers = new FakeTimers();
  sockets = [];
});

describe('socket URL', () => {
  it('uses ws: for http and wss: for https, on the page host', () => {
    expect(defaultSocketUrl({ protocol: 'http:', host: 'localhost:8080' })).toBe('ws://localhost:8080/ws');
    expect(defaultSocketUrl({ protocol: 'https:', host: 'colloquy.example' })).toBe('wss://colloquy.example/ws');
  });
});

describe('joining', () => {
  it('waits for welcome, then joins with the code and a trimmed name, and stores the resume token', () => {
    storage.setItem(storageKeys.code(ROOM), 'c0de');
    const c = make();
    expect(c.getSnapshot().credential).toBe('secret');
    c.join('  Ada  ');
    expect(c.getSnapshot().state).toBe('connecting');
    const s = lastSocket();
    expect(s.url).toBe('ws://example.test/ws');
    expect(s.sent).toHaveLength(0); // nothing before welcome
    s.open();
    expect(s.commands()).toEqual([{ type: 'join', id: '1', room: ROOM, code: 'c0de', name: 'Ada' }]);
    s.receive(joinReply('1'));
    const snap = c.getSnapshot();
    expect(snap.state).toBe('online');
    expect(snap.self).toEqual({ id: 'm2', name: 'Ada', role: 'participant' });
    expect(snap.room?.title).toBe('Spring cohort');
    expect(snap.room?.seq).toBe(3);
    expect(snap.room?.members.map((m) => [m.id, m.presence])).toEqual([
      ['m1', 'online'],
      ['m2', 'online'],
    ]);
    expect(storage.getItem(storageKeys.resume(ROOM))).toBe('TOKEN');
  });

  it('joins as facilitator with the key', () => {
    storage.setItem(storageKeys.key(ROOM), 'k3y');
    const c = make();
    c.join('Grace');
    lastSocket().open();
    expect(lastSocket().last()).toMatchObject({ type: 'join', room: ROOM, key: 'k3y', name: 'Grace' });
    expect(lastSocket().last()).not.toHaveProperty('code');
    expect(c.getSnapshot().state).toBe('connecting');
  });

  it('rejoins after a reload with the resume token and no name', () => {
    storage.setItem(storageKeys.code(ROOM), 'c0de');
    storage.setItem(storageKeys.resume(ROOM), 'TOKEN');
    const c = make();
    expect(c.hasResumeToken()).toBe(true);
    c.start();
    lastSocket().open();
    expect(lastSocket().commands()).toEqual([{ type: 'join', id: '1', room: ROOM, resume: 'TOKEN' }]);
    lastSocket().receive(joinReply('1'));
    expect(c.getSnapshot().state).toBe('online');
  });

  it('stays idle on start() without a resume token (the view asks for a name)', () => {
    storage.setItem(storageKeys.code(ROOM), 'c0de');
    const c = make();
    c.start();
    expect(c.getSnapshot().state).toBe('idle');
    expect(sockets).toHaveLength(0);
  });

  it('reports credential "none" when the tab holds no secret', () => {
    const c = make();
    expect(c.getSnapshot().credential).toBe('none');
    expect(c.hasSecret()).toBe(false);
  });

  it('rejects an invalid name locally without sending', () => {
    storage.setItem(storageKeys.code(ROOM), 'c0de');
    const c = make();
    c.join('   ');
    expect(c.getSnapshot().lastError?.code).toBe('invalid_name');
    expect(sockets).toHaveLength(0);
  });

  it('shows a server invalid_name error and retries on the same connection', () => {
    const { c, s } = joinOpened('Ada');
    s.receive({ type: 'error', id: s.last().id, code: 'invalid_name', message: 'bad name' });
    expect(c.getSnapshot().state).toBe('idle');
    expect(c.getSnapshot().lastError?.code).toBe('invalid_name');
    c.join('Ada L');
    expect(sockets).toHaveLength(1);
    expect(s.last()).toMatchObject({ type: 'join', code: 'c0de', name: 'Ada L' });
    s.receive(joinReply(s.last().id));
    expect(c.getSnapshot().state).toBe('online');
    expect(c.getSnapshot().lastError).toBeNull();
  });

  it('fails without retrying on bad_credentials with a code', () => {
    storage.setItem(storageKeys.code(ROOM), 'wrong');
    const c = make();
    c.join('Ada');
    lastSocket().open();
    lastSocket().receive({ type: 'error', id: lastSocket().last().id, code: 'bad_credentials', message: 'no' });
    expect(c.getSnapshot().state).toBe('failed');
    expect(c.getSnapshot().lastError?.code).toBe('bad_credentials');
    expect(lastSocket().closedWith).not.toBeNull();
    timers.advance(60_000);
    expect(sockets).toHaveLength(1);
  });

  it('fails without retrying on room_not_found and drops the resume token', () => {
    storage.setItem(storageKeys.resume(ROOM), 'TOKEN');
    const c = make();
    c.start();
    lastSocket().open();
    lastSocket().receive({ type: 'error', id: '1', code: 'room_not_found', message: 'no room' });
    expect(c.getSnapshot().state).toBe('failed');
    expect(storage.getItem(storageKeys.resume(ROOM))).toBeNull();
    timers.advance(60_000);
    expect(sockets).toHaveLength(1);
  });

  it('drops a rejected resume token and falls back to the key (asking for a name, saying why)', () => {
    storage.setItem(storageKeys.key(ROOM), 'k3y');
    storage.setItem(storageKeys.resume(ROOM), 'OLD');
    const c = make();
    c.start();
    const s = lastSocket();
    s.open();
    s.receive({ type: 'error', id: '1', code: 'bad_credentials', message: 'no' });
    expect(storage.getItem(storageKeys.resume(ROOM))).toBeNull();
    expect(c.getSnapshot().state).toBe('idle');
    expect(c.getSnapshot().credential).toBe('secret');
    expect(c.getSnapshot().lastError?.code).toBe('resume_refused');
    expect(storage.getItem(storageKeys.key(ROOM))).toBe('k3y');
    c.join('Grace');
    lastSocket().open();
    expect(lastSocket().last()).toMatchObject({ type: 'join', key: 'k3y', name: 'Grace' });
  });

  it('never joins as a new member by itself when a token it held is refused on a reconnect', () => {
    // Removed while away: a stale tab must not bring a second "Ada" back into the room.
    const c = joinedConnection();
    lastSocket().serverClose(1006);
    timers.advance(20_000);
    lastSocket().open();
    expect(lastSocket().last()).toMatchObject({ type: 'join', resume: 'TOKEN' });
    lastSocket().receive({ type: 'error', id: lastSocket().last().id, code: 'bad_credentials', message: 'no' });
    expect(c.getSnapshot().state).toBe('idle');
    expect(c.getSnapshot().lastError?.code).toBe('resume_refused');
    const before = sockets.length;
    timers.advance(600_000);
    expect(sockets).toHaveLength(before);
    expect(sockets.flatMap((x) => x.commands()).filter((f) => f.type === 'join' && 'name' in f)).toHaveLength(1);
  });

  it('drops a rejected resume token and fails when there is no key or code', () => {
    storage.setItem(storageKeys.resume(ROOM), 'OLD');
    const c = make();
    c.start();
    lastSocket().open();
    lastSocket().receive({ type: 'error', id: '1', code: 'bad_credentials', message: 'no' });
    expect(storage.getItem(storageKeys.resume(ROOM))).toBeNull();
    expect(c.getSnapshot().state).toBe('failed');
    expect(c.getSnapshot().lastError?.code).toBe('identity_lost');
  });

  it('forgets a join code the server refuses, and everything of a room that is gone', () => {
    storage.setItem(storageKeys.code(ROOM), 'wrong');
    let c = make();
    c.join('Ada');
    lastSocket().open();
    lastSocket().receive({ type: 'error', id: lastSocket().last().id, code: 'bad_credentials', message: 'no' });
    expect(storage.getItem(storageKeys.code(ROOM))).toBeNull();
    expect(c.getSnapshot().credential).toBe('none');

    for (const key of [storageKeys.key, storageKeys.code, storageKeys.resume, storageKeys.self, storageKeys.invite, storageKeys.votes]) {
      storage.setItem(key(ROOM), 'x');
    }
    storage.setItem(storageKeys.code('another-room'), 'keep');
    c = make();
    c.start();
    lastSocket().open();
    lastSocket().receive({ type: 'error', id: lastSocket().last().id, code: 'room_not_found', message: 'no room' });
    for (const key of Object.values(storageKeys)) expect(storage.getItem(key(ROOM)), key(ROOM)).toBeNull();
    expect(storage.getItem(storageKeys.code('another-room'))).toBe('keep');
  });

  it('shows update_required and sends nothing when the protocol major differs', () => {
    storage.setItem(storageKeys.resume(ROOM), 'TOKEN');
    const c = make();
    c.start();
    lastSocket().open(2);
    expect(c.getSnapshot().state).toBe('update_required');
    expect(lastSocket().sent).toHaveLength(0);
    timers.advance(60_000);
    expect(sockets).toHaveLength(1);
  });
});

describe('events', () => {
  it('applies events in order: joined, connection lost, back, left', () => {
    const c = joinedConnection();
    const s = lastSocket();
    const seen: string[] = [];
    c.onRoomEvent((e) => seen.push(e.kind));
    s.receive(event(4, { kind: 'member_joined', member: { id: 'm3', name: 'Lin', role: 'participant' } }));
    expect(c.getSnapshot().room?.members.find((m) => m.id === 'm3')).toEqual({
      id: 'm3',
      name: 'Lin',
      role: 'participant',
      presence: 'online',
      airtime_ms: 0,
      hand: false,
    });
    s.receive(event(5, { kind: 'member_connection_lost', member_id: 'm3' }));
    expect(c.getSnapshot().room?.members.find((m) => m.id === 'm3')?.presence).toBe('away');
    s.receive(event(6, { kind: 'member_back', member_id: 'm3' }));
    expect(c.getSnapshot().room?.members.find((m) => m.id === 'm3')?.presence).toBe('online');
    s.receive(event(7, { kind: 'member_left', member_id: 'm3' }));
    expect(c.getSnapshot().room?.members.find((m) => m.id === 'm3')?.presence).toBe('left');
    expect(c.getSnapshot().room?.seq).toBe(7);
    expect(seen).toEqual(['member_joined', 'member_connection_lost', 'member_back', 'member_left']);
    expect(sockets).toHaveLength(1);
  });

  it('advances seq over an unknown event kind without changing the room', () => {
    const c = joinedConnection();
    const before = c.getSnapshot().room!.members;
    lastSocket().receive(event(4, { kind: 'from_the_future', x: 1 }));
    expect(c.getSnapshot().room?.seq).toBe(4);
    expect(c.getSnapshot().room?.members).toEqual(before);
    lastSocket().receive(event(5, { kind: 'member_left', member_id: 'm1' }));
    expect(c.getSnapshot().room?.seq).toBe(5);
  });

  it('ignores events already in the snapshot and malformed frames', () => {
    const c = joinedConnection();
    lastSocket().receive(event(3, { kind: 'member_left', member_id: 'm1' }));
    lastSocket().onmessage?.({ data: '{nope' });
    lastSocket().receive({ type: 'gossip' });
    expect(c.getSnapshot().room?.seq).toBe(3);
    expect(c.getSnapshot().room?.members[0]?.presence).toBe('online');
    expect(c.getSnapshot().state).toBe('online');
  });

  it('on a gap, joins again with the resume token on a fresh connection and takes the new snapshot', () => {
    const c = joinedConnection();
    const first = lastSocket();
    first.receive(event(5, { kind: 'member_left', member_id: 'm1' })); // 4 is missing
    expect(c.getSnapshot().room?.seq).toBe(3); // not applied
    expect(first.closedWith).not.toBeNull();
    expect(sockets).toHaveLength(2);
    const second = lastSocket();
    second.open();
    // It asks for what it missed after the last seq it applied.
    expect(second.commands()).toEqual([{ type: 'join', id: second.last().id, room: ROOM, resume: 'TOKEN', after: 3 }]);
    second.receive(joinReply(second.last().id, { seq: 5 }));
    expect(c.getSnapshot().state).toBe('online');
    expect(c.getSnapshot().room?.seq).toBe(5);
    second.receive(event(6, { kind: 'member_connection_lost', member_id: 'm1' }));
    expect(c.getSnapshot().room?.members[0]?.presence).toBe('away');
  });

  it('while groups are open, a participant takes a skipped seq as another group\'s own event, not a gap', () => {
    const c = joinedConnection();
    const flags = { done: false, more_time: false, help: false };
    lastSocket().receive(
      event(4, { kind: 'groups_opened', groups: [{ id: 'g1', members: ['m2'], ...flags }, { id: 'g2', members: ['m1'], ...flags }], method: 'fresh', ends_at: null }),
    );
    // 5 was g2's flag (not sent to m2): 6 follows on the same connection.
    lastSocket().receive(event(6, { kind: 'groups_message', text: 'Two minutes' }));
    expect(sockets).toHaveLength(1);
    expect(c.getSnapshot().room?.seq).toBe(6);
    expect(c.getSnapshot().room?.groups?.message).toBe('Two minutes');
    // Once the groups close, a gap is a gap again.
    lastSocket().receive(event(7, { kind: 'groups_closed', reason: 'closed' }));
    lastSocket().receive(event(9, { kind: 'member_left', member_id: 'm1' }));
    expect(sockets).toHaveLength(2);
  });

  it('tells listeners the room before and after: each event, and each snapshot (first join: none before)', () => {
    const { c, s } = joinOpened('Ada');
    const snapshots: [number, number | null][] = [];
    c.onRoomSnapshot((after, before) => snapshots.push([after.seq, before?.seq ?? null]));
    const events: [string, number, number][] = [];
    c.onRoomEvent((e, after, before) => events.push([e.kind, before.seq, after.seq]));
    s.receive(joinReply(s.last().id));
    expect(snapshots).toEqual([[3, null]]);
    s.receive(event(4, { kind: 'member_connection_lost', member_id: 'm1' }));
    expect(events).toEqual([['member_connection_lost', 3, 4]]);
    s.receive(event(6, { kind: 'member_back', member_id: 'm1' })); // a gap: a fresh snapshot follows
    const second = lastSocket();
    second.open();
    second.receive(joinReply(second.last().id, { seq: 6 }));
    expect(snapshots).toEqual([
      [3, null],
      [6, 4],
    ]);
    expect(events).toHaveLength(1);
  });

  it('catches up by replay: keeps the room and applies the missed events that follow the reply', () => {
    const c = joinedConnection();
    lastSocket().serverClose(1006);
    timers.advance(500);
    const s = lastSocket();
    s.open();
    expect(s.last()).toMatchObject({ type: 'join', resume: 'TOKEN', after: 3 });
    s.receive({
      type: 'reply',
      id: s.last().id,
      result: { member: { id: 'm2', name: 'Ada', role: 'participant' }, resume_token: 'TOKEN', replay: { after: 3, events: 2 } },
    });
    expect(c.getSnapshot().state).toBe('online');
    expect(c.getSnapshot().room?.seq).toBe(3);
    s.receive(event(4, { kind: 'member_connection_lost', member_id: 'm2' }));
    s.receive(event(5, { kind: 'member_back', member_id: 'm2' }));
    expect(c.getSnapshot().room?.seq).toBe(5);
    expect(c.getSnapshot().room?.members.map((m) => m.presence)).toEqual(['online', 'online']);
    expect(sockets).toHaveLength(2);
  });

  it('a replay from another position than asked starts over with a fresh snapshot', () => {
    const c = joinedConnection();
    lastSocket().serverClose(1006);
    timers.advance(500);
    const s = lastSocket();
    s.open();
    s.receive({
      type: 'reply',
      id: s.last().id,
      result: { member: { id: 'm2', name: 'Ada', role: 'participant' }, resume_token: 'TOKEN', replay: { after: 1, events: 4 } },
    });
    expect(sockets).toHaveLength(3);
    const fresh = lastSocket();
    fresh.open();
    expect(fresh.last()).toEqual({ type: 'join', id: fresh.last().id, room: ROOM, resume: 'TOKEN' });
    fresh.receive(joinReply(fresh.last().id, { seq: 9 }));
    expect(c.getSnapshot().room?.seq).toBe(9);
  });

  it('applyEvent is pure', () => {
    const room = { ...emptyRoom(ROOM, 'T'), seq: 1 };
    const next = applyEvent(room, { kind: 'member_joined', member: { id: 'm1', name: 'A', role: 'facilitator' } }, 2);
    expect(room.members).toHaveLength(0);
    expect(next.members).toHaveLength(1);
    expect(next.seq).toBe(2);
  });
});

describe('reconnecting', () => {
  it('reconnects after an unexpected close with backoff and resumes with the token', () => {
    const c = joinedConnection();
    lastSocket().serverClose(1006);
    expect(c.getSnapshot().state).toBe('reconnecting');
    expect(sockets).toHaveLength(1);
    // random() = 0.5 means no jitter: first delay 500 ms.
    expect(timers.pendingTimeouts()).toEqual([500]);
    timers.advance(499);
    expect(sockets).toHaveLength(1);
    timers.advance(1);
    expect(sockets).toHaveLength(2);
    // The second attempt fails too: the delay doubles.
    lastSocket().serverClose(1006);
    expect(timers.pendingTimeouts()).toEqual([1000]);
    timers.advance(1000);
    expect(sockets).toHaveLength(3);
    const s = lastSocket();
    s.open();
    expect(s.commands()).toEqual([{ type: 'join', id: s.last().id, room: ROOM, resume: 'TOKEN', after: 3 }]);
    s.receive(joinReply(s.last().id, { seq: 4 }));
    expect(c.getSnapshot().state).toBe('online');
    // Success resets the backoff.
    s.serverClose(1001, 'server_shutdown');
    expect(timers.pendingTimeouts()).toEqual([500]);
  });

  it('reconnects after 4001 slow_consumer too', () => {
    const c = joinedConnection();
    lastSocket().serverClose(4001, 'slow_consumer');
    expect(c.getSnapshot().state).toBe('reconnecting');
    timers.advance(10_000);
    expect(sockets).toHaveLength(2);
  });

  it('does not reconnect after close code 4000 (replaced) until asked', () => {
    const c = joinedConnection();
    lastSocket().serverClose(4000, 'replaced');
    expect(c.getSnapshot().state).toBe('replaced');
    timers.advance(120_000);
    expect(sockets).toHaveLength(1);
    c.useHere();
    expect(sockets).toHaveLength(2);
    lastSocket().open();
    expect(lastSocket().last()).toMatchObject({ type: 'join', resume: 'TOKEN' });
  });

  it.each([
    { code: 4003, reason: 'removed', event: { kind: 'member_removed', member_id: 'm2' }, state: 'removed' },
    { code: 4004, reason: 'room_closed', event: { kind: 'room_closed' }, state: 'closed' },
  ])('after $code $reason says so, forgets the resume token and never reconnects (1.5)', ({ code, reason, event: body, state }) => {
    const c = joinedConnection();
    expect(storage.getItem(storageKeys.resume(ROOM))).toBe('TOKEN');
    lastSocket().receive(event(4, body));
    expect(c.getSnapshot().room?.seq).toBe(4);
    if (code === 4003) expect(c.getSnapshot().room?.members.find((m) => m.id === 'm2')?.presence).toBe('left');
    lastSocket().serverClose(code, reason);
    expect(c.getSnapshot().state).toBe(state);
    expect(c.getSnapshot().lastError?.code).toBe(reason);
    expect(storage.getItem(storageKeys.resume(ROOM))).toBeNull();
    // Removed: the invitation stays (a wrong name may join again, as a new member); closed: all goes.
    expect(storage.getItem(storageKeys.code(ROOM))).toBe(code === 4003 ? 'c0de' : null);
    timers.advance(600_000);
    expect(sockets).toHaveLength(1);
  });

  it('sends member_remove and room_close as the server decodes them (1.5)', () => {
    const c = joinedConnection();
    void c.removeMember('m1');
    expect(lastSocket().last()).toMatchObject({ type: 'member_remove', member: 'm1' });
    void c.closeRoom();
    expect(lastSocket().last()).toMatchObject({ type: 'room_close' });
  });

  it('after 4002 join_timeout (a name prompt left waiting) stays idle, and the next join connects again', () => {
    const { c, s } = joinOpened('Ada');
    s.receive({ type: 'error', id: s.last().id, code: 'invalid_name', message: 'bad name' });
    s.serverClose(4002, 'join_timeout');
    expect(c.getSnapshot().state).toBe('idle');
    timers.advance(120_000);
    expect(sockets).toHaveLength(1); // no reconnect loop
    c.join('Ada L');
    expect(sockets).toHaveLength(2);
    lastSocket().open();
    expect(lastSocket().last()).toMatchObject({ type: 'join', code: 'c0de', name: 'Ada L' });
  });

  it('backoff doubles from 0.5 s to at most 10 s with ±30 % jitter', () => {
    expect(backoffDelay(0, () => 0.5)).toBe(500);
    expect(backoffDelay(1, () => 0.5)).toBe(1000);
    expect(backoffDelay(4, () => 0.5)).toBe(8000);
    expect(backoffDelay(5, () => 0.5)).toBe(BACKOFF_MAX_MS);
    expect(backoffDelay(30, () => 0.5)).toBe(BACKOFF_MAX_MS);
    expect(backoffDelay(0, () => 0)).toBe(350);
    expect(backoffDelay(0, () => 0.999999)).toBe(650);
    expect(backoffDelay(10, () => 0.999999)).toBe(13000);
  });
});

describe('keep-alive and leaving', () => {
  it('pings every 25 s with increasing string ids', () => {
    const c = joinedConnection();
    const s = lastSocket();
    timers.advance(PING_INTERVAL_MS);
    timers.advance(PING_INTERVAL_MS);
    const pings = s.commands().filter((m) => m.type === 'ping');
    // 3 right after joining (clock offset), then one every 25 s.
    expect(pings).toHaveLength(5);
    const ids = pings.map((p) => Number(p.id));
    expect(ids[1]!).toBeGreaterThan(ids[0]!);
    s.receive({ type: 'reply', id: pings[0]!.id, result: { server_time: 5 } });
    expect(c.getSnapshot().state).toBe('online');
  });

  it('leave() sends leave, closes, forgets the token and does not reconnect', () => {
    const c = joinedConnection();
    const s = lastSocket();
    const pingsBefore = s.commands().filter((m) => m.type === 'ping').length;
    c.leave();
    expect(s.last()).toMatchObject({ type: 'leave' });
    expect(c.getSnapshot().state).toBe('left');
    expect(storage.getItem(storageKeys.resume(ROOM))).toBeNull();
    s.receive({ type: 'reply', id: s.last().id, result: {} });
    expect(s.closedWith).not.toBeNull();
    timers.advance(120_000);
    expect(sockets).toHaveLength(1);
    expect(s.commands().filter((m) => m.type === 'ping')).toHaveLength(pingsBefore);
  });

  it('leave() closes after a timeout when the server does not answer', () => {
    const c = joinedConnection();
    const s = lastSocket();
    c.leave();
    expect(s.closedWith).toBeNull();
    timers.advance(2_000);
    expect(s.closedWith).not.toBeNull();
    expect(c.getSnapshot().state).toBe('left');
  });

  it('can join again after leaving, as a new member with the code', () => {
    const c = joinedConnection();
    c.leave();
    lastSocket().receive({ type: 'reply', id: lastSocket().last().id, result: {} });
    c.join('Ada');
    lastSocket().open();
    expect(lastSocket().last()).toMatchObject({ type: 'join', code: 'c0de', name: 'Ada' });
    lastSocket().receive(joinReply(lastSocket().last().id, { self: 'm3', seq: 6, token: 'NEW' }));
    expect(c.getSnapshot().state).toBe('online');
    expect(storage.getItem(storageKeys.resume(ROOM))).toBe('NEW');
  });
});

describe('clock offset', () => {
  it('estimates from welcome, then from the fastest of the pings sent right after joining', () => {
    timers.now = 10_000;
    const { c, s } = joinOpened('Ada'); // welcome.server_time = 1, received at local 10 000
    expect(c.serverOffsetMs).toBe(1 - 10_000);
    s.receive(joinReply(s.last().id));
    // 3 pings: at once, then 200 ms apart.
    const sendTimes: number[] = [];
    let pings = s.commands().filter((m) => m.type === 'ping');
    expect(pings).toHaveLength(1);
    sendTimes.push(timers.now);
    timers.advance(STARTUP_PING_GAP_MS);
    sendTimes.push(timers.now);
    timers.advance(STARTUP_PING_GAP_MS);
    sendTimes.push(timers.now);
    pings = s.commands().filter((m) => m.type === 'ping');
    expect(pings).toHaveLength(3);
    timers.advance(1_000);
    expect(s.commands().filter((m) => m.type === 'ping')).toHaveLength(3);

    // Replies arrive now (local 11 400): round trips 1 400, 1 200, 1 000 ms.
    const now = timers.now;
    s.receive({ type: 'reply', id: pings[0]!.id, result: { server_time: 50_000 } });
    expect(c.serverOffsetMs).toBe(50_000 - (sendTimes[0]! + now) / 2);
    s.receive({ type: 'reply', id: pings[2]!.id, result: { server_time: 60_000 } });
    const best = 60_000 - (sendTimes[2]! + now) / 2;
    expect(c.serverOffsetMs).toBe(best);
    // A slower round trip does not replace it.
    s.receive({ type: 'reply', id: pings[1]!.id, result: { server_time: 99_000 } });
    expect(c.serverOffsetMs).toBe(best);
    expect(c.serverNow()).toBe(timers.now + best);
    timers.advance(5_000);
    expect(c.serverNow()).toBe(timers.now + best);
  });

  it('keeps pinging every 25 s and uses those replies too', () => {
    const c = joinedConnection();
    const s = lastSocket();
    timers.advance(PING_INTERVAL_MS);
    const ping = s.commands().filter((m) => m.type === 'ping').pop()!;
    const sent = timers.now;
    timers.advance(4);
    s.receive({ type: 'reply', id: ping.id, result: { server_time: sent + 2 + 777 } });
    expect(c.serverOffsetMs).toBe(777);
  });

  it('starts over on a new connection', () => {
    const c = joinedConnection();
    const s = lastSocket();
    const ping = s.commands().find((m) => m.type === 'ping')!;
    s.receive({ type: 'reply', id: ping.id, result: { server_time: 123_456 } });
    expect(c.serverOffsetMs).toBe(123_456 - timers.now);
    s.serverClose(1006);
    timers.advance(1_000);
    lastSocket().open(); // welcome server_time 1
    expect(c.serverOffsetMs).toBe(1 - timers.now);
  });
});

describe('live-round commands', () => {
  it('sends each helper as a valid command (FakeSocket checks every frame)', () => {
    const c = joinedConnection();
    const s = lastSocket();
    void c.setRole('m1', 'co_facilitator');
    void c.handOver('m1');
    void c.claimFacilitation();
    void c.setAirtimeVisibility('facilitators');
    void c.startRound('shuffle', 120, false);
    void c.startRound(['m1', 'm2'], 60);
    void c.finishTurn();
    void c.passTurn();
    void c.skipTurn();
    void c.moveLater('m1');
    void c.endRound();
    void c.raiseHand();
    void c.lowerHand();
    void c.lowerHand('m1');
    void c.giveFloor();
    void c.giveFloor('m1');
    void c.releaseFloor();
    void c.floorSettings(null, true, false);
    void c.floorSettings(90, false, true);
    void c.startTimer('phase', 900);
    void c.extendTimer('turn', 60);
    void c.extendTimer('turn', -30);
    void c.timerAction('phase', 'pause');
    void c.timerAction('phase', 'resume');
    void c.timerAction('phase', 'reset');
    const sent = s.commands().filter((m) => m.type !== 'ping' && m.type !== 'join');
    expect(sent.map((m) => m.type)).toEqual([
      'set_role', 'hand_over', 'claim_facilitation', 'settings', 'round_start', 'round_start', 'round_finish',
      'round_pass', 'round_skip', 'round_later', 'round_end', 'hand_raise', 'hand_lower', 'hand_lower',
      'floor_give', 'floor_give', 'floor_release', 'floor_settings', 'floor_settings', 'timer', 'timer', 'timer',
      'timer', 'timer', 'timer',
    ]);
    expect(sent[4]).toMatchObject({ order: 'shuffle', turn_seconds: 120, auto_advance: false });
    expect(sent[12]).not.toHaveProperty('member');
    expect(sent[22]).toEqual({ type: 'timer', id: sent[22]!.id, timer: 'phase', action: 'pause' });
  });

  it('resolves with the reply, or with the error, which shows as commandError until the next command', async () => {
    const c = joinedConnection();
    const s = lastSocket();
    const p1 = c.raiseHand();
    const id1 = s.last().id;
    s.receive({ type: 'error', id: id1, code: 'hand_already_raised', message: 'your hand is raised already' });
    await expect(p1).resolves.toEqual({ ok: false, code: 'hand_already_raised', message: 'your hand is raised already' });
    expect(c.getSnapshot().commandError).toEqual({ code: 'hand_already_raised', message: 'your hand is raised already' });
    expect(c.getSnapshot().state).toBe('online');
    const p2 = c.lowerHand();
    expect(c.getSnapshot().commandError).toBeNull();
    s.receive({ type: 'reply', id: s.last().id, result: {} });
    await expect(p2).resolves.toEqual({ ok: true, result: {} });
  });

  it('refuses locally when not connected, and settles commands in flight when the connection drops', async () => {
    const c = joinedConnection();
    const s = lastSocket();
    const inFlight = c.endRound();
    s.serverClose(1006);
    await expect(inFlight).resolves.toMatchObject({ ok: false, code: 'not_connected' });
    await expect(c.raiseHand()).resolves.toMatchObject({ ok: false, code: 'not_connected' });
    expect(c.getSnapshot().commandError?.code).toBe('not_connected');
  });

  it('applies 1.2 events with the event time, and follows a change of its own role', () => {
    const c = joinedConnection();
    const s = lastSocket();
    s.receive(event(4, { kind: 'turn_started', member_id: 'm2', mode: 'floor' }));
    expect(c.getSnapshot().room?.turn).toEqual({ member_id: 'm2', mode: 'floor', started_at: 1004, paused_ms: 0 });
    s.receive(event(5, { kind: 'role_changed', member_id: 'm2', role: 'observer' }));
    expect(c.getSnapshot().self?.role).toBe('observer');
    expect(c.getSnapshot().room?.members.find((m) => m.id === 'm2')?.role).toBe('observer');
  });

  it('takes the 1.2 snapshot fields from the join reply', () => {
    const { c, s } = joinOpened('Ada');
    const reply = joinReply(s.last().id) as { result: { snapshot: Record<string, unknown> } };
    reply.result.snapshot.floor = { queue: ['m1'], turn_seconds: 60, auto_advance: true, quieter_first: false };
    reply.result.snapshot.timers = { phase: { state: 'paused', duration_ms: 9000, ends_at: null, remaining_ms: 4000 } };
    s.receive(reply);
    const room = c.getSnapshot().room!;
    expect(room.live).toBe(true);
    expect(room.floor.queue).toEqual(['m1']);
    expect(room.timers.phase.remaining_ms).toBe(4000);
    expect(room.timers.turn.state).toBe('idle');
  });
});

describe('anonymous prompts (1.3)', () => {
  const pending = (prompts: Array<{ id: string; text: string; held: boolean }>, room = ROOM) => ({
    type: 'prompts_pending',
    room,
    prompts,
  });

  /** Joined as facilitator m1 with the key; the join reply received. */
  function facilitator(): { c: Connection; s: FakeSocket } {
    storage.setItem(storageKeys.key(ROOM), 'k3y');
    const c = make();
    c.join('Grace');
    const s = lastSocket();
    s.open();
    s.receive(joinReply(s.last().id, { self: 'm1', role: 'facilitator' }));
    return { c, s };
  }

  it('sends each helper as a valid command (FakeSocket checks every frame)', async () => {
    const c = joinedConnection();
    const s = lastSocket();
    void c.submitPrompt('  Why now?\r\nWhy us?\t ');
    void c.releasePrompts();
    void c.releasePrompts(['p1', 'p2']);
    void c.holdPrompt('p1');
    void c.discardPrompt('p1');
    void c.upvotePrompt('p1');
    void c.posePrompt('p1');
    void c.posePrompt('p1', 'm3');
    const sent = s.commands().filter((m) => m.type !== 'ping' && m.type !== 'join');
    expect(sent.map((m) => m.type)).toEqual([
      'prompt_submit', 'prompt_release', 'prompt_release', 'prompt_hold', 'prompt_discard', 'prompt_upvote',
      'prompt_pose', 'prompt_pose',
    ]);
    expect(sent[0]).toEqual({ type: 'prompt_submit', id: sent[0]!.id, text: 'Why now?\nWhy us?' });
    expect(sent[1]).not.toHaveProperty('prompts');
    expect(sent[2]).toMatchObject({ prompts: ['p1', 'p2'] });
    expect(sent[6]).not.toHaveProperty('member');
    expect(sent[7]).toMatchObject({ prompt: 'p1', member: 'm3' });
  });

  it('does not send an unacceptable prompt: invalid_text shows in the error area', async () => {
    const c = joinedConnection();
    const s = lastSocket();
    const before = s.sent.length;
    await expect(c.submitPrompt('   ')).resolves.toMatchObject({ ok: false, code: 'invalid_text' });
    await expect(c.submitPrompt('x'.repeat(501))).resolves.toMatchObject({ ok: false, code: 'invalid_text' });
    await expect(c.submitPrompt('bell\u0007')).resolves.toMatchObject({ ok: false, code: 'invalid_text' });
    expect(s.sent.length).toBe(before);
    expect(c.getSnapshot().commandError?.code).toBe('invalid_text');
  });

  it('shows a server refusal (rate_limited) in the error area', async () => {
    const c = joinedConnection();
    const s = lastSocket();
    const p = c.submitPrompt('Once more');
    s.receive({ type: 'error', id: s.last().id, code: 'rate_limited', message: 'too many prompts: try again in a minute' });
    await expect(p).resolves.toMatchObject({ ok: false, code: 'rate_limited' });
    expect(c.getSnapshot().commandError).toEqual({ code: 'rate_limited', message: 'too many prompts: try again in a minute' });
  });

  it('a facilitator keeps the pending list; each push replaces it whole', () => {
    const { c, s } = facilitator();
    expect(c.getSnapshot().pendingPrompts).toEqual([]);
    s.receive(pending([{ id: 'p1', text: 'a', held: false }, { id: 'p2', text: 'b', held: false }]));
    expect(c.getSnapshot().pendingPrompts).toEqual([
      { id: 'p1', text: 'a', held: false },
      { id: 'p2', text: 'b', held: false },
    ]);
    s.receive(pending([{ id: 'p2', text: 'b', held: true }]));
    expect(c.getSnapshot().pendingPrompts).toEqual([{ id: 'p2', text: 'b', held: true }]);
    s.receive(pending([]));
    expect(c.getSnapshot().pendingPrompts).toEqual([]);
    // Not an event: the room's seq does not move.
    expect(c.getSnapshot().room?.seq).toBe(3);
  });

  it('ignores a push for another room and a malformed one', () => {
    const { c, s } = facilitator();
    s.receive(pending([{ id: 'p1', text: 'a', held: false }]));
    s.receive(pending([], 'another-room'));
    s.receive({ type: 'prompts_pending', room: ROOM, prompts: [{ id: 'p9', text: 'no held' }] });
    expect(c.getSnapshot().pendingPrompts).toEqual([{ id: 'p1', text: 'a', held: false }]);
  });

  /** Joins as co-facilitator (with a join code) and receives a one-prompt pending list. */
  function coFacilitatorWithList(): { c: Connection; s: FakeSocket } {
    const { c, s } = joinOpened('Ada');
    s.receive(joinReply(s.last().id, { role: 'co_facilitator' }));
    s.receive(pending([{ id: 'p1', text: 'a', held: false }]));
    return { c, s };
  }

  it('a co-facilitator gets the list too', () => {
    const { c } = coFacilitatorWithList();
    expect(c.getSnapshot().pendingPrompts).toHaveLength(1);
  });

  it('participants and observers ignore the push', () => {
    const c = joinedConnection();
    const s = lastSocket();
    s.receive(pending([{ id: 'p1', text: 'a', held: false }]));
    expect(c.getSnapshot().pendingPrompts).toEqual([]);
  });

  it('a push that arrives before the join reply is dropped if the member is not a facilitator', () => {
    const { c, s } = joinOpened('Ada');
    s.receive(pending([{ id: 'p1', text: 'a', held: false }]));
    s.receive(joinReply(s.last().id));
    expect(c.getSnapshot().pendingPrompts).toEqual([]);
  });

  it('a facilitator who becomes a participant loses the list', () => {
    const { c, s } = coFacilitatorWithList();
    s.receive(event(4, { kind: 'role_changed', member_id: 'm2', role: 'participant' }));
    expect(c.getSnapshot().pendingPrompts).toEqual([]);
    s.receive(pending([{ id: 'p1', text: 'a', held: false }]));
    expect(c.getSnapshot().pendingPrompts).toEqual([]);
  });

  it('applies the 1.3 events and reads released prompts from the snapshot', () => {
    const { c, s } = joinOpened('Ada');
    const reply = joinReply(s.last().id) as { result: { snapshot: Record<string, unknown> } };
    reply.result.snapshot.prompts = [{ id: 'p0', text: 'Earlier', votes: 1, posed_to: null }];
    s.receive(reply);
    s.receive(event(4, { kind: 'prompts_released', prompts: [{ id: 'p5', text: 'b' }, { id: 'p2', text: 'a' }] }));
    s.receive(event(5, { kind: 'prompt_upvoted', prompt_id: 'p2', votes: 1 }));
    s.receive(event(6, { kind: 'prompt_posed', prompt_id: 'p5', member_id: 'm2' }));
    expect(c.getSnapshot().room?.prompts).toEqual([
      { id: 'p0', text: 'Earlier', votes: 1, posed_to: null },
      { id: 'p5', text: 'b', votes: 0, posed_to: 'm2' },
      { id: 'p2', text: 'a', votes: 1 },
    ]);
  });

  it('remembers own votes (after the reply or already_voted), across a reconnect, not for another member', async () => {
    const c = joinedConnection();
    const s = lastSocket();
    const v1 = c.upvotePrompt('p1');
    s.receive({ type: 'reply', id: s.last().id, result: {} });
    await v1;
    const v2 = c.upvotePrompt('p2');
    s.receive({ type: 'error', id: s.last().id, code: 'already_voted', message: 'you voted for this prompt already' });
    await v2;
    const v3 = c.upvotePrompt('p3');
    s.receive({ type: 'error', id: s.last().id, code: 'unknown_prompt', message: 'no such prompt' });
    await v3;
    expect(c.getSnapshot().votedPrompts).toEqual(['p1', 'p2']);

    // A page reload: a new Connection resumes as the same member and keeps the votes.
    const again = make();
    again.start();
    const s2 = lastSocket();
    s2.open();
    s2.receive(joinReply(s2.last().id));
    expect(again.getSnapshot().votedPrompts).toEqual(['p1', 'p2']);

    // Another member in this tab (say the token was for m2, now m4 joins): no votes.
    const other = make();
    other.start();
    const s3 = lastSocket();
    s3.open();
    s3.receive(joinReply(s3.last().id, { self: 'm4' }));
    expect(other.getSnapshot().votedPrompts).toEqual([]);
  });

  it('leave() forgets the pending list and the votes', async () => {
    const { c, s } = facilitator();
    s.receive(pending([{ id: 'p1', text: 'a', held: false }]));
    const v = c.upvotePrompt('p9');
    s.receive({ type: 'reply', id: s.last().id, result: {} });
    await v;
    c.leave();
    expect(c.getSnapshot().pendingPrompts).toEqual([]);
    expect(c.getSnapshot().votedPrompts).toEqual([]);
    expect(storage.getItem(storageKeys.votes(ROOM))).toBeNull();
  });
});

describe('climate-for-learning audit (1.3)', () => {
  const items = [
    { id: 'safe_to_disagree', text: 'It is safe to disagree.' },
    { id: 'confidential', text: 'What is said here stays here.' },
  ];
  const full = { safe_to_disagree: 4, confidential: 2 };

  /** Joined as m2 with an open audit "a1" in the snapshot. */
  function withOpenAudit(self = 'm2', id = 'a1'): { c: Connection; s: FakeSocket } {
    const c = make();
    c.start();
    const s = lastSocket();
    s.open();
    const reply = joinReply(s.last().id, { self }) as { result: { snapshot: Record<string, unknown> } };
    reply.result.snapshot.audit = { id, k: 5, items, open: true };
    s.receive(reply);
    return { c, s };
  }

  it('sends open/answer/close as valid commands; the comment is cleaned or left out', async () => {
    storage.setItem(storageKeys.resume(ROOM), 'TOKEN');
    const { c, s } = withOpenAudit();
    void c.openAudit();
    expect(s.last()).toEqual({ type: 'audit_open', id: s.last().id });
    void c.openAudit(7);
    expect(s.last()).toMatchObject({ type: 'audit_open', k: 7 });
    void c.answerAudit({ ...full, extra: 3 }, '  We rush\r\nthe hard parts.\t ');
    expect(s.last()).toMatchObject({ type: 'audit_answer', answers: full, comment: 'We rush\nthe hard parts.' });
    void c.answerAudit(full, ' \n ');
    expect(s.last()).not.toHaveProperty('comment');
    void c.closeAudit();
    expect(s.last()).toEqual({ type: 'audit_close', id: s.last().id });
  });

  it('refuses locally: k out of range, a missing answer, a bad comment, no open audit', async () => {
    storage.setItem(storageKeys.resume(ROOM), 'TOKEN');
    const { c, s } = withOpenAudit();
    const before = s.sent.length;
    expect(await c.openAudit(2)).toMatchObject({ ok: false, code: 'invalid_field' });
    expect(await c.openAudit(51)).toMatchObject({ ok: false, code: 'invalid_field' });
    expect(await c.answerAudit({ safe_to_disagree: 4 })).toMatchObject({ ok: false, code: 'invalid_answer' });
    expect(await c.answerAudit({ ...full, confidential: 6 })).toMatchObject({ ok: false, code: 'invalid_answer' });
    expect(await c.answerAudit(full, 'a\u0007b')).toMatchObject({ ok: false, code: 'invalid_text' });
    expect(c.getSnapshot().commandError?.code).toBe('invalid_text');
    expect(s.sent.length).toBe(before);
    s.receive(event(4, { kind: 'audit_closed', audit_id: 'a1', responses: 1, results: null }));
    expect(await c.answerAudit(full)).toMatchObject({ ok: false, code: 'no_audit' });
    expect(s.sent.length).toBe(before);
  });

  it('remembers an answered audit (after the reply or already_answered), across a reload, not for another member', async () => {
    storage.setItem(storageKeys.resume(ROOM), 'TOKEN');
    const { c, s } = withOpenAudit();
    const a = c.answerAudit(full);
    s.receive({ type: 'error', id: s.last().id, code: 'unavailable', message: 'try again' });
    await a;
    expect(c.getSnapshot().answeredAudits).toEqual([]);
    const b = c.answerAudit(full);
    s.receive({ type: 'reply', id: s.last().id, result: {} });
    await b;
    expect(c.getSnapshot().answeredAudits).toEqual(['a1']);
    expect(JSON.parse(storage.getItem(storageKeys.audits(ROOM))!)).toEqual({ member: 'm2', audits: ['a1'] });

    // Reload as the same member: still answered.
    const again = withOpenAudit();
    expect(again.c.getSnapshot().answeredAudits).toEqual(['a1']);
    // A new audit: the form is back (a2 is not in the list); already_answered also counts.
    const next = withOpenAudit('m2', 'a2');
    const d = next.c.answerAudit(full);
    next.s.receive({ type: 'error', id: next.s.last().id, code: 'already_answered', message: 'you answered already' });
    await d;
    expect(next.c.getSnapshot().answeredAudits).toEqual(['a1', 'a2']);
    // Another member in this tab: nothing answered.
    expect(withOpenAudit('m4').c.getSnapshot().answeredAudits).toEqual([]);
  });

  it('applies audit_opened and audit_closed events', () => {
    const c = joinedConnection();
    const s = lastSocket();
    s.receive(event(4, { kind: 'audit_opened', audit: { id: 'a9', k: 3, items } }));
    expect(c.getSnapshot().room?.audit).toEqual({ id: 'a9', k: 3, items, open: true });
    const results = { items: [{ id: 'safe_to_disagree', counts: [0, 1, 0, 2, 0] }], comments: ['ok'] };
    s.receive(event(5, { kind: 'audit_closed', audit_id: 'a9', responses: 3, results }));
    expect(c.getSnapshot().room?.audit).toEqual({ id: 'a9', k: 3, items, open: false, responses: 3, results });
  });

  it('leave() forgets the answered audits', async () => {
    storage.setItem(storageKeys.resume(ROOM), 'TOKEN');
    storage.setItem(storageKeys.code(ROOM), 'c0de');
    const { c, s } = withOpenAudit();
    const a = c.answerAudit(full);
    s.receive({ type: 'reply', id: s.last().id, result: {} });
    await a;
    c.leave();
    expect(c.getSnapshot().answeredAudits).toEqual([]);
    expect(storage.getItem(storageKeys.audits(ROOM))).toBeNull();
  });
});

describe('challenge deck (1.3)', () => {
  it('sends add/remove/draw as valid commands; the card text is cleaned first', () => {
    const c = joinedConnection();
    const s = lastSocket();
    void c.addCard('  What would your deputy say?\r\nAnd why?\t ');
    expect(s.last()).toEqual({ type: 'deck_add', id: s.last().id, text: 'What would your deputy say?\nAnd why?' });
    void c.removeCard('c3');
    expect(s.last()).toEqual({ type: 'deck_remove', id: s.last().id, card: 'c3' });
    void c.drawCard();
    expect(s.last()).toEqual({ type: 'deck_draw', id: s.last().id });
  });

  it('does not send an unacceptable card: invalid_text shows in the error area', async () => {
    const c = joinedConnection();
    const s = lastSocket();
    const before = s.sent.length;
    await expect(c.addCard(' \n ')).resolves.toMatchObject({ ok: false, code: 'invalid_text' });
    await expect(c.addCard('x'.repeat(501))).resolves.toMatchObject({ ok: false, code: 'invalid_text' });
    await expect(c.addCard('bell\u0007')).resolves.toMatchObject({ ok: false, code: 'invalid_text' });
    expect(s.sent.length).toBe(before);
    expect(c.getSnapshot().commandError?.code).toBe('invalid_text');
  });

  it('shows deck_empty from the server in the error area', async () => {
    const c = joinedConnection();
    const s = lastSocket();
    const p = c.drawCard();
    s.receive({ type: 'error', id: s.last().id, code: 'deck_empty', message: 'the deck has no cards' });
    await expect(p).resolves.toMatchObject({ ok: false, code: 'deck_empty' });
    expect(c.getSnapshot().commandError).toEqual({ code: 'deck_empty', message: 'the deck has no cards' });
  });

  it('applies the deck from the snapshot and its events', () => {
    const c = make();
    storage.setItem(storageKeys.resume(ROOM), 'TOKEN');
    c.start();
    const s = lastSocket();
    s.open();
    const reply = joinReply(s.last().id, { seq: 3 }) as { result: { snapshot: Record<string, unknown> } };
    reply.result.snapshot.deck = { cards: [{ id: 'c1', text: 'One?' }, { id: 'c2', text: 'Two?' }], drawn: ['c1'] };
    s.receive(reply);
    expect(c.getSnapshot().room?.deck).toEqual({ cards: [{ id: 'c1', text: 'One?' }, { id: 'c2', text: 'Two?' }], drawn: ['c1'] });
    s.receive(event(4, { kind: 'deck_card_drawn', card: { id: 'c2', text: 'Two?' } }));
    expect(c.getSnapshot().room?.deck?.drawn).toEqual(['c1', 'c2']);
    s.receive(event(5, { kind: 'deck_changed', cards: [{ id: 'c2', text: 'Two?' }] }));
    expect(c.getSnapshot().room?.deck).toEqual({ cards: [{ id: 'c2', text: 'Two?' }], drawn: ['c2'] });
    // 1.4: deltas.
    s.receive(event(6, { kind: 'deck_card_added', card: { id: 'c3', text: 'Three?' } }));
    s.receive(event(7, { kind: 'deck_card_removed', card_id: 'c2' }));
    expect(c.getSnapshot().room?.deck).toEqual({ cards: [{ id: 'c3', text: 'Three?' }], drawn: [] });
  });
});

describe('the ephemeral channel (1.4)', () => {
  const ephemerals = (s: FakeSocket) => s.commands().filter((m) => m.type === 'ephemeral');

  it('sends a cursor as an ephemeral command that passes the server decoder, with an id of its own', () => {
    const c = joinedConnection();
    const s = lastSocket();
    expect(c.sendEphemeral('cursor', { x: 10, y: 20.5 })).toBe(true);
    const sent = ephemerals(s);
    expect(sent).toEqual([{ type: 'ephemeral', id: 'e1', kind: 'cursor', data: { x: 10, y: 20.5 } }]);
  });

  it('sends nothing before joining or after the socket closed', () => {
    storage.setItem(storageKeys.code(ROOM), 'c0de');
    const c = make();
    expect(c.sendEphemeral('cursor', { x: 1, y: 1 })).toBe(false);
    c.join('Ada');
    lastSocket().open();
    expect(c.sendEphemeral('cursor', { x: 1, y: 1 })).toBe(false);
    expect(ephemerals(lastSocket())).toEqual([]);
  });

  it('sends at most one per interval, the latest position, and nothing after a disconnect', () => {
    const c = joinedConnection();
    const s = lastSocket();
    c.sendEphemeral('cursor', { x: 1, y: 1 });
    c.sendEphemeral('cursor', { x: 2, y: 2 });
    c.sendEphemeral('cursor', { x: 3, y: 3 });
    expect(ephemerals(s).map((m) => m.data)).toEqual([{ x: 1, y: 1 }]);
    timers.advance(EPHEMERAL_INTERVAL_MS - 1);
    expect(ephemerals(s)).toHaveLength(1);
    timers.advance(1);
    expect(ephemerals(s).map((m) => m.data)).toEqual([{ x: 1, y: 1 }, { x: 3, y: 3 }]);
    timers.advance(10 * EPHEMERAL_INTERVAL_MS);
    expect(ephemerals(s)).toHaveLength(2);
    c.sendEphemeral('cursor', { x: 4, y: 4 });
    c.sendEphemeral('cursor', { x: 5, y: 5 });
    s.serverClose(1006);
    timers.advance(EPHEMERAL_INTERVAL_MS);
    expect(ephemerals(s).map((m) => m.data)).toEqual([{ x: 1, y: 1 }, { x: 3, y: 3 }, { x: 4, y: 4 }]);
  });

  it('keeps to 20 a second at most, however often the view calls it', () => {
    const c = joinedConnection();
    const s = lastSocket();
    for (let ms = 0; ms < 1000; ms += 5) {
      c.sendEphemeral('cursor', { x: ms, y: 0 });
      timers.advance(5);
    }
    expect(ephemerals(s).length).toBeLessThanOrEqual(1000 / EPHEMERAL_INTERVAL_MS + 1);
    expect(ephemerals(s).length).toBeGreaterThanOrEqual(1000 / EPHEMERAL_INTERVAL_MS - 1);
  });

  it('delivers other members ephemeral pushes of this room to subscribers, and stops on unsubscribe', () => {
    const c = joinedConnection();
    const s = lastSocket();
    const got: unknown[] = [];
    const off = c.onEphemeral((m) => got.push(m));
    const push = { type: 'ephemeral', room: ROOM, from: 'm1', kind: 'cursor', data: { x: 3, y: 4 } };
    s.receive(push);
    s.receive({ ...push, room: 'another-room' });
    s.receive({ ...push, data: { x: 'a', y: 4 } }); // not a valid frame: ignored
    expect(got).toEqual([push]);
    off();
    s.receive(push);
    expect(got).toHaveLength(1);
    expect(c.getSnapshot().room?.seq).toBe(3); // never part of the room's state
  });

  it('ignores an error the server gives an ephemeral command', () => {
    const c = joinedConnection();
    const s = lastSocket();
    c.sendEphemeral('cursor', { x: 1, y: 1 });
    s.receive({ type: 'error', id: 'e1', code: 'unsupported', message: 'not yet' });
    expect(c.getSnapshot().commandError).toBeNull();
    expect(c.getSnapshot().state).toBe('online');
  });
});

describe('identities that last', () => {
  it('keeps the member for the browser and the tab; a new tab of the browser resumes them', () => {
    const tab = new MemoryStorage();
    const c = new Connection({ roomId: ROOM, storage, tabStorage: tab, url: 'ws://x/ws', createSocket: fakeSocket, timers });
    storage.setItem(storageKeys.code(ROOM), 'c0de');
    c.join('Ada');
    lastSocket().open();
    lastSocket().receive(joinReply(lastSocket().last().id, { token: 'T-ADA' }));
    expect(tab.getItem(storageKeys.resume(ROOM))).toBe('T-ADA');
    expect(storage.getItem(storageKeys.resume(ROOM))).toBe('T-ADA');
    expect(JSON.parse(storage.getItem(storageKeys.self(ROOM))!)).toEqual({ id: 'm2', name: 'Ada', role: 'participant' });
    c.dispose();

    const next = new Connection({ roomId: ROOM, storage, tabStorage: new MemoryStorage(), url: 'ws://x/ws', createSocket: fakeSocket, timers });
    expect(next.hasResumeToken()).toBe(true);
    expect(next.rejoinToken()).toBe('T-ADA');
    next.start();
    lastSocket().open();
    expect(lastSocket().last()).toMatchObject({ type: 'join', resume: 'T-ADA' });
    expect(lastSocket().last()).not.toHaveProperty('name');
  });

  it('"Not you?" forgets the identity, and join() makes a new member whose token the browser keeps', () => {
    const tab = new MemoryStorage();
    storage.setItem(storageKeys.code(ROOM), 'c0de');
    storage.setItem(storageKeys.resume(ROOM), 'T-ADA');
    const c = new Connection({ roomId: ROOM, storage, tabStorage: tab, url: 'ws://x/ws', createSocket: fakeSocket, timers });
    c.forgetIdentity();
    expect(storage.getItem(storageKeys.resume(ROOM))).toBeNull();
    expect(c.getSnapshot().credential).toBe('secret');
    c.join('Bea');
    lastSocket().open();
    expect(lastSocket().last()).toMatchObject({ type: 'join', code: 'c0de', name: 'Bea' });
    lastSocket().receive(joinReply(lastSocket().last().id, { token: 'T-BEA', self: 'm3' }));
    expect(storage.getItem(storageKeys.resume(ROOM))).toBe('T-BEA');
  });

  it('join() asks for a new member even while a token is stored (the token is replaced, not used)', () => {
    storage.setItem(storageKeys.code(ROOM), 'c0de');
    storage.setItem(storageKeys.resume(ROOM), 'T-ADA');
    const c = make();
    c.join('Bea');
    lastSocket().open();
    expect(lastSocket().last()).toMatchObject({ type: 'join', code: 'c0de', name: 'Bea' });
    lastSocket().receive(joinReply(lastSocket().last().id, { token: 'T-BEA', self: 'm3' }));
    // Once in, reconnects resume the new member.
    lastSocket().serverClose(1006);
    timers.advance(20_000);
    lastSocket().open();
    expect(lastSocket().last()).toMatchObject({ type: 'join', resume: 'T-BEA' });
  });

  it('another tab taking the member over (4000) leaves this tab waiting for "Use here"', () => {
    const c = joinedConnection();
    lastSocket().serverClose(4000, 'replaced');
    expect(c.getSnapshot().state).toBe('replaced');
    expect(c.getSnapshot().lastError?.code).toBe('replaced');
    timers.advance(600_000);
    expect(sockets).toHaveLength(1);
    c.useHere();
    lastSocket().open();
    expect(lastSocket().last()).toMatchObject({ type: 'join', resume: 'TOKEN' });
  });
});

function fakeSocket(url: string): FakeSocket {
  const s = new FakeSocket(url);
  sockets.push(s);
  return s;
}
