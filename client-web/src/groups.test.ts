// Breakout groups in words (groups.ts): labels by position, the banner, timing and the recall,
// the split preview, and what the announcer says for each group event.
import { describe, expect, it } from 'vitest';
import { closingNote, describeGroupsEvent, groupBannerText, groupLabel, groupsTiming, splitPreview, splitSizes, timingText } from './groups';
import type { GroupsState, RoomEvent } from './protocol';
import { run, testRoom } from './room-state.fixtures';

const flags = { done: false, more_time: false, help: false };
const opened: RoomEvent = {
  kind: 'groups_opened',
  groups: [
    { id: 'g3', members: ['m4', 'm1'], ...flags },
    { id: 'g4', members: ['m2', 'm3'], ...flags },
  ],
  method: 'fresh',
  ends_at: 900_000,
};
function room() {
  const r = testRoom();
  r.members = [...r.members, { id: 'm4', name: 'Sam', role: 'participant', presence: 'online', airtime_ms: 0, hand: false }];
  return r;
}
const texts = (event: RoomEvent, selfId: string, before = run(room(), opened)) =>
  describeGroupsEvent(event, run(before, event), selfId).map((n) => n.text);

describe('groups in words', () => {
  it('labels a group by its place in the list, not its id', () => {
    const r = run(room(), opened);
    expect(groupLabel(r.groups, 'g3')).toBe('Group 1');
    expect(groupLabel(r.groups, 'g4')).toBe('Group 2');
    expect(groupBannerText(r, r.groups!.groups[1]!, 'm2')).toBe('You are in Group 2 with Lin');
  });

  it('times the groups: planned end, recall countdown, closing in the grace', () => {
    const g: GroupsState = { groups: [], method: 'fresh', ends_at: 100_000, recall_ends_at: null, closes_at: null, message: null };
    expect(timingText(groupsTiming(g, 10_000))).toBe('1:30 left');
    expect(timingText(groupsTiming({ ...g, ends_at: null }, 10_000))).toMatch(/until the facilitator recalls/);
    const recalled = { ...g, recall_ends_at: 60_000, closes_at: 70_000 };
    expect(timingText(groupsTiming(recalled, 15_000))).toBe('Back to the main room in 0:45');
    const closing = groupsTiming(recalled, 61_000);
    expect(timingText(closing)).toBe('Closing now');
    expect(closingNote(groupsTiming(recalled, 59_900), closing, recalled)?.text).toBe('Closing now');
    expect(closingNote(closing, closing, recalled)).toBeNull();
  });

  it('previews a split as the server makes it (none smaller than the size asked)', () => {
    expect(splitSizes(7, 2)).toEqual([3, 2, 2]);
    expect(splitSizes(7, 3)).toEqual([4, 3]);
    expect(splitSizes(5, 3)).toEqual([5]);
    expect(splitPreview(4, 2)).toBe('4 participants online: 2 groups of 2');
    expect(splitPreview(7, 2)).toBe('7 participants online: 1 group of 3 and 2 groups of 2');
    expect(splitPreview(1, 2)).toBe('1 participant online: too few for groups of 2');
  });

  it('announces the groups opening, messages, flags to the facilitator, and the end', () => {
    expect(texts(opened, 'm2', room())).toEqual(['You are in Group 2 with Lin']);
    expect(texts(opened, 'm1', room())).toEqual(['You are in Group 1 with Sam']);
    expect(texts({ kind: 'groups_message', text: 'Five minutes left' }, 'm3')).toEqual(['Message from the facilitator: Five minutes left']);
    const help: RoomEvent = { kind: 'group_flag_changed', group: 'g4', flag: 'help', on: true, by: 'm2' };
    const facilitated = run(room(), { kind: 'groups_opened', groups: [{ id: 'g4', members: ['m2', 'm3'], ...flags }, { id: 'g5', members: ['m4'], ...flags }], method: 'fresh', ends_at: null });
    expect(texts(help, 'm1', facilitated)).toEqual(['Group 1 calls for help']);
    expect(texts(help, 'm3', facilitated)).toEqual(['Ada called the facilitator']);
    expect(texts(help, 'm2', facilitated)).toEqual([]);
    expect(texts({ kind: 'groups_closed', reason: 'recalled' }, 'm3')).toEqual(['Everyone is back in the main room']);
  });
});
