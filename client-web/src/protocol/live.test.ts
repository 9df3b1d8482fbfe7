// Decoding of the 1.2 (live rounds) snapshot fields and events, and the command checker's details.
import { describe, expect, it } from 'vitest';
import { checkCommand, decodeJoinResult, decodeRoomEvent, decodeServerMessage, decodeSnapshot } from './decode';

const base = { room: 'r', seq: 9, title: 'T' };
const member = { id: 'm1', name: 'Grace', role: 'facilitator', presence: 'online' };

const full = {
  ...base,
  members: [
    { ...member, airtime_ms: 61000, hand: false },
    { id: 'm2', name: 'Ada', role: 'co_facilitator', presence: 'online', airtime_ms: 0, hand: true },
    { id: 'm3', name: 'Lin', role: 'observer', presence: 'away', airtime_ms: 5, hand: false },
  ],
  settings: { airtime_visibility: 'facilitators' },
  round: {
    id: 1,
    order: ['m2', 'm3'],
    remaining: ['m3'],
    turn_seconds: 600,
    auto_advance: true,
    outcomes: [{ member_id: 'm2', outcome: 'spoke', ms: 598000 }],
  },
  floor: { queue: ['m3'], turn_seconds: null, auto_advance: false, quieter_first: false },
  turn: { member_id: 'm3', mode: 'round', started_at: 1732485600123 },
  timers: {
    phase: { state: 'idle', duration_ms: 0, ends_at: null, remaining_ms: null },
    turn: { state: 'running', duration_ms: 600000, ends_at: 1732486200123, remaining_ms: null },
  },
};

describe('1.2 snapshot', () => {
  it('decodes every field of the README example', () => {
    const s = decodeSnapshot(full);
    expect(s).toBeDefined();
    expect(s!.live).toBe(true);
    expect(s!.members[0]).toEqual({ id: 'm1', name: 'Grace', role: 'facilitator', presence: 'online', airtime_ms: 61000, hand: false });
    expect(s!.members[1]!.role).toBe('co_facilitator');
    expect(s!.members[1]!.hand).toBe(true);
    expect(s!.settings).toEqual({ airtime_visibility: 'facilitators' });
    expect(s!.round).toEqual(full.round);
    expect(s!.floor).toEqual(full.floor);
    expect(s!.turn).toEqual({ ...full.turn, paused_ms: 0 }); // 1.6: defaulted for a 1.5 server
    expect(s!.timers).toEqual(full.timers);
  });

  it('decodes the 1.6 pause, held turn and last round, and defaults them for a 1.5 server', () => {
    const s = decodeSnapshot({
      ...full,
      round: null,
      turn: { ...full.turn, paused_ms: 4000, held_until: 1732485700000 },
      paused: { reason: 'restart', since: 1732485650000 },
      last_round: { id: 2, reason: 'completed', outcomes: [{ member_id: 'm2', outcome: 'passed', ms: 0 }] },
    });
    expect(s?.paused).toEqual({ reason: 'restart', since: 1732485650000 });
    expect(s?.turn?.held_until).toBe(1732485700000);
    expect(s?.turn?.paused_ms).toBe(4000);
    expect(s?.last_round?.outcomes).toEqual([{ member_id: 'm2', outcome: 'passed', ms: 0 }]);
    const old = decodeSnapshot(full);
    expect(old?.paused).toBeNull();
    expect(old?.last_round).toBeNull();
    expect(decodeSnapshot({ ...full, paused: { reason: 'nap', since: 1 } })).toBeUndefined();
  });

  it('defaults the 1.2 fields for a 1.0/1.1 server', () => {
    const s = decodeSnapshot({ ...base, members: [member] });
    expect(s).toEqual({
      ...base,
      members: [{ ...member, airtime_ms: 0, hand: false }],
      settings: { airtime_visibility: 'everyone' },
      round: null,
      floor: { queue: [], turn_seconds: null, auto_advance: false, quieter_first: false },
      turn: null,
      timers: {
        phase: { state: 'idle', duration_ms: 0, ends_at: null, remaining_ms: null },
        turn: { state: 'idle', duration_ms: 0, ends_at: null, remaining_ms: null },
      },
      paused: null,
      last_round: null,
      live: false,
      // 1.3: no released prompts, no audit, no deck.
      prompts: [],
      audit: null,
      deck: null,
      // 1.7: no breakout groups.
      groups: null,
    });
  });

  it('accepts null round and turn', () => {
    const s = decodeSnapshot({ ...full, round: null, turn: null });
    expect(s?.round).toBeNull();
    expect(s?.turn).toBeNull();
  });

  it('reads a join reply carrying a 1.2 snapshot', () => {
    const r = decodeJoinResult({ member: { id: 'm2', name: 'Ada', role: 'observer' }, resume_token: 'T', snapshot: full });
    expect(r?.member.role).toBe('observer');
    expect(r?.snapshot?.round?.remaining).toEqual(['m3']);
  });

  it.each([
    ['airtime_ms negative', { ...full, members: [{ ...member, airtime_ms: -1 }] }],
    ['airtime_ms fractional', { ...full, members: [{ ...member, airtime_ms: 1.5 }] }],
    ['hand not boolean', { ...full, members: [{ ...member, hand: 'yes' }] }],
    ['unknown role', { ...full, members: [{ ...member, role: 'chair' }] }],
    ['bad visibility', { ...full, settings: { airtime_visibility: 'nobody' } }],
    ['round without order', { ...full, round: { ...full.round, order: undefined } }],
    ['round with bad outcome', { ...full, round: { ...full.round, outcomes: [{ member_id: 'm2', outcome: 'sang', ms: 1 }] } }],
    ['floor without queue', { ...full, floor: { turn_seconds: null, auto_advance: false, quieter_first: false } }],
    ['floor turn_seconds 0', { ...full, floor: { ...full.floor, turn_seconds: 0 } }],
    ['turn with bad mode', { ...full, turn: { ...full.turn, mode: 'solo' } }],
    ['timer with bad state', { ...full, timers: { ...full.timers, phase: { ...full.timers.phase, state: 'stopped' } } }],
    ['running timer without ends_at', { ...full, timers: { ...full.timers, turn: { ...full.timers.turn, ends_at: null } } }],
    ['timers not an object', { ...full, timers: [] }],
  ])('rejects a snapshot with %s', (_name, snap) => {
    expect(decodeSnapshot(snap)).toBeUndefined();
  });
});

