// Challenge deck (1.3, deltas 1.4) in the room view: applyEvent for its events, the snapshot copy, the
// card on show, the announcement and the panel's helpers.
import { describe, expect, it } from 'vitest';
import { prepareCardText } from './connection';
import type { DeckState, RoomEvent, RoomSnapshot } from './protocol';
import { applyEvent, emptyRoom, roomFromSnapshot, shownCard, type RoomView } from './room-state';
import { announce, run, testRoom } from './room-state.fixtures';
import { drawnText } from './ui/DeckPanel';

const c1 = { id: 'c1', text: 'What assumption are you making that you have not tested?' };
const c2 = { id: 'c2', text: 'What is your evidence for that?' };
const c3 = { id: 'c3', text: 'What are you not saying?' };

function room(deck: DeckState | null = { cards: [c1, c2, c3], drawn: [] }): RoomView {
  return { ...testRoom(), deck };
}
const drawn = (card: { id: string; text: string }): RoomEvent => ({ kind: 'deck_card_drawn', card });

describe('applyEvent (deck, 1.3)', () => {
  it('an empty room has no deck', () => {
    expect(emptyRoom('r').deck).toBeNull();
    expect(shownCard(null)).toBeNull();
  });

  it('deck_card_drawn appends the id; the last one drawn is on show', () => {
    const r = run(room(), drawn(c2), drawn(c1));
    expect(r.deck).toEqual({ cards: [c1, c2, c3], drawn: ['c2', 'c1'] });
    expect(shownCard(r.deck)).toEqual(c1);
    expect(r.seq).toBe(12);
  });

  it('a card drawn again means the deck started over: drawn is reset to that card', () => {
    const r = run(room(), drawn(c2), drawn(c1), drawn(c3), drawn(c1));
    expect(r.deck!.drawn).toEqual(['c1']);
    expect(shownCard(r.deck)).toEqual(c1);
    const again = run(room(), drawn(c2), drawn(c2));
    expect(again.deck!.drawn).toEqual(['c2']);
  });

  it('deck_changed replaces the cards and keeps what was drawn of those still there', () => {
    const c4 = { id: 'c13', text: 'What would your deputy say?' };
    const r = run(room(), drawn(c2), drawn(c1), { kind: 'deck_changed', cards: [c1, c2, c3, c4] });
    expect(r.deck).toEqual({ cards: [c1, c2, c3, c4], drawn: ['c2', 'c1'] });
    expect(shownCard(r.deck)).toEqual(c1);
  });

  it('deck_changed drops removed cards from drawn (the card on show too)', () => {
    const r = run(room(), drawn(c2), drawn(c1), { kind: 'deck_changed', cards: [c2, c3] });
    expect(r.deck).toEqual({ cards: [c2, c3], drawn: ['c2'] });
    // The card on show was removed: the one drawn before it is the last one drawn now.
    expect(shownCard(r.deck)).toEqual(c2);
    const none = run(room(), drawn(c1), { kind: 'deck_changed', cards: [c2] });
    expect(none.deck).toEqual({ cards: [c2], drawn: [] });
    expect(shownCard(none.deck)).toBeNull();
  });

  it('deck_changed to an empty deck', () => {
    const r = run(room(), drawn(c1), { kind: 'deck_changed', cards: [] });
    expect(r.deck).toEqual({ cards: [], drawn: [] });
  });

  it('without a deck in view, the events make one', () => {
    expect(run(room(null), { kind: 'deck_changed', cards: [c1] }).deck).toEqual({ cards: [c1], drawn: [] });
    const r = run(room(null), drawn(c2));
    expect(r.deck).toEqual({ cards: [c2], drawn: ['c2'] });
    expect(shownCard(r.deck)).toEqual(c2);
  });

  it('is pure: the old view and the event are not changed', () => {
    const before = room();
    const ev: RoomEvent = { kind: 'deck_changed', cards: [c1] };
    const after = applyEvent(applyEvent(before, drawn(c3), 11), ev, 12);
    expect(before.deck).toEqual({ cards: [c1, c2, c3], drawn: [] });
    expect(ev).toEqual({ kind: 'deck_changed', cards: [c1] });
    after.deck!.cards[0]!.text = 'changed';
    expect(c1.text).not.toBe('changed');
  });

  it('copies the deck from a snapshot', () => {
    const snap: RoomSnapshot = { ...emptyRoom('r'), room: 'r', members: [], deck: { cards: [c1, c2], drawn: ['c2'] } };
    const view = roomFromSnapshot(snap);
    expect(view.deck).toEqual({ cards: [c1, c2], drawn: ['c2'] });
    expect(view.deck).not.toBe(snap.deck);
    expect(view.deck!.cards[0]).not.toBe(snap.deck!.cards[0]);
    expect(roomFromSnapshot({ ...snap, deck: null }).deck).toBeNull();
  });
});

