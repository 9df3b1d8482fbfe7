// The announcer: what is said for events and state changes, the summaries of joins and leaves,
// and the pacing of the live region (fake timers).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ANNOUNCER_LIMITS,
  Announcer,
  composeMessage,
  connectionNote,
  describeEvent,
  describeRoomChange,
  listNames,
  pendingNote,
  summarizePresence,
  thresholdNotes,
  timerLevels,
  type Announcement,
  type PresenceNote,
} from './announcer';
import type { RoomEvent, TimerState } from './protocol';
import type { RoomView } from './room-state';
import { run, testRoom } from './room-state.fixtures';

const roundOf3: RoomEvent = {
  kind: 'round_started',
  round: { id: 1, order: ['m1', 'm2', 'm3'], turn_seconds: 120, auto_advance: true },
};
const turn = (member_id: string): RoomEvent => ({ kind: 'turn_started', member_id, mode: 'round' });
const running = (ends_at: number, duration_ms = 120_000): TimerState => ({ state: 'running', duration_ms, ends_at, remaining_ms: null });

/** Everything said for `events` applied one by one to `start`, as this member, in order. */
function said(start: RoomView, selfId: string, ...events: RoomEvent[]): string[] {
  const out: string[] = [];
  let room = start;
  for (const e of events) {
    const next = run(room, e);
    for (const a of [...describeEvent(e, room, next, selfId), ...describeRoomChange(room, next, selfId)]) {
      out.push('presence' in a ? `[${a.presence} ${a.name}]` : a.text);
    }
    room = next;
  }
  return out;
}

describe('what is said', () => {
  it('a go-round: started, whose turn, "you\'re next" to the one who is, "your turn" to the speaker', () => {
    expect(said(testRoom(), 'm2', roundOf3, turn('m1'))).toEqual(['A go-round has started', "Grace has the floor. You're next"]);
    expect(said(testRoom(), 'm1', roundOf3, turn('m1'))).toEqual(['A go-round has started', "You're next", "It's your turn"]);
    // (The announcer drops the "You're next" still waiting when the turn note comes: see pacing.)
    expect(said(testRoom(), 'm3', roundOf3, turn('m1'))).toEqual(['A go-round has started', 'Grace has the floor']);
  });

  it('a timer that runs out, then the next turn', () => {
    let r = run(testRoom(), roundOf3, turn('m1'));
    r = { ...r, timers: { ...r.timers, turn: running(5000) } };
    const expired: RoomEvent = { kind: 'timer_expired', timer: 'turn' };
    const ended: RoomEvent = { kind: 'turn_ended', member_id: 'm1', outcome: 'spoke', ms: 120_000 };
    expect(said(r, 'm3', expired, ended, turn('m2'))).toEqual(['Time is up', "Ada has the floor. You're next"]);
  });

  it('the same turn seen again (a snapshot after a gap) says nothing; a new one does', () => {
    const a = run(testRoom(), roundOf3, turn('m1'));
    const copy: RoomView = JSON.parse(JSON.stringify(a));
    expect(describeRoomChange(a, copy, 'm3')).toEqual([]);
    const b = run(a, { kind: 'turn_ended', member_id: 'm1', outcome: 'spoke', ms: 1000 }, turn('m2'));
    expect(describeRoomChange(a, b, 'm3').map((n) => n.text)).toEqual(["Ada has the floor. You're next"]);
  });

  it('the first view says nothing, whatever is going on', () => {
    expect(describeRoomChange(null, run(testRoom(), roundOf3, turn('m1')), 'm2')).toEqual([]);
  });

  it('joins, leaves and connections of others are presence changes; one\'s own are not', () => {
    const joined: RoomEvent = { kind: 'member_joined', member: { id: 'm4', name: 'Carmen', role: 'participant' } };
    expect(said(testRoom(), 'm2', joined, { kind: 'member_left', member_id: 'm3' })).toEqual(['[joined Carmen]', '[left Lin]']);
    expect(said(testRoom(), 'm3', { kind: 'member_left', member_id: 'm3' })).toEqual([]);
    expect(said(testRoom(), 'm2', { kind: 'member_connection_lost', member_id: 'm3' }, { kind: 'member_back', member_id: 'm3' })).toEqual([
      '[lost Lin]',
      '[back Lin]',
    ]);
  });

  it('thresholds: crossing into the last minute and the last 10 s, to the speaker and leads only', () => {
    const r = run(testRoom(), roundOf3, turn('m2'));
    const at = (ends_at: number, now: number) => timerLevels({ ...r, timers: { ...r.timers, turn: running(ends_at) } }, now);
    const before = at(100_000, 30_000); // 70 s left
    const minute = at(100_000, 41_000); // 59 s
    const final = at(100_000, 91_000); // 9 s
    expect(thresholdNotes(before, minute, r, 'm2', 'participant').map((n) => n.text)).toEqual(['1 minute left']);
    expect(thresholdNotes(minute, final, r, 'm1', 'facilitator').map((n) => n.text)).toEqual(['10 seconds left']);
    expect(thresholdNotes(before, minute, r, 'm3', 'participant')).toEqual([]);
    expect(thresholdNotes(minute, minute, r, 'm2', 'participant')).toEqual([]);
    // A paused timer that resumes inside the last minute says nothing for it.
    expect(thresholdNotes({ turn: 'paused', phase: 'idle' }, minute, r, 'm2', 'participant')).toEqual([]);
  });

  it('the phase timer\'s thresholds are said to everyone', () => {
    const r = testRoom();
    const phase = (now: number) => timerLevels({ ...r, timers: { ...r.timers, phase: running(100_000, 900_000) } }, now);
    expect(thresholdNotes(phase(0), phase(45_000), r, 'm3', 'observer').map((n) => n.text)).toEqual(['1 minute left in this phase']);
  });

  it('a pause, a held turn and the resume are said (1.6); the held speaker is not told of themselves', () => {
    const r = run(testRoom(), roundOf3, turn('m2'));
    const paused: RoomEvent = { kind: 'activity_paused', reason: 'restart', since: 1000 };
    expect(said(r, 'm3', paused, { kind: 'activity_resumed' })).toEqual(['The round is paused after a server restart.', 'The round goes on.']);
    const held: RoomEvent = { kind: 'turn_held', member_id: 'm2', until: 30_000 };
    expect(said(r, 'm3', held)).toEqual(['Ada lost their connection; their turn is kept for a moment.']);
    expect(said(r, 'm2', held)).toEqual([]);
  });

  it('the connection and the pending questions', () => {
    expect(connectionNote('online', 'reconnecting', true)?.text).toBe('Connection lost. Trying to reconnect');
    expect(connectionNote('reconnecting', 'online', true)?.text).toBe('Connected again');
    expect(connectionNote('connecting', 'online', true)).toBeNull();
    expect(connectionNote('online', 'reconnecting', false)).toBeNull();
    expect(pendingNote(0, 1)?.text).toBe('1 question waiting for release');
    expect(pendingNote(1, 3)?.text).toBe('3 questions waiting for release');
    expect(pendingNote(3, 0)).toBeNull();
  });
});

