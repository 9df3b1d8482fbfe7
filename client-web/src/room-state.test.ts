// applyEvent for every 1.2 event, the derived values the view uses, and the countdown math.
import { describe, expect, it } from 'vitest';
import type { TimerState } from './protocol';
import {
  airtimeVisibleTo,
  canRemove,
  closeRoomWarning,
  formatCountdown,
  formatDuration,
  nextInRound,
  timerRemainingMs,
  type RoomView,
} from './room-state';
import { run, testRoom } from './room-state.fixtures';

const member = (r: RoomView, id: string) => r.members.find((m) => m.id === id)!;

/** The shared test room, live, with 1 s of airtime for Ada. */
function room(): RoomView {
  const r = testRoom();
  r.live = true;
  member(r, 'm2').airtime_ms = 1000;
  return r;
}

const running: TimerState = { state: 'running', duration_ms: 60000, ends_at: 100_000, remaining_ms: null };

describe('applyEvent (1.2)', () => {
  it('role_changed sets the role', () => {
    const r = run(room(), { kind: 'role_changed', member_id: 'm2', role: 'co_facilitator' });
    expect(member(r, 'm2').role).toBe('co_facilitator');
    expect(r.seq).toBe(11);
  });

  it('settings_changed sets airtime visibility', () => {
    const r = run(room(), { kind: 'settings_changed', airtime_visibility: 'facilitators' });
    expect(r.settings.airtime_visibility).toBe('facilitators');
  });

  it('round_started creates the round with remaining = order and no outcomes', () => {
    const r = run(room(), { kind: 'round_started', round: { id: 3, order: ['m2', 'm3'], turn_seconds: 60, auto_advance: false } });
    expect(r.round).toEqual({ id: 3, order: ['m2', 'm3'], remaining: ['m2', 'm3'], turn_seconds: 60, auto_advance: false, outcomes: [] });
    expect(r.round!.remaining).not.toBe(r.round!.order);
  });

  it('round_order_changed replaces remaining (and is ignored without a round)', () => {
    const started = run(room(), { kind: 'round_started', round: { id: 1, order: ['m1', 'm2', 'm3'], turn_seconds: 60, auto_advance: true } });
    const r = run(started, { kind: 'round_order_changed', remaining: ['m1', 'm3', 'm2'] });
    expect(r.round!.remaining).toEqual(['m1', 'm3', 'm2']);
    expect(r.round!.order).toEqual(['m1', 'm2', 'm3']);
    const none = run(room(), { kind: 'round_order_changed', remaining: ['m1'] });
    expect(none.round).toBeNull();
    expect(none.seq).toBe(11);
  });

  it('turn_started in round mode sets the turn with started_at = event time', () => {
    const r = run(room(), { kind: 'turn_started', member_id: 'm2', mode: 'round' });
    expect(r.turn).toEqual({ member_id: 'm2', mode: 'round', started_at: 11_000, paused_ms: 0 });
  });

  it('turn_started in floor mode takes the member out of the queue and lowers the hand', () => {
    const r = run(
      room(),
      { kind: 'hand_raised', member_id: 'm2' },
      { kind: 'hand_raised', member_id: 'm3' },
      { kind: 'turn_started', member_id: 'm2', mode: 'floor' },
    );
    expect(r.floor.queue).toEqual(['m3']);
    expect(member(r, 'm2').hand).toBe(false);
    expect(member(r, 'm3').hand).toBe(true);
    expect(r.turn).toEqual({ member_id: 'm2', mode: 'floor', started_at: 13_000, paused_ms: 0 });
  });

  it('floor_give since 1.5: hand_lowered, then turn_started; the same view as the inference for older rooms', () => {
    const given = run(
      room(),
      { kind: 'hand_raised', member_id: 'm2' },
      { kind: 'hand_raised', member_id: 'm3' },
      { kind: 'hand_lowered', member_id: 'm2' },
      { kind: 'turn_started', member_id: 'm2', mode: 'floor' },
    );
    const inferred = run(
      room(),
      { kind: 'hand_raised', member_id: 'm2' },
      { kind: 'hand_raised', member_id: 'm3' },
      { kind: 'turn_started', member_id: 'm2', mode: 'floor' },
    );
    expect(given.floor.queue).toEqual(['m3']);
    expect(member(given, 'm2').hand).toBe(false);
    expect(member(given, 'm3').hand).toBe(true);
    expect(given.turn).toEqual({ member_id: 'm2', mode: 'floor', started_at: 14_000, paused_ms: 0 });
    expect({ ...given, seq: 0, turn: null }).toEqual({ ...inferred, seq: 0, turn: null });
  });

  it('a speaker skipped for being away and back during the round goes to the end (round_order_changed)', () => {
    const r = run(
      room(),
      { kind: 'round_started', round: { id: 1, order: ['m2', 'm3'], turn_seconds: 60, auto_advance: true } },
      { kind: 'turn_started', member_id: 'm2', mode: 'round' },
      { kind: 'member_connection_lost', member_id: 'm2' },
      { kind: 'turn_ended', member_id: 'm2', outcome: 'skipped', ms: 5000 },
      { kind: 'turn_started', member_id: 'm3', mode: 'round' },
      { kind: 'member_back', member_id: 'm2' },
      { kind: 'round_order_changed', remaining: ['m3', 'm2'] },
    );
    expect(r.round!.remaining).toEqual(['m3', 'm2']);
    expect(r.round!.outcomes).toEqual([{ member_id: 'm2', outcome: 'skipped', ms: 5000 }]);
    expect(member(r, 'm2').airtime_ms).toBe(6000); // 1 s before, 5 s of this turn
    expect(member(r, 'm2').presence).toBe('online');
    expect(r.turn?.member_id).toBe('m3');
  });

  it('turn_ended in a round adds airtime, leaves remaining, records the outcome and clears the turn', () => {
    const r = run(
      room(),
      { kind: 'round_started', round: { id: 1, order: ['m2', 'm3'], turn_seconds: 60, auto_advance: true } },
      { kind: 'turn_started', member_id: 'm2', mode: 'round' },
      { kind: 'turn_ended', member_id: 'm2', outcome: 'spoke', ms: 59000 },
    );
    expect(member(r, 'm2').airtime_ms).toBe(60000);
    expect(r.round!.remaining).toEqual(['m3']);
    expect(r.round!.outcomes).toEqual([{ member_id: 'm2', outcome: 'spoke', ms: 59000 }]);
    expect(r.turn).toBeNull();
  });

  it('turn_ended for a skipped member who never started records skipped and keeps the current turn', () => {
    const r = run(
      room(),
      { kind: 'round_started', round: { id: 1, order: ['m2', 'm3'], turn_seconds: 60, auto_advance: true } },
      { kind: 'turn_ended', member_id: 'm2', outcome: 'skipped', ms: 0 },
      { kind: 'turn_started', member_id: 'm3', mode: 'round' },
    );
    expect(r.round!.outcomes).toEqual([{ member_id: 'm2', outcome: 'skipped', ms: 0 }]);
    expect(r.round!.remaining).toEqual(['m3']);
    const other = run(r, { kind: 'turn_ended', member_id: 'm2', outcome: 'skipped', ms: 0 });
    expect(other.turn?.member_id).toBe('m3');
  });

  it('turn_ended of a floor turn adds airtime but no round outcome', () => {
    const r = run(
      room(),
      { kind: 'turn_started', member_id: 'm3', mode: 'floor' },
      { kind: 'turn_ended', member_id: 'm3', outcome: 'spoke', ms: 4000 },
    );
    expect(member(r, 'm3').airtime_ms).toBe(4000);
    expect(r.turn).toBeNull();
    expect(r.round).toBeNull();
  });

  it('moved: the member leaves remaining, then round_order_changed puts them at the end', () => {
    const r = run(
      room(),
      { kind: 'round_started', round: { id: 1, order: ['m1', 'm2', 'm3'], turn_seconds: 60, auto_advance: true } },
      { kind: 'turn_started', member_id: 'm1', mode: 'round' },
      { kind: 'turn_ended', member_id: 'm1', outcome: 'moved', ms: 2000 },
      { kind: 'round_order_changed', remaining: ['m2', 'm3', 'm1'] },
    );
    expect(r.round!.outcomes).toEqual([{ member_id: 'm1', outcome: 'moved', ms: 2000 }]);
    expect(r.round!.remaining).toEqual(['m2', 'm3', 'm1']);
  });

  it('1.6: a finished round stays as last_round until the next starts', () => {
    const r = run(
      room(),
      { kind: 'round_started', round: { id: 4, order: ['m2', 'm3'], turn_seconds: 60, auto_advance: true } },
      { kind: 'turn_started', member_id: 'm2', mode: 'round' },
      { kind: 'turn_ended', member_id: 'm2', outcome: 'spoke', ms: 2000 },
      { kind: 'turn_ended', member_id: 'm3', outcome: 'skipped', ms: 0 },
      { kind: 'round_ended', reason: 'completed' },
    );
    expect(r.last_round).toEqual({
      id: 4,
      reason: 'completed',
      outcomes: [
        { member_id: 'm2', outcome: 'spoke', ms: 2000 },
        { member_id: 'm3', outcome: 'skipped', ms: 0 },
      ],
    });
    const next = run(r, { kind: 'round_started', round: { id: 5, order: ['m2'], turn_seconds: 60, auto_advance: true } });
    expect(next.last_round).toBeNull();
  });

  it('1.6: pause and resume move the turn\'s paused time; turn_held marks the speaker held', () => {
    const started = run(
      room(),
      { kind: 'round_started', round: { id: 1, order: ['m2'], turn_seconds: 60, auto_advance: true } },
      { kind: 'turn_started', member_id: 'm2', mode: 'round' },
      { kind: 'turn_held', member_id: 'm2', until: 23_000 },
    );
    const since = started.turn!.started_at + 500;
    const r = run(started, { kind: 'activity_paused', reason: 'facilitator', since });
    expect(r.paused).toEqual({ reason: 'facilitator', since });
    expect(r.turn?.held_until).toBeNull();
    const resumed = run(r, { kind: 'activity_resumed' }); // at 1000 × its seq
    expect(resumed.paused).toBeNull();
    expect(resumed.turn?.paused_ms).toBe(resumed.seq * 1000 - since);
    expect(run(resumed, { kind: 'turn_held', member_id: 'm3', until: 9 }).turn?.held_until).toBeNull(); // not the speaker: unchanged
  });

  it('round_ended clears the round and the turn', () => {
    const r = run(
      room(),
      { kind: 'round_started', round: { id: 1, order: ['m2'], turn_seconds: 60, auto_advance: true } },
      { kind: 'turn_started', member_id: 'm2', mode: 'round' },
      { kind: 'round_ended', reason: 'ended' },
    );
    expect(r.round).toBeNull();
    expect(r.turn).toBeNull();
  });

  it('hand_raised appends to the queue once; hand_lowered removes', () => {
    let r = run(room(), { kind: 'hand_raised', member_id: 'm3' }, { kind: 'hand_raised', member_id: 'm2' });
    expect(r.floor.queue).toEqual(['m3', 'm2']);
    expect(member(r, 'm3').hand).toBe(true);
    r = run(r, { kind: 'hand_raised', member_id: 'm3' });
    expect(r.floor.queue).toEqual(['m3', 'm2']);
    r = run(r, { kind: 'hand_lowered', member_id: 'm3' });
    expect(r.floor.queue).toEqual(['m2']);
    expect(member(r, 'm3').hand).toBe(false);
  });

  it('floor_settings_changed sets the dialogue settings and keeps the queue', () => {
    const r = run(
      room(),
      { kind: 'hand_raised', member_id: 'm3' },
      { kind: 'floor_settings_changed', turn_seconds: 180, auto_advance: true, quieter_first: true },
    );
    expect(r.floor).toEqual({ queue: ['m3'], turn_seconds: 180, auto_advance: true, quieter_first: true });
  });

  it('timer_set replaces the timer; timer_expired marks it expired with 0 remaining', () => {
    let r = run(room(), { kind: 'timer_set', timer: 'turn', action: 'start', state: running });
    expect(r.timers.turn).toEqual(running);
    expect(r.timers.phase.state).toBe('idle');
    r = run(r, { kind: 'timer_expired', timer: 'turn' });
    expect(r.timers.turn.state).toBe('expired');
    expect(r.timers.turn.remaining_ms).toBe(0);
    expect(r.timers.turn.duration_ms).toBe(60000);
    r = run(r, { kind: 'timer_set', timer: 'phase', action: 'pause', state: { state: 'paused', duration_ms: 900000, ends_at: null, remaining_ms: 5000 } });
    expect(r.timers.phase).toEqual({ state: 'paused', duration_ms: 900000, ends_at: null, remaining_ms: 5000 });
  });

  it('member_joined gives a new member no airtime and no hand, and keeps them for a known member', () => {
    let r = run(room(), { kind: 'hand_raised', member_id: 'm2' });
    r = run(r, { kind: 'member_joined', member: { id: 'm2', name: 'Ada', role: 'participant' } });
    expect(member(r, 'm2')).toMatchObject({ airtime_ms: 1000, hand: true, presence: 'online' });
    r = run(r, { kind: 'member_joined', member: { id: 'm4', name: 'Bo', role: 'observer' } });
    expect(member(r, 'm4')).toEqual({ id: 'm4', name: 'Bo', role: 'observer', presence: 'online', airtime_ms: 0, hand: false });
  });

  it('is pure: the input room is unchanged', () => {
    const before = run(room(), { kind: 'round_started', round: { id: 1, order: ['m2', 'm3'], turn_seconds: 60, auto_advance: true } });
    const copy = JSON.parse(JSON.stringify(before)) as RoomView;
    run(
      before,
      { kind: 'turn_started', member_id: 'm2', mode: 'round' },
      { kind: 'turn_ended', member_id: 'm2', outcome: 'passed', ms: 10 },
      { kind: 'hand_raised', member_id: 'm3' },
      { kind: 'timer_set', timer: 'turn', action: 'start', state: running },
      { kind: 'timer_expired', timer: 'turn' },
    );
    expect(before).toEqual(copy);
  });
});

