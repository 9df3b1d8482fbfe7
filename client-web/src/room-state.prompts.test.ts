// Anonymous prompts (1.3) in the room view: applyEvent for the three events, the snapshot copy,
// and the view helpers (labels, counts, announcements).
import { describe, expect, it } from 'vitest';
import { preparePromptText } from './connection';
import type { RoomEvent, RoomSnapshot } from './protocol';
import { emptyRoom, roomFromSnapshot, type RoomView } from './room-state';
import { announce, run, testRoom as room } from './room-state.fixtures';
import { posedLabel, releasableCount } from './ui/PromptsPanel';

const released: RoomEvent = {
  kind: 'prompts_released',
  prompts: [
    { id: 'p7', text: 'Why us?' },
    { id: 'p3', text: 'What would you\ndo differently?' },
  ],
};

describe('applyEvent (1.3)', () => {
  it('an empty room has no prompts', () => {
    expect(emptyRoom('r').prompts).toEqual([]);
  });

  it('prompts_released appends in the order given, with 0 votes and never posed', () => {
    const r = run(room(), released, { kind: 'prompts_released', prompts: [{ id: 'p1', text: 'Next batch' }] });
    expect(r.prompts).toEqual([
      { id: 'p7', text: 'Why us?', votes: 0 },
      { id: 'p3', text: 'What would you\ndo differently?', votes: 0 },
      { id: 'p1', text: 'Next batch', votes: 0 },
    ]);
    expect(r.prompts[0]).not.toHaveProperty('posed_to');
    expect(r.seq).toBe(12);
  });

  it('prompts_released does not add an id twice', () => {
    const r = run(room(), released, { kind: 'prompts_released', prompts: [{ id: 'p7', text: 'Why us?' }] });
    expect(r.prompts.map((p) => p.id)).toEqual(['p7', 'p3']);
  });

  it('prompt_upvoted sets the count (unknown ids change nothing but the seq)', () => {
    const r = run(
      room(),
      released,
      { kind: 'prompt_upvoted', prompt_id: 'p3', votes: 1 },
      { kind: 'prompt_upvoted', prompt_id: 'p3', votes: 2 },
      { kind: 'prompt_upvoted', prompt_id: 'nope', votes: 9 },
    );
    expect(r.prompts.map((p) => p.votes)).toEqual([0, 2]);
    expect(r.seq).toBe(14);
  });

  it('prompt_posed sets posed_to: null for the group, else the member', () => {
    const toGroup = run(room(), released, { kind: 'prompt_posed', prompt_id: 'p7', member_id: null });
    expect(toGroup.prompts[0]!.posed_to).toBeNull();
    expect(toGroup.prompts[1]).not.toHaveProperty('posed_to');
    const toLin = run(toGroup, { kind: 'prompt_posed', prompt_id: 'p7', member_id: 'm3' });
    expect(toLin.prompts[0]!.posed_to).toBe('m3');
  });

  it('is pure', () => {
    const before = run(room(), released);
    const copy = JSON.parse(JSON.stringify(before)) as RoomView;
    run(before, { kind: 'prompt_upvoted', prompt_id: 'p7', votes: 4 }, { kind: 'prompt_posed', prompt_id: 'p7', member_id: null });
    expect(before).toEqual(copy);
  });

  it('roomFromSnapshot copies the released prompts', () => {
    const snap: RoomSnapshot = {
      ...emptyRoom('r'),
      room: 'r',
      members: [],
      prompts: [{ id: 'p1', text: 'a', votes: 2, posed_to: null }],
    };
    const view = roomFromSnapshot(snap);
    expect(view.prompts).toEqual(snap.prompts);
    expect(view.prompts[0]).not.toBe(snap.prompts[0]);
  });
});

describe('prompts in the view', () => {
  it('labels a posed prompt', () => {
    const r = room();
    expect(posedLabel({ id: 'p', text: 't', votes: 0 }, r, 'm2')).toBeNull();
    expect(posedLabel({ id: 'p', text: 't', votes: 0, posed_to: null }, r, 'm2')).toBe('Put to the group');
    expect(posedLabel({ id: 'p', text: 't', votes: 0, posed_to: 'm3' }, r, 'm2')).toBe('Put to Lin');
    expect(posedLabel({ id: 'p', text: 't', votes: 0, posed_to: 'm2' }, r, 'm2')).toBe('Put to Ada (you)');
  });

  it('counts the pending prompts a release without ids would release', () => {
    expect(
      releasableCount([
        { id: 'a', text: 'a', held: false },
        { id: 'b', text: 'b', held: true },
        { id: 'c', text: 'c', held: false },
      ]),
    ).toBe(2);
  });

  it('announces released questions and a question put to this member', () => {
    const r = room();
    const self = { id: 'm2', name: 'Ada', role: 'participant' as const };
    expect(announce(released, r, self)).toBe('New questions released');
    expect(announce({ kind: 'prompt_posed', prompt_id: 'p7', member_id: 'm2' }, r, self)).toBe('A question was put to you');
    expect(announce({ kind: 'prompt_posed', prompt_id: 'p7', member_id: null }, r, self)).toBe('A question was put to the group');
    expect(announce({ kind: 'prompt_posed', prompt_id: 'p7', member_id: 'm3' }, r, self)).toBe('A question was put to Lin');
    expect(announce({ kind: 'prompt_upvoted', prompt_id: 'p7', votes: 1 }, r, self)).toBeNull();
  });

  it('prepares typed text: CR LF and tabs normalised, trimmed, checked', () => {
    expect(preparePromptText('  a\r\nb\tc  ')).toBe('a\nb c');
    expect(preparePromptText(' \n ')).toBeNull();
    expect(preparePromptText('x'.repeat(501))).toBeNull();
    expect(preparePromptText('bell\u0007')).toBeNull();
  });
});
