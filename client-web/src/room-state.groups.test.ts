// Breakout groups (1.7) in the room view: applyEvent for the seven events, the snapshot copy, and
// groupOf (which group a member is in).
import { describe, expect, it } from 'vitest';
import { decodeSnapshot, type RoomEvent } from './protocol';
import { groupOf, roomFromSnapshot } from './room-state';
import { run, testRoom as room } from './room-state.fixtures';

const flags = { done: false, more_time: false, help: false };
const opened: RoomEvent = {
  kind: 'groups_opened',
  groups: [
    { id: 'g1', members: ['m2', 'm3'], ...flags },
    { id: 'g2', members: ['m4', 'm5'], ...flags },
  ],
  method: 'fresh',
  ends_at: 900_000,
};

describe('applyEvent (1.7 breakout groups)', () => {
  it('groups_opened puts each listed member in their group; everyone else is in the main room', () => {
    const r = run(room(), opened);
    expect(groupOf(r, 'm2')?.id).toBe('g1');
    expect(groupOf(r, 'm5')?.id).toBe('g2');
    expect(groupOf(r, 'm1')).toBeNull();
    expect(r.groups?.ends_at).toBe(900_000);
    expect(r.groups?.recall_ends_at).toBeNull();
  });

  it('group_member_moved moves between groups and back to the main room', () => {
    let r = run(room(), opened, { kind: 'group_member_moved', member_id: 'm3', group: 'g2' });
    expect(r.groups?.groups.map((g) => g.members)).toEqual([['m2'], ['m4', 'm5', 'm3']]);
    r = run(r, { kind: 'group_member_moved', member_id: 'm3', group: null });
    expect(groupOf(r, 'm3')).toBeNull();
  });

  it('a recall shows its countdown; extending calls it off and answers the asks for more time', () => {
    let r = run(room(), opened, { kind: 'group_flag_changed', group: 'g1', flag: 'more_time', on: true, by: 'm2' });
    expect(r.groups?.groups[0]?.more_time).toBe(true);
    expect(r.groups?.groups[1]?.more_time).toBe(false);
    r = run(r, { kind: 'groups_recalled', recall_ends_at: 960_000, closes_at: 970_000 });
    expect([r.groups?.recall_ends_at, r.groups?.closes_at]).toEqual([960_000, 970_000]);
    r = run(r, { kind: 'groups_extended', ends_at: 1_020_000 });
    expect(r.groups?.ends_at).toBe(1_020_000);
    expect(r.groups?.closes_at).toBeNull();
    expect(r.groups?.groups[0]?.more_time).toBe(false);
  });

  it('the facilitator\'s message stays until the groups close; closing takes everyone back', () => {
    let r = run(room(), opened, { kind: 'groups_message', text: 'Swap roles now' });
    expect(r.groups?.message).toBe('Swap roles now');
    r = run(r, { kind: 'groups_closed', reason: 'recalled' });
    expect(r.groups).toBeNull();
    expect(groupOf(r, 'm2')).toBeNull();
  });

  it('events about groups that are not open change nothing but the seq', () => {
    const start = room();
    const r = run(start, { kind: 'group_member_moved', member_id: 'm2', group: 'g1' }, { kind: 'groups_message', text: 'x' });
    expect(r.groups).toBeNull();
    expect(r.seq).toBe(start.seq + 2);
  });

  it('a snapshot carries the open groups (copied), and an older server\'s none', () => {
    const wire = {
      room: 'r', seq: 5, title: 'T', members: [],
      groups: { groups: [{ id: 'g3', members: ['m2', 'm3'], done: true, more_time: false, help: false }], method: 'random', ends_at: null, recall_ends_at: null, closes_at: null, message: null },
    };
    const snap = decodeSnapshot(wire);
    expect(snap?.groups?.groups[0]?.done).toBe(true);
    const view = roomFromSnapshot(snap!);
    expect(groupOf(view, 'm3')?.id).toBe('g3');
    expect(view.groups?.groups[0]?.members).not.toBe(snap!.groups!.groups[0]!.members);
    const { groups: _ignored, ...older } = wire;
    expect(decodeSnapshot(older)?.groups).toBeNull();
  });
});