describe('derived values', () => {
  it('nextInRound skips the current speaker', () => {
    let r = run(room(), { kind: 'round_started', round: { id: 1, order: ['m1', 'm2', 'm3'], turn_seconds: 60, auto_advance: true } });
    expect(nextInRound(r)).toBe('m1'); // nobody speaking yet
    r = run(r, { kind: 'turn_started', member_id: 'm1', mode: 'round' });
    expect(nextInRound(r)).toBe('m2');
    r = run(r, { kind: 'turn_ended', member_id: 'm1', outcome: 'spoke', ms: 1 }, { kind: 'turn_started', member_id: 'm2', mode: 'round' });
    expect(nextInRound(r)).toBe('m3');
    r = run(r, { kind: 'turn_ended', member_id: 'm2', outcome: 'spoke', ms: 1 }, { kind: 'turn_started', member_id: 'm3', mode: 'round' });
    expect(nextInRound(r)).toBeNull();
    expect(nextInRound(room())).toBeNull();
  });

  it('airtime is shown to everyone, or to facilitators and co-facilitators only', () => {
    const r = room();
    expect(airtimeVisibleTo(r, 'participant')).toBe(true);
    const hidden = run(r, { kind: 'settings_changed', airtime_visibility: 'facilitators' });
    expect(airtimeVisibleTo(hidden, 'participant')).toBe(false);
    expect(airtimeVisibleTo(hidden, 'observer')).toBe(false);
    expect(airtimeVisibleTo(hidden, 'facilitator')).toBe(true);
    expect(airtimeVisibleTo(hidden, 'co_facilitator')).toBe(true);
  });
});