describe('1.2 events', () => {
  const timer = { state: 'running', duration_ms: 60000, ends_at: 2000, remaining_ms: null };
  it.each([
    { kind: 'role_changed', member_id: 'm2', role: 'co_facilitator' },
    { kind: 'role_changed', member_id: 'm2', role: 'observer' },
    { kind: 'settings_changed', airtime_visibility: 'facilitators' },
    { kind: 'round_started', round: { id: 1, order: ['m1', 'm2'], turn_seconds: 60, auto_advance: true } },
    { kind: 'round_order_changed', remaining: ['m2', 'm1'] },
    { kind: 'round_order_changed', remaining: [] },
    { kind: 'round_ended', reason: 'completed' },
    { kind: 'round_ended', reason: 'ended' },
    { kind: 'turn_started', member_id: 'm1', mode: 'round' },
    { kind: 'turn_started', member_id: 'm1', mode: 'floor' },
    { kind: 'turn_ended', member_id: 'm1', outcome: 'spoke', ms: 1000 },
    { kind: 'turn_ended', member_id: 'm1', outcome: 'skipped', ms: 0 },
    { kind: 'hand_raised', member_id: 'm1' },
    { kind: 'hand_lowered', member_id: 'm1' },
    { kind: 'floor_settings_changed', turn_seconds: null, auto_advance: false, quieter_first: true },
    { kind: 'floor_settings_changed', turn_seconds: 180, auto_advance: true, quieter_first: false },
    { kind: 'timer_set', timer: 'turn', action: 'start', state: timer },
    { kind: 'timer_set', timer: 'phase', action: 'pause', state: { state: 'paused', duration_ms: 60000, ends_at: null, remaining_ms: 1234 } },
    { kind: 'timer_expired', timer: 'phase' },
  ])('decodes $kind', (ev) => {
    expect(decodeRoomEvent(ev)).toEqual(ev);
    const frame = JSON.stringify({ type: 'event', room: 'r', seq: 2, time: 5, event: ev });
    expect(decodeServerMessage(frame).ok).toBe(true);
  });

  it.each([
    { kind: 'role_changed', member_id: 'm2', role: 'king' },
    { kind: 'role_changed', role: 'observer' },
    { kind: 'settings_changed', airtime_visibility: 'all' },
    { kind: 'round_started', round: { id: 1, order: 'join', turn_seconds: 60, auto_advance: true } },
    { kind: 'round_started', round: { id: 1, order: ['m1'], turn_seconds: 0, auto_advance: true } },
    { kind: 'round_started', round: { id: 1, order: ['m1'], turn_seconds: 60 } },
    { kind: 'round_order_changed', remaining: [1] },
    { kind: 'round_ended', reason: 'bored' },
    { kind: 'turn_started', member_id: 'm1', mode: 'chat' },
    { kind: 'turn_ended', member_id: 'm1', outcome: 'spoke', ms: -1 },
    { kind: 'turn_ended', member_id: 'm1', outcome: 'won', ms: 1 },
    { kind: 'turn_ended', member_id: 'm1', outcome: 'spoke' },
    { kind: 'hand_raised' },
    { kind: 'floor_settings_changed', turn_seconds: '60', auto_advance: false, quieter_first: true },
    { kind: 'floor_settings_changed', turn_seconds: null, auto_advance: false },
    { kind: 'timer_set', timer: 'session', action: 'start', state: timer },
    { kind: 'timer_set', timer: 'turn', action: 'stop', state: timer },
    { kind: 'timer_set', timer: 'turn', action: 'start' },
    { kind: 'timer_expired', timer: 'egg' },
  ])('rejects a malformed $kind', (ev) => {
    expect(decodeRoomEvent(ev)).toBeUndefined();
  });
});

