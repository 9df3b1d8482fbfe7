// Anonymous prompts (1.3): decoding of the prompts_pending push, the three events and the snapshot
// field, and the command checker's details beyond protocol/vectors/commands.json.
import { describe, expect, it } from 'vitest';
import { checkCommand, decodeRoomEvent, decodeServerMessage, decodeSnapshot } from './decode';
import { cleanPromptText } from './text';

const base = { room: 'r', seq: 9, title: 'T', members: [] };

describe('prompts_pending push', () => {
  it('decodes the list (no seq, no author)', () => {
    const r = decodeServerMessage(
      JSON.stringify({
        type: 'prompts_pending',
        room: 'r',
        prompts: [
          { id: 'p1', text: 'Why now?', held: false },
          { id: 'p2', text: 'Two\nlines', held: true },
        ],
      }),
    );
    expect(r).toEqual({
      ok: true,
      message: {
        type: 'prompts_pending',
        room: 'r',
        prompts: [
          { id: 'p1', text: 'Why now?', held: false },
          { id: 'p2', text: 'Two\nlines', held: true },
        ],
      },
    });
  });

  it('accepts an empty list and ignores extra fields of the push, but refuses extra fields on an item', () => {
    const r = decodeServerMessage('{"type":"prompts_pending","room":"r","prompts":[{"id":"p1","text":"x","held":false}],"extra":2}');
    expect(r.ok && r.message).toEqual({ type: 'prompts_pending', room: 'r', prompts: [{ id: 'p1', text: 'x', held: false }] });
    expect(decodeServerMessage('{"type":"prompts_pending","room":"r","prompts":[]}').ok).toBe(true);
    // Anonymous items are closed: a field that could name the author makes the push invalid.
    expect(decodeServerMessage('{"type":"prompts_pending","room":"r","prompts":[{"id":"p1","text":"x","held":false,"z":1}]}').ok).toBe(false);
  });

  it.each([
    ['no room', { prompts: [] }],
    ['no prompts', { room: 'r' }],
    ['prompts not a list', { room: 'r', prompts: {} }],
    ['held missing', { room: 'r', prompts: [{ id: 'p1', text: 'x' }] }],
    ['held not a boolean', { room: 'r', prompts: [{ id: 'p1', text: 'x', held: 'no' }] }],
    ['empty id', { room: 'r', prompts: [{ id: '', text: 'x', held: false }] }],
    ['text not a string', { room: 'r', prompts: [{ id: 'p1', text: 5, held: false }] }],
    ['an item not an object', { room: 'r', prompts: ['p1'] }],
  ])('rejects %s', (_name, body) => {
    expect(decodeServerMessage(JSON.stringify({ type: 'prompts_pending', ...body })).ok).toBe(false);
  });
});