describe('countdown math', () => {
  it('running: ends_at − server now, never below 0', () => {
    expect(timerRemainingMs(running, 40_000)).toBe(60_000);
    expect(timerRemainingMs(running, 99_999.4)).toBe(1);
    expect(timerRemainingMs(running, 100_000)).toBe(0);
    expect(timerRemainingMs(running, 150_000)).toBe(0);
  });
  it('paused: remaining_ms; idle and expired: 0', () => {
    expect(timerRemainingMs({ state: 'paused', duration_ms: 1, ends_at: null, remaining_ms: 4321 }, 1e12)).toBe(4321);
    expect(timerRemainingMs({ state: 'idle', duration_ms: 60000, ends_at: null, remaining_ms: null }, 0)).toBe(0);
    expect(timerRemainingMs({ state: 'expired', duration_ms: 60000, ends_at: 5, remaining_ms: 0 }, 0)).toBe(0);
  });
  it.each([
    [0, '0:00'],
    [1, '0:01'],
    [999, '0:01'],
    [1000, '0:01'],
    [59_001, '1:00'],
    [600_000, '10:00'],
    [14_400_000, '240:00'],
    [-5, '0:00'],
  ])('formats %i ms as m:ss, rounding up to the whole second: %s', (ms, text) => {
    expect(formatCountdown(ms)).toBe(text);
  });
  it.each([
    [0, '0 s'],
    [45_000, '45 s'],
    [180_000, '3 min'],
    [200_000, '3 min 20 s'],
    [3_900_000, '1 h 5 min'],
  ])('formats a duration of %i ms for people: %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('removing members and closing the room (1.5)', () => {
  it('member_removed makes the member left, drops their hand from the queue, and keeps the record', () => {
    const start = room();
    start.members = start.members.map((m) => (m.id === 'm2' ? { ...m, hand: true } : m));
    start.floor = { ...start.floor, queue: ['m2', 'm3'] };
    const r = run(start, { kind: 'member_removed', member_id: 'm2' });
    expect(member(r, 'm2').presence).toBe('left');
    expect(member(r, 'm2').hand).toBe(false);
    expect(member(r, 'm2').airtime_ms).toBe(1000);
    expect(r.floor.queue).toEqual(['m3']);
    expect(r.members).toHaveLength(start.members.length);
  });

  it('room_closed changes nothing but the seq', () => {
    const start = room();
    const r = run(start, { kind: 'room_closed' });
    expect({ ...r, seq: start.seq }).toEqual(start);
  });

  it('the facilitator may remove anyone else; a co-facilitator participants and observers; nobody themselves', () => {
    const r = room();
    const grace = member(r, 'm1');
    const ada = { ...member(r, 'm2'), role: 'participant' as const };
    const lead = { ...ada, role: 'co_facilitator' as const };
    expect(canRemove('facilitator', ada, 'm1')).toBe(true);
    expect(canRemove('facilitator', lead, 'm1')).toBe(true);
    expect(canRemove('facilitator', grace, 'm1')).toBe(false);
    expect(canRemove('co_facilitator', ada, 'm3')).toBe(true);
    expect(canRemove('co_facilitator', lead, 'm3')).toBe(false);
    expect(canRemove('co_facilitator', grace, 'm3')).toBe(false);
    expect(canRemove('participant', ada, 'm3')).toBe(false);
    expect(canRemove('facilitator', { ...ada, presence: 'left' }, 'm1')).toBe(false);
  });

  it('the close confirmation says what will be lost', () => {
    const text = closeRoomWarning('Spring cohort');
    expect(text).toContain('Spring cohort');
    for (const lost of ['members', 'prompts', 'audit', 'deck', 'cannot be undone']) expect(text).toContain(lost);
  });
});