describe('checkCommand (1.2 details beyond the vectors)', () => {
  const ok = (o: object) => checkCommand(JSON.stringify({ id: 'x', ...o }));
  it('accepts every command the client sends', () => {
    expect(ok({ type: 'round_start', order: 'shuffle', turn_seconds: 14400, auto_advance: true }).ok).toBe(true);
    expect(ok({ type: 'timer', timer: 'turn', action: 'extend', seconds: -14400 }).ok).toBe(true);
    expect(ok({ type: 'timer', timer: 'turn', action: 'resume' }).ok).toBe(true);
    expect(ok({ type: 'floor_settings', turn_seconds: 1, auto_advance: false, quieter_first: false }).ok).toBe(true);
  });
  it.each([
    [{ type: 'timer', timer: 'turn', action: 'extend', seconds: 14401 }, 'invalid_duration'],
    [{ type: 'timer', timer: 'turn', action: 'extend' }, 'missing_field'],
    [{ type: 'timer', timer: 'turn', action: 'extend', seconds: '5' }, 'invalid_field'],
    [{ type: 'timer', timer: 'turn', action: 'reset', seconds: 5 }, 'invalid_field'],
    [{ type: 'timer', timer: 'turn', action: 'start', seconds: 1, extra: 1 }, 'unknown_field'],
    [{ type: 'round_start', order: ['m1', ''], turn_seconds: 60 }, 'invalid_field'],
    [{ type: 'round_start', order: ['m1', 5], turn_seconds: 60 }, 'invalid_field'],
    [{ type: 'round_start', order: 'join' }, 'missing_field'],
    [{ type: 'round_start', order: 7, turn_seconds: 60 }, 'invalid_field'],
    [{ type: 'floor_settings', turn_seconds: '60', auto_advance: false, quieter_first: false }, 'invalid_field'],
    [{ type: 'floor_settings', auto_advance: false, quieter_first: false }, 'missing_field'],
    [{ type: 'floor_settings', turn_seconds: null, auto_advance: 1, quieter_first: false }, 'invalid_field'],
    [{ type: 'hand_lower', member: 5 }, 'invalid_field'],
    [{ type: 'hand_raise', member: 'm1' }, 'unknown_field'],
    [{ type: 'set_role', member: 'm2', role: 'king' }, 'invalid_field'],
    [{ type: 'settings' }, 'missing_field'],
    [{ type: 'claim_facilitation', member: 'm1' }, 'unknown_field'],
  ])('%j is %s', (cmd, code) => {
    const r = ok(cmd);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe(code);
      expect(r.id).toBe('x');
    }
  });
});
