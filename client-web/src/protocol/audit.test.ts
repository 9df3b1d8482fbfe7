// Climate-for-learning audit (1.3): decoding of the two events and the snapshot field, and the
// command checker's details beyond protocol/vectors/commands.json.
import { describe, expect, it } from 'vitest';
import { checkCommand, decodeRoomEvent, decodeServerMessage, decodeSnapshot } from './decode';

const base = { room: 'r', seq: 9, title: 'T', members: [] };
const items = [
  { id: 'safe_to_disagree', text: 'It is safe to disagree with others in this group, including the facilitator.' },
  { id: 'confidential', text: 'I trust that what is said here stays here.' },
];
const results = {
  items: [
    { id: 'safe_to_disagree', counts: [0, 1, 2, 3, 1] },
    { id: 'confidential', counts: [1, 0, 0, 4, 2] },
  ],
  comments: ['We rush the hard parts.', 'More silence, please.'],
};

describe('audit_opened', () => {
  it('decodes {audit: {id, k, items}}', () => {
    expect(decodeRoomEvent({ kind: 'audit_opened', audit: { id: 'a1', k: 5, items } })).toEqual({
      kind: 'audit_opened',
      audit: { id: 'a1', k: 5, items },
    });
  });

  it('ignores unknown fields of the event, the audit and its items', () => {
    expect(
      decodeRoomEvent({ kind: 'audit_opened', x: 1, audit: { id: 'a1', k: 5, y: 2, items: [{ id: 'i', text: 't', z: 3 }] } }),
    ).toEqual({ kind: 'audit_opened', audit: { id: 'a1', k: 5, items: [{ id: 'i', text: 't' }] } });
  });

  it('arrives in an event push', () => {
    const r = decodeServerMessage(
      JSON.stringify({ type: 'event', room: 'r', seq: 4, time: 5, event: { kind: 'audit_opened', audit: { id: 'a1', k: 3, items } } }),
    );
    expect(r.ok && r.message.type === 'event' && r.message.event.kind).toBe('audit_opened');
  });

  it.each([
    ['no audit', {}],
    ['audit null', { audit: null }],
    ['numeric id', { audit: { id: 1, k: 5, items } }],
    ['empty id', { audit: { id: '', k: 5, items } }],
    ['k missing', { audit: { id: 'a1', items } }],
    ['k a string', { audit: { id: 'a1', k: '5', items } }],
    ['k a fraction', { audit: { id: 'a1', k: 5.5, items } }],
    ['k zero', { audit: { id: 'a1', k: 0, items } }],
    ['items missing', { audit: { id: 'a1', k: 5 } }],
    ['items not a list', { audit: { id: 'a1', k: 5, items: {} } }],
    ['an item without text', { audit: { id: 'a1', k: 5, items: [{ id: 'i' }] } }],
    ['an item with an empty id', { audit: { id: 'a1', k: 5, items: [{ id: '', text: 't' }] } }],
  ])('rejects %s', (_name, body) => {
    expect(decodeRoomEvent({ kind: 'audit_opened', ...body })).toBeUndefined();
  });
});

describe('audit_closed', () => {
  it('decodes results', () => {
    expect(decodeRoomEvent({ kind: 'audit_closed', audit_id: 'a1', responses: 7, results })).toEqual({
      kind: 'audit_closed',
      audit_id: 'a1',
      responses: 7,
      results,
    });
  });

  it('decodes results: null (fewer than k answered)', () => {
    expect(decodeRoomEvent({ kind: 'audit_closed', audit_id: 'a1', responses: 2, results: null })).toEqual({
      kind: 'audit_closed',
      audit_id: 'a1',
      responses: 2,
      results: null,
    });
  });

  it('accepts no comments and zero responses', () => {
    const r = decodeRoomEvent({ kind: 'audit_closed', audit_id: 'a1', responses: 0, results: null });
    expect(r).toMatchObject({ responses: 0 });
    expect(
      decodeRoomEvent({ kind: 'audit_closed', audit_id: 'a1', responses: 5, results: { items: [], comments: [] } }),
    ).toMatchObject({ results: { items: [], comments: [] } });
  });

  it.each([
    ['no audit_id', { responses: 1, results: null }],
    ['numeric audit_id', { audit_id: 1, responses: 1, results: null }],
    ['no responses', { audit_id: 'a1', results: null }],
    ['negative responses', { audit_id: 'a1', responses: -1, results: null }],
    ['responses a string', { audit_id: 'a1', responses: '3', results: null }],
    ['results absent', { audit_id: 'a1', responses: 1 }],
    ['results a list', { audit_id: 'a1', responses: 1, results: [] }],
    ['four counts', { audit_id: 'a1', responses: 1, results: { items: [{ id: 'i', counts: [1, 0, 0, 0] }], comments: [] } }],
    ['six counts', { audit_id: 'a1', responses: 1, results: { items: [{ id: 'i', counts: [1, 0, 0, 0, 0, 0] }], comments: [] } }],
    ['a negative count', { audit_id: 'a1', responses: 1, results: { items: [{ id: 'i', counts: [1, 0, -1, 0, 0] }], comments: [] } }],
    ['a fractional count', { audit_id: 'a1', responses: 1, results: { items: [{ id: 'i', counts: [1, 0, 0.5, 0, 0] }], comments: [] } }],
    ['comments missing', { audit_id: 'a1', responses: 1, results: { items: [] } }],
    ['a comment not a string', { audit_id: 'a1', responses: 1, results: { items: [], comments: [3] } }],
    ['result item without id', { audit_id: 'a1', responses: 1, results: { items: [{ counts: [0, 0, 0, 0, 1] }], comments: [] } }],
  ])('rejects %s', (_name, body) => {
    expect(decodeRoomEvent({ kind: 'audit_closed', ...body })).toBeUndefined();
  });
});