describe('1.3 events', () => {
  it('prompts_released keeps the order given', () => {
    expect(
      decodeRoomEvent({ kind: 'prompts_released', prompts: [{ id: 'p2', text: 'b' }, { id: 'p1', text: 'a' }] }),
    ).toEqual({ kind: 'prompts_released', prompts: [{ id: 'p2', text: 'b' }, { id: 'p1', text: 'a' }] });
  });

  it('prompt_upvoted and prompt_posed (to the group and to a member)', () => {
    expect(decodeRoomEvent({ kind: 'prompt_upvoted', prompt_id: 'p1', votes: 3 })).toEqual({
      kind: 'prompt_upvoted',
      prompt_id: 'p1',
      votes: 3,
    });
    expect(decodeRoomEvent({ kind: 'prompt_posed', prompt_id: 'p1', member_id: null })).toEqual({
      kind: 'prompt_posed',
      prompt_id: 'p1',
      member_id: null,
    });
    expect(decodeRoomEvent({ kind: 'prompt_posed', prompt_id: 'p1', member_id: 'm3' })).toEqual({
      kind: 'prompt_posed',
      prompt_id: 'p1',
      member_id: 'm3',
    });
  });

  it.each([
    ['prompts_released without prompts', { kind: 'prompts_released' }],
    ['prompts_released with an author field only', { kind: 'prompts_released', prompts: [{ id: 'p1' }] }],
    ['prompts_released with a numeric id', { kind: 'prompts_released', prompts: [{ id: 1, text: 'a' }] }],
    ['prompt_upvoted with negative votes', { kind: 'prompt_upvoted', prompt_id: 'p1', votes: -1 }],
    ['prompt_upvoted with fractional votes', { kind: 'prompt_upvoted', prompt_id: 'p1', votes: 1.5 }],
    ['prompt_upvoted without prompt_id', { kind: 'prompt_upvoted', votes: 1 }],
    ['prompt_posed without member_id', { kind: 'prompt_posed', prompt_id: 'p1' }],
    ['prompt_posed with a numeric member_id', { kind: 'prompt_posed', prompt_id: 'p1', member_id: 3 }],
    ['prompt_posed with an empty prompt_id', { kind: 'prompt_posed', prompt_id: '', member_id: null }],
  ])('rejects %s', (_name, body) => {
    expect(decodeRoomEvent(body)).toBeUndefined();
    expect(decodeServerMessage(JSON.stringify({ type: 'event', room: 'r', seq: 4, time: 1, event: body })).ok).toBe(false);
  });

  it('a whole event push', () => {
    const r = decodeServerMessage(
      '{"type":"event","room":"r","seq":12,"time":5,"event":{"kind":"prompt_posed","prompt_id":"pA","member_id":null}}',
    );
    expect(r.ok && r.message).toEqual({
      type: 'event',
      room: 'r',
      seq: 12,
      time: 5,
      event: { kind: 'prompt_posed', prompt_id: 'pA', member_id: null },
    });
  });
});

describe('1.3 snapshot field', () => {
  it('defaults prompts to [] when absent', () => {
    expect(decodeSnapshot(base)?.prompts).toEqual([]);
  });

  it('reads posed_to: absent (never posed), null (the group) or a member id', () => {
    const s = decodeSnapshot({
      ...base,
      prompts: [
        { id: 'p1', text: 'a', votes: 0 },
        { id: 'p2', text: 'b', votes: 2, posed_to: null },
        { id: 'p3', text: 'c', votes: 1, posed_to: 'm2' },
      ],
    });
    expect(s?.prompts).toEqual([
      { id: 'p1', text: 'a', votes: 0 },
      { id: 'p2', text: 'b', votes: 2, posed_to: null },
      { id: 'p3', text: 'c', votes: 1, posed_to: 'm2' },
    ]);
    expect(s?.prompts[0]).not.toHaveProperty('posed_to');
  });

  it.each([
    ['prompts not a list', { prompts: {} }],
    ['votes missing', { prompts: [{ id: 'p1', text: 'a' }] }],
    ['votes negative', { prompts: [{ id: 'p1', text: 'a', votes: -1 }] }],
    ['posed_to a number', { prompts: [{ id: 'p1', text: 'a', votes: 0, posed_to: 1 }] }],
    ['text missing', { prompts: [{ id: 'p1', votes: 0 }] }],
  ])('rejects %s', (_name, extra) => {
    expect(decodeSnapshot({ ...base, ...extra })).toBeUndefined();
  });
});

