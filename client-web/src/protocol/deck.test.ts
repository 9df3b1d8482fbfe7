// Challenge deck (1.3): decoding of the two events and the snapshot field, and the command
// checker's details beyond protocol/vectors/commands.json.
import { describe, expect, it } from 'vitest';
import { checkCommand, decodeRoomEvent, decodeServerMessage, decodeSnapshot } from './decode';

const base = { room: 'r', seq: 9, title: 'T', members: [] };
const cards = [
  { id: 'c1', text: 'What assumption are you making that you have not tested?' },
  { id: 'c13', text: 'Two lines:\nwhy now?' },
];

describe('deck events', () => {
  it('deck_changed decodes the whole deck in order', () => {
    expect(decodeRoomEvent({ kind: 'deck_changed', cards })).toEqual({ kind: 'deck_changed', cards });
  });

  it('deck_changed accepts an empty deck', () => {
    expect(decodeRoomEvent({ kind: 'deck_changed', cards: [] })).toEqual({ kind: 'deck_changed', cards: [] });
  });

  it('deck_card_added and deck_card_removed (1.4) decode the delta', () => {
    expect(decodeRoomEvent({ kind: 'deck_card_added', card: cards[1] })).toEqual({ kind: 'deck_card_added', card: cards[1] });
    expect(decodeRoomEvent({ kind: 'deck_card_removed', card_id: 'c13' })).toEqual({ kind: 'deck_card_removed', card_id: 'c13' });
    expect(decodeRoomEvent({ kind: 'deck_card_added' })).toBeUndefined();
    expect(decodeRoomEvent({ kind: 'deck_card_added', card: { id: 'c1' } })).toBeUndefined();
    expect(decodeRoomEvent({ kind: 'deck_card_removed', card_id: '' })).toBeUndefined();
    expect(decodeRoomEvent({ kind: 'deck_card_removed', card_id: 13 })).toBeUndefined();
  });

  it('deck_card_drawn decodes the card', () => {
    expect(decodeRoomEvent({ kind: 'deck_card_drawn', card: cards[0] })).toEqual({ kind: 'deck_card_drawn', card: cards[0] });
  });

  it('ignores unknown fields of the events and the cards', () => {
    expect(decodeRoomEvent({ kind: 'deck_changed', x: 1, cards: [{ id: 'c1', text: 't', y: 2 }] })).toEqual({
      kind: 'deck_changed',
      cards: [{ id: 'c1', text: 't' }],
    });
    expect(decodeRoomEvent({ kind: 'deck_card_drawn', card: { id: 'c1', text: 't', z: 3 }, w: 4 })).toEqual({
      kind: 'deck_card_drawn',
      card: { id: 'c1', text: 't' },
    });
  });

  it('arrives in an event push', () => {
    const r = decodeServerMessage(
      JSON.stringify({ type: 'event', room: 'r', seq: 4, time: 5, event: { kind: 'deck_card_drawn', card: cards[1] } }),
    );
    expect(r.ok && r.message.type === 'event' && r.message.event).toEqual({ kind: 'deck_card_drawn', card: cards[1] });
  });

  it.each([
    ['deck_changed without cards', { kind: 'deck_changed' }],
    ['deck_changed with cards not a list', { kind: 'deck_changed', cards: {} }],
    ['deck_changed with cards null', { kind: 'deck_changed', cards: null }],
    ['deck_changed with a card not an object', { kind: 'deck_changed', cards: ['c1'] }],
    ['deck_changed with a card without text', { kind: 'deck_changed', cards: [{ id: 'c1' }] }],
    ['deck_changed with a numeric id', { kind: 'deck_changed', cards: [{ id: 1, text: 't' }] }],
    ['deck_changed with an empty id', { kind: 'deck_changed', cards: [{ id: '', text: 't' }] }],
    ['deck_card_drawn without card', { kind: 'deck_card_drawn' }],
    ['deck_card_drawn with card null', { kind: 'deck_card_drawn', card: null }],
    ['deck_card_drawn with a card id only', { kind: 'deck_card_drawn', card: 'c1' }],
    ['deck_card_drawn with text not a string', { kind: 'deck_card_drawn', card: { id: 'c1', text: 5 } }],
  ])('rejects %s', (_name, event) => {
    expect(decodeRoomEvent(event)).toBeUndefined();
    expect(decodeServerMessage(JSON.stringify({ type: 'event', room: 'r', seq: 2, time: 1, event })).ok).toBe(false);
  });
});