describe('summaries', () => {
  const p = (presence: PresenceNote['presence'], id: string, name: string): PresenceNote => ({ presence, id, name });

  it('lists names, counting those past the cap', () => {
    expect(listNames(['Ada'])).toBe('Ada');
    expect(listNames(['Ada', 'Ben'])).toBe('Ada and Ben');
    expect(listNames(['Ada', 'Ben', 'Carmen'])).toBe('Ada, Ben and Carmen');
    expect(listNames(['A', 'B', 'C', 'D', 'E', 'F', 'G'])).toBe('A, B, C, D, E and 2 others');
    expect(listNames(['A', 'B', 'C', 'D', 'E', 'F'])).toBe('A, B, C, D, E and 1 other');
  });

  it('sums up net changes: joined and gone again, or lost and back, says nothing', () => {
    const texts = summarizePresence([
      p('joined', 'a', 'Ada'),
      p('joined', 'b', 'Ben'),
      p('joined', 'c', 'Carmen'),
      p('joined', 'd', 'Dev'),
      p('left', 'd', 'Dev'),
      p('lost', 'e', 'Eli'),
      p('back', 'e', 'Eli'),
      p('left', 'f', 'Fay'),
      p('removed', 'g', 'Gus'),
    ]).map((n) => n.text);
    expect(texts).toEqual(['3 people joined: Ada, Ben and Carmen', 'Fay left', 'Gus was removed']);
  });

  it('composes sentences with full stops', () => {
    expect(composeMessage(['Time is up', 'Carmen has the floor'])).toBe('Time is up. Carmen has the floor.');
    expect(composeMessage(['Challenge: Why now?'])).toBe('Challenge: Why now?');
  });
});