describe('checkCommand (1.3 details beyond the vectors)', () => {
  const cmd = (o: object) => checkCommand(JSON.stringify({ id: 'x', ...o }));
  const submit = (text: unknown) => cmd({ type: 'prompt_submit', text });

  it('prompt_submit: trims ASCII white space (tabs and CR too) at both ends, allows \\n inside only', () => {
    expect(submit('\t\r\n question \r\n\t')).toEqual({ ok: true, type: 'prompt_submit' });
    expect(submit('a\nb')).toEqual({ ok: true, type: 'prompt_submit' });
    expect(submit('a\r\nb')).toMatchObject({ ok: false, code: 'invalid_text', id: 'x' });
    expect(submit('a\rb')).toMatchObject({ ok: false, code: 'invalid_text' });
    expect(submit('a\u0085b')).toMatchObject({ ok: false, code: 'invalid_text' });
    expect(submit('a\u2028b')).toMatchObject({ ok: false, code: 'invalid_text' });
    expect(submit('a\u007fb')).toMatchObject({ ok: false, code: 'invalid_text' });
    expect(submit('\n\n')).toMatchObject({ ok: false, code: 'invalid_text' });
    expect(submit('')).toMatchObject({ ok: false, code: 'invalid_text' });
    // U+00A0 is neither trimmed nor a control character.
    expect(submit('\u00a0')).toEqual({ ok: true, type: 'prompt_submit' });
  });

  it('prompt_submit: counts code points after trimming', () => {
    expect(submit('😀'.repeat(500))).toEqual({ ok: true, type: 'prompt_submit' });
    expect(submit('😀'.repeat(501))).toMatchObject({ ok: false, code: 'invalid_text' });
    expect(submit(`  ${'x'.repeat(500)}  `)).toEqual({ ok: true, type: 'prompt_submit' });
    expect(cleanPromptText('  a\nb  ', 500)).toBe('a\nb');
  });

  it('prompt_submit: non-string text is invalid_field; unknown fields come first', () => {
    expect(submit(null)).toMatchObject({ ok: false, code: 'invalid_field' });
    expect(submit(['a'])).toMatchObject({ ok: false, code: 'invalid_field' });
    expect(cmd({ type: 'prompt_submit', text: 5, member: 'm1' })).toMatchObject({ ok: false, code: 'unknown_field' });
  });

  it('prompt_release: a list of 1 to 100 ids of 1 to 64 characters', () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `p${i}`);
    expect(cmd({ type: 'prompt_release', prompts: ids(100) })).toEqual({ ok: true, type: 'prompt_release' });
    expect(cmd({ type: 'prompt_release', prompts: ids(101) })).toMatchObject({ ok: false, code: 'invalid_field' });
    expect(cmd({ type: 'prompt_release', prompts: ['p'.repeat(64)] })).toEqual({ ok: true, type: 'prompt_release' });
    expect(cmd({ type: 'prompt_release', prompts: ['p'.repeat(65)] })).toMatchObject({ ok: false, code: 'invalid_field' });
    expect(cmd({ type: 'prompt_release', prompts: [''] })).toMatchObject({ ok: false, code: 'invalid_field' });
    expect(cmd({ type: 'prompt_release', prompts: 'p1' })).toMatchObject({ ok: false, code: 'invalid_field' });
    expect(cmd({ type: 'prompt_release', prompts: null })).toMatchObject({ ok: false, code: 'invalid_field' });
  });

  it('prompt_hold, prompt_discard, prompt_upvote: prompt required, 1 to 64 characters, nothing else', () => {
    for (const type of ['prompt_hold', 'prompt_discard', 'prompt_upvote']) {
      expect(cmd({ type, prompt: 'p'.repeat(64) })).toEqual({ ok: true, type });
      expect(cmd({ type, prompt: 'p'.repeat(65) })).toMatchObject({ ok: false, code: 'invalid_field' });
      expect(cmd({ type, prompt: 1 })).toMatchObject({ ok: false, code: 'invalid_field' });
      expect(cmd({ type })).toMatchObject({ ok: false, code: 'missing_field' });
      expect(cmd({ type, prompt: 'p1', member: 'm1' })).toMatchObject({ ok: false, code: 'unknown_field' });
    }
  });

  it('prompt_pose: member optional, 1 to 64 characters; prompt checked first', () => {
    expect(cmd({ type: 'prompt_pose', prompt: 'p1', member: 'm'.repeat(64) })).toEqual({ ok: true, type: 'prompt_pose' });
    expect(cmd({ type: 'prompt_pose', prompt: 'p1', member: 'm'.repeat(65) })).toMatchObject({ ok: false, code: 'invalid_field' });
    expect(cmd({ type: 'prompt_pose', prompt: 'p1', member: '' })).toMatchObject({ ok: false, code: 'invalid_field' });
    expect(cmd({ type: 'prompt_pose', prompt: 'p1', member: null })).toMatchObject({ ok: false, code: 'invalid_field' });
    expect(cmd({ type: 'prompt_pose', member: 'm1' })).toMatchObject({ ok: false, code: 'missing_field' });
  });
});