describe('snapshot deck', () => {
  it('absent (an older server): no deck', () => {
    expect(decodeSnapshot(base)!.deck).toBeNull();
  });

  it('null: no deck', () => {
    expect(decodeSnapshot({ ...base, deck: null })!.deck).toBeNull();
  });

  it('reads {cards, drawn}', () => {
    expect(decodeSnapshot({ ...base, deck: { cards, drawn: ['c13', 'c1'] } })!.deck).toEqual({ cards, drawn: ['c13', 'c1'] });
    expect(decodeSnapshot({ ...base, deck: { cards: [], drawn: [] } })!.deck).toEqual({ cards: [], drawn: [] });
  });

  it('drops a drawn id that names no card (as deck_changed does)', () => {
    expect(decodeSnapshot({ ...base, deck: { cards, drawn: ['c1', 'gone'] } })!.deck).toEqual({ cards, drawn: ['c1'] });
  });

  it('ignores unknown fields of the deck', () => {
    expect(decodeSnapshot({ ...base, deck: { cards, drawn: [], extra: 1 } })!.deck).toEqual({ cards, drawn: [] });
  });

  it.each([
    ['deck not an object', []],
    ['deck a string', 'c1'],
    ['cards missing', { drawn: [] }],
    ['drawn missing', { cards }],
    ['drawn not a list', { cards, drawn: 'c1' }],
    ['drawn with a number', { cards, drawn: [1] }],
    ['a bad card', { cards: [{ id: 'c1' }], drawn: [] }],
  ])('rejects a snapshot with %s', (_name, deck) => {
    expect(decodeSnapshot({ ...base, deck })).toBeUndefined();
  });

  it('arrives in a join reply', () => {
    const r = decodeServerMessage(
      JSON.stringify({
        type: 'reply',
        id: 'j1',
        result: {
          member: { id: 'm3', name: 'Lin', role: 'participant' },
          resume_token: 'AAAAAAAAAAAAAAAAAAAAAA',
          snapshot: { ...base, deck: { cards, drawn: ['c13'] } },
        },
      }),
    );
    expect(r.ok).toBe(true);
  });
});

describe('checkCommand (deck)', () => {
  const frame = (o: object) => JSON.stringify({ id: 'd1', ...o });

  it('deck_add takes text like a prompt: trimmed, 1 to 500 code points, line feeds allowed', () => {
    expect(checkCommand(frame({ type: 'deck_add', text: '  What next?\nAnd then?  ' }))).toEqual({ ok: true, type: 'deck_add' });
    expect(checkCommand(frame({ type: 'deck_add', text: 'x'.repeat(500) })).ok).toBe(true);
    expect(checkCommand(frame({ type: 'deck_add', text: '😀'.repeat(500) })).ok).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['only white space', ' \n\t '],
    ['501 characters', 'x'.repeat(501)],
    ['a tab inside', 'a\tb'],
    ['a carriage return inside', 'a\rb'],
    ['U+0085 inside', 'a\u0085b'],
    ['U+2028 inside', 'a\u2028b'],
    ['DEL inside', 'a\u007fb'],
  ])('deck_add with %s text is invalid_text', (_name, text) => {
    expect(checkCommand(frame({ type: 'deck_add', text }))).toMatchObject({ ok: false, code: 'invalid_text', id: 'd1' });
  });

  it.each([
    ['a number', 5],
    ['null', null],
    ['a list', ['a']],
  ])('deck_add with text %s is invalid_field', (_name, text) => {
    expect(checkCommand(frame({ type: 'deck_add', text }))).toMatchObject({ ok: false, code: 'invalid_field', id: 'd1' });
  });

  it('deck_add: unknown fields first, then text', () => {
    expect(checkCommand(frame({ type: 'deck_add', card: 'c1' }))).toMatchObject({ ok: false, code: 'unknown_field' });
    expect(checkCommand(frame({ type: 'deck_add' }))).toMatchObject({ ok: false, code: 'missing_field' });
  });

  it('deck_remove: card is 1 to 64 characters', () => {
    expect(checkCommand(frame({ type: 'deck_remove', card: 'c1' }))).toEqual({ ok: true, type: 'deck_remove' });
    expect(checkCommand(frame({ type: 'deck_remove', card: 'x'.repeat(64) })).ok).toBe(true);
    expect(checkCommand(frame({ type: 'deck_remove', card: 'x'.repeat(65) }))).toMatchObject({ ok: false, code: 'invalid_field' });
    expect(checkCommand(frame({ type: 'deck_remove', card: '' }))).toMatchObject({ ok: false, code: 'invalid_field' });
    expect(checkCommand(frame({ type: 'deck_remove' }))).toMatchObject({ ok: false, code: 'missing_field' });
    expect(checkCommand(frame({ type: 'deck_remove', card: 'c1', text: 'x' }))).toMatchObject({ ok: false, code: 'unknown_field' });
  });

  it('deck_draw takes no fields', () => {
    expect(checkCommand(frame({ type: 'deck_draw' }))).toEqual({ ok: true, type: 'deck_draw' });
    expect(checkCommand(frame({ type: 'deck_draw', text: 'x' }))).toMatchObject({ ok: false, code: 'unknown_field' });
  });
});