describe('pacing (fake timers)', () => {
  let shown: { at: number; text: string }[];
  let announcer: Announcer;
  const L = ANNOUNCER_LIMITS;

  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
    shown = [];
    announcer = new Announcer((text) => shown.push({ at: Date.now(), text }));
  });
  afterEach(() => {
    announcer.dispose();
    vi.useRealTimers();
  });
  const messages = () => shown.filter((s) => s.text !== '').map((s) => s.text);
  const push = (...items: Announcement[]) => announcer.push(items);

  it('what arrives within 250 ms is one message, set after the region was cleared', () => {
    push({ text: 'Time is up', key: 'expired:turn:1' });
    vi.advanceTimersByTime(29);
    push({ text: 'Carmen has the floor', key: 'turn:c:1', slot: 'turn' });
    vi.advanceTimersByTime(L.coalesceMs - 29 - 1);
    expect(shown).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(shown).toEqual([{ at: L.coalesceMs, text: '' }]);
    vi.advanceTimersByTime(L.clearMs);
    expect(shown.at(-1)).toEqual({ at: L.coalesceMs + L.clearMs, text: 'Time is up. Carmen has the floor.' });
  });

  it('a message is never replaced before its hold; what comes meanwhile is said together after it', () => {
    push({ text: 'A go-round has started' });
    vi.advanceTimersByTime(L.coalesceMs + L.clearMs);
    const firstAt = Date.now();
    expect(messages()).toEqual(['A go-round has started.']);
    push({ text: 'Grace has the floor', slot: 'turn' });
    vi.advanceTimersByTime(500);
    push({ text: 'Ada has the floor', slot: 'turn' }); // the earlier turn is stale: only this one is said
    push({ text: 'A question was put to the group' });
    vi.advanceTimersByTime(L.minHoldMs - 600);
    expect(messages()).toHaveLength(1);
    vi.advanceTimersByTime(L.maxHoldMs);
    expect(messages()).toEqual(['A go-round has started.', 'Ada has the floor. A question was put to the group.']);
    const second = shown.find((s) => s.text.startsWith('Ada'))!;
    expect(second.at - firstAt).toBeGreaterThanOrEqual(L.minHoldMs);
  });

  it('a long message is held longer (up to the cap)', () => {
    const long = `Challenge: ${'x'.repeat(200)}`;
    push({ text: long });
    vi.advanceTimersByTime(L.coalesceMs + L.clearMs);
    push({ text: 'Ada has the floor' });
    vi.advanceTimersByTime(L.maxHoldMs - 10);
    expect(messages()).toHaveLength(1);
    vi.advanceTimersByTime(L.coalesceMs + L.clearMs + 10);
    expect(messages()).toHaveLength(2);
  });

  it('the same text twice in a row is said twice (the region is cleared in between)', () => {
    push({ text: 'Time is up' });
    vi.advanceTimersByTime(L.coalesceMs + L.clearMs + L.maxHoldMs);
    push({ text: 'Time is up' });
    vi.advanceTimersByTime(L.coalesceMs + L.clearMs + L.maxHoldMs);
    expect(shown.map((s) => s.text)).toEqual(['', 'Time is up.', '', 'Time is up.']);
  });

  it('a key is said once, however often it comes (resume, snapshot)', () => {
    push({ text: 'Ada has the floor', key: 'turn:m2:5' });
    vi.advanceTimersByTime(10_000);
    push({ text: 'Ada has the floor', key: 'turn:m2:5' });
    push({ text: 'Time is up', key: 'expired:turn:9' }, { text: 'Time is up', key: 'expired:turn:9' });
    vi.advanceTimersByTime(10_000);
    expect(messages()).toEqual(['Ada has the floor.', 'Time is up.']);
  });

  it('a new turn makes a waiting "You\'re next" stale', () => {
    push({ text: 'A go-round has started' }, { text: "You're next", slot: 'next' }, { text: "It's your turn", slot: 'turn', supersedes: ['next'] });
    vi.advanceTimersByTime(1000);
    expect(messages()).toEqual(["A go-round has started. It's your turn."]);
  });

  it('joins within a few seconds are summed up in one sentence, not one by one', () => {
    push({ presence: 'joined', id: 'a', name: 'Ada' });
    vi.advanceTimersByTime(800);
    push({ presence: 'joined', id: 'b', name: 'Ben' });
    vi.advanceTimersByTime(1500);
    push({ presence: 'joined', id: 'c', name: 'Carmen' });
    vi.advanceTimersByTime(L.presenceMs - 2300 - 1);
    expect(messages()).toEqual([]);
    vi.advanceTimersByTime(1 + L.coalesceMs + L.clearMs);
    expect(messages()).toEqual(['3 people joined: Ada, Ben and Carmen.']);
  });

  it('a join and leave of the same member within the window says nothing', () => {
    push({ presence: 'joined', id: 'a', name: 'Ada' }, { presence: 'left', id: 'a', name: 'Ada' });
    vi.advanceTimersByTime(L.presenceMs + 2000);
    expect(shown).toEqual([]);
  });

  it('one message holds at most maxSentences: the latest ones', () => {
    for (let i = 0; i < L.maxSentences + 3; i++) push({ text: `Note ${i}` });
    vi.advanceTimersByTime(1000);
    const [msg] = messages();
    expect(msg!.split('. ')).toHaveLength(L.maxSentences);
    expect(msg).toMatch(/^Note 3\. .*Note 10\.$/);
  });

  it('keys remembered are capped (the oldest forgotten first)', () => {
    for (let i = 0; i <= L.maxKeys; i++) push({ text: `t${i}`, key: `k${i}` });
    vi.advanceTimersByTime(1000);
    shown = [];
    push({ text: 'again', key: 'k0' }, { text: 'not again', key: `k${L.maxKeys}` });
    vi.advanceTimersByTime(L.maxHoldMs + 1000);
    expect(messages()).toEqual(['again.']);
  });

  it('dispose stops everything waiting', () => {
    push({ text: 'Time is up' }, { presence: 'joined', id: 'a', name: 'Ada' });
    announcer.dispose();
    vi.advanceTimersByTime(10_000);
    expect(shown).toEqual([]);
  });
});