describe('snapshot audit', () => {
  it('absent or null: no audit', () => {
    expect(decodeSnapshot(base)?.audit).toBeNull();
    expect(decodeSnapshot({ ...base, audit: null })?.audit).toBeNull();
  });

  it('an open audit has no count and no results (any sent are dropped)', () => {
    expect(decodeSnapshot({ ...base, audit: { id: 'a1', k: 5, items, open: true } })?.audit).toEqual({
      id: 'a1',
      k: 5,
      items,
      open: true,
    });
    const a = decodeSnapshot({ ...base, audit: { id: 'a1', k: 5, items, open: true, responses: 3, results: null } })?.audit;
    expect(a).toEqual({ id: 'a1', k: 5, items, open: true });
  });

  it('a closed audit carries responses and results (or null)', () => {
    expect(decodeSnapshot({ ...base, audit: { id: 'a1', k: 5, items, open: false, responses: 7, results } })?.audit).toEqual({
      id: 'a1',
      k: 5,
      items,
      open: false,
      responses: 7,
      results,
    });
    expect(
      decodeSnapshot({ ...base, audit: { id: 'a1', k: 5, items, open: false, responses: 2, results: null } })?.audit,
    ).toMatchObject({ open: false, responses: 2, results: null });
  });

  it.each([
    ['not an object', 'a1'],
    ['open missing', { id: 'a1', k: 5, items }],
    ['open not a boolean', { id: 'a1', k: 5, items, open: 'yes' }],
    ['closed without responses', { id: 'a1', k: 5, items, open: false, results: null }],
    ['closed without results', { id: 'a1', k: 5, items, open: false, responses: 1 }],
    ['closed with bad results', { id: 'a1', k: 5, items, open: false, responses: 1, results: { items: 1, comments: [] } }],
    ['bad items', { id: 'a1', k: 5, items: [1], open: true }],
  ])('a bad audit (%s) makes the snapshot invalid', (_name, audit) => {
    expect(decodeSnapshot({ ...base, audit })).toBeUndefined();
  });
});

describe('checkCommand: audit details', () => {
  const frame = (o: object) => JSON.stringify({ id: 'x', ...o });
  const answers = { safe_to_disagree: 4, confidential: 3 };

  it.each([
    ['k 3', { type: 'audit_open', k: 3 }],
    ['k 50', { type: 'audit_open', k: 50 }],
    ['an empty answers object (coverage is the server’s check)', { type: 'audit_answer', answers: {} }],
    ['answers naming unknown items', { type: 'audit_answer', answers: { anything: 1 } }],
    ['a comment of 500 characters', { type: 'audit_answer', answers, comment: 'x'.repeat(500) }],
    ['a comment with a line feed', { type: 'audit_answer', answers, comment: 'two\nlines' }],
    ['a comment trimmed to 500', { type: 'audit_answer', answers, comment: `  ${'x'.repeat(500)}  ` }],
  ])('accepts %s', (_name, o) => {
    expect(checkCommand(frame(o))).toEqual({ ok: true, type: o.type });
  });

  it.each([
    ['k 51', { type: 'audit_open', k: 51 }, 'invalid_field'],
    ['k a fraction', { type: 'audit_open', k: 4.5 }, 'invalid_field'],
    ['k null', { type: 'audit_open', k: null }, 'invalid_field'],
    ['an unknown field on audit_open', { type: 'audit_open', x: 1 }, 'unknown_field'],
    ['answers null', { type: 'audit_answer', answers: null }, 'invalid_field'],
    ['answers a string', { type: 'audit_answer', answers: '4' }, 'invalid_field'],
    ['a fractional answer', { type: 'audit_answer', answers: { a: 3.5 } }, 'invalid_field'],
    ['a boolean answer', { type: 'audit_answer', answers: { a: true } }, 'invalid_field'],
    ['a null answer', { type: 'audit_answer', answers: { a: null } }, 'invalid_field'],
    ['a negative answer', { type: 'audit_answer', answers: { a: -1 } }, 'invalid_answer'],
    ['a comment not a string', { type: 'audit_answer', answers, comment: 5 }, 'invalid_field'],
    ['a comment of 501 characters', { type: 'audit_answer', answers, comment: 'x'.repeat(501) }, 'invalid_text'],
    ['a comment with a tab', { type: 'audit_answer', answers, comment: 'a\tb' }, 'invalid_text'],
    ['a comment with a carriage return', { type: 'audit_answer', answers, comment: 'a\rb' }, 'invalid_text'],
    ['an unknown field on audit_answer (before the answers)', { type: 'audit_answer', x: 1 }, 'unknown_field'],
  ])('refuses %s', (_name, o, code) => {
    const r = checkCommand(frame(o));
    expect(r).toMatchObject({ ok: false, code, id: 'x' });
  });
});