describe('applyEvent (deck deltas, 1.4)', () => {
  const c4 = { id: 'c13', text: 'What would your deputy say?' };
  const added = (card: { id: string; text: string }): RoomEvent => ({ kind: 'deck_card_added', card });
  const removed = (card_id: string): RoomEvent => ({ kind: 'deck_card_removed', card_id });

  it('deck_card_added appends a card and keeps what was drawn', () => {
    const r = run(room(), drawn(c2), added(c4));
    expect(r.deck).toEqual({ cards: [c1, c2, c3, c4], drawn: ['c2'] });
  });

  it('deck_card_added of a card already there changes nothing but the seq', () => {
    const r = run(room(), added(c1));
    expect(r.deck).toEqual({ cards: [c1, c2, c3], drawn: [] });
  });

  it('deck_card_removed takes the card out of the deck and of the drawn cards (the one on show too)', () => {
    const r = run(room(), drawn(c2), drawn(c1), removed('c1'));
    expect(r.deck).toEqual({ cards: [c2, c3], drawn: ['c2'] });
    expect(shownCard(r.deck)).toEqual(c2);
    expect(run(room(), removed('nope')).deck).toEqual({ cards: [c1, c2, c3], drawn: [] });
  });

  it('without a deck in view, an added card makes one', () => {
    expect(run(room(null), added(c4)).deck).toEqual({ cards: [c4], drawn: [] });
    expect(run(room(null), removed('c1')).deck).toEqual({ cards: [], drawn: [] });
  });

  it('is pure', () => {
    const before = room();
    const after = applyEvent(before, added(c4), 11);
    expect(before.deck!.cards).toHaveLength(3);
    after.deck!.cards[3]!.text = 'changed';
    expect(c4.text).toBe('What would your deputy say?');
  });

  it('a deck edited in 1.3 (deck_changed) and then in 1.4 (deltas) adds up', () => {
    const r = run(room(), { kind: 'deck_changed', cards: [c1, c2] }, added(c4), removed('c2'));
    expect(r.deck).toEqual({ cards: [c1, c4], drawn: [] });
  });
});

describe('deck helpers', () => {
  it('announces the card drawn', () => {
    const r = run(room(), drawn(c3));
    expect(announce(drawn(c3), r, { id: 'm2', name: 'Ada', role: 'participant' })).toBe('Challenge: What are you not saying?');
    expect(announce({ kind: 'deck_changed', cards: [c1] }, r, null)).toBeNull();
  });

  it('drawnText counts the cards drawn since the deck started over', () => {
    expect(drawnText({ cards: [c1, c2, c3], drawn: ['c2'] })).toBe('1 of 3 cards drawn');
    expect(drawnText({ cards: [c1], drawn: [] })).toBe('0 of 1 card drawn');
  });

  it('prepareCardText cleans like a prompt', () => {
    expect(prepareCardText('  Why now?\r\nWhy us?\t')).toBe('Why now?\nWhy us?');
    expect(prepareCardText('a\tb')).toBe('a b');
    expect(prepareCardText('   ')).toBeNull();
    expect(prepareCardText('x'.repeat(501))).toBeNull();
    expect(prepareCardText('bell\u0007')).toBeNull();
  });
});
