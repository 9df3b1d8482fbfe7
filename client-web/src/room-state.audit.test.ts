// Climate-for-learning audit (1.3) in the room view: applyEvent for the two events, the snapshot
// copy, the result helpers (mean, formatting, ordering) and the announcements.
import { describe, expect, it } from 'vitest';
import { AUDIT_CHOICES, auditMean, closeAuditWarning, countTotal, formatAnswers, formatMean, notEnoughText, summarize, unanswered } from './audit';
import { prepareAuditComment } from './connection';
import type { AuditState, RoomEvent, RoomSnapshot } from './protocol';
import { applyEvent, emptyRoom, roomFromSnapshot } from './room-state';
import { announce, run, testRoom as room } from './room-state.fixtures';

const items = [
  { id: 'safe_to_disagree', text: 'It is safe to disagree.' },
  { id: 'confidential', text: 'What is said here stays here.' },
];
const opened: RoomEvent = { kind: 'audit_opened', audit: { id: 'a1', k: 5, items } };
const results = {
  items: [
    { id: 'safe_to_disagree', counts: [0, 1, 1, 3, 1] },
    { id: 'confidential', counts: [0, 0, 2, 2, 2] },
  ],
  comments: ['Slow down.'],
};

describe('applyEvent (audit, 1.3)', () => {
  it('an empty room has no audit', () => {
    expect(emptyRoom('r').audit).toBeNull();
  });

  it('audit_opened sets an open audit with no count and no results', () => {
    const r = run(room(), opened);
    expect(r.audit).toEqual({ id: 'a1', k: 5, items, open: true });
    expect(r.audit).not.toHaveProperty('responses');
    expect(r.audit).not.toHaveProperty('results');
    expect(r.seq).toBe(11);
  });

  it('audit_closed sets open false, responses and results', () => {
    const r = run(room(), opened, { kind: 'audit_closed', audit_id: 'a1', responses: 6, results });
    expect(r.audit).toEqual({ id: 'a1', k: 5, items, open: false, responses: 6, results });
    expect(r.seq).toBe(12);
  });

  it('audit_closed with results null (fewer than k answered)', () => {
    const r = run(room(), opened, { kind: 'audit_closed', audit_id: 'a1', responses: 2, results: null });
    expect(r.audit).toEqual({ id: 'a1', k: 5, items, open: false, responses: 2, results: null });
  });

  it('a new audit_opened replaces a closed one and its results', () => {
    const r = run(
      room(),
      opened,
      { kind: 'audit_closed', audit_id: 'a1', responses: 6, results },
      { kind: 'audit_opened', audit: { id: 'a2', k: 3, items: [items[0]!] } },
    );
    expect(r.audit).toEqual({ id: 'a2', k: 3, items: [items[0]], open: true });
  });

  it('audit_closed for another audit (or none) changes nothing but the seq', () => {
    const a = run(room(), opened);
    const b = applyEvent(a, { kind: 'audit_closed', audit_id: 'zz', responses: 1, results: null }, 12);
    expect(b.audit).toEqual(a.audit);
    expect(b.seq).toBe(12);
    const c = applyEvent(room(), { kind: 'audit_closed', audit_id: 'a1', responses: 1, results: null }, 11);
    expect(c.audit).toBeNull();
  });

  it('does not share objects with the event or the previous view', () => {
    const before = run(room(), opened);
    const ev: RoomEvent = { kind: 'audit_closed', audit_id: 'a1', responses: 6, results: structuredClone(results) };
    const after = applyEvent(before, ev, 12);
    if (ev.kind === 'audit_closed' && ev.results) ev.results.items[0]!.counts[0] = 99;
    expect(after.audit?.results?.items[0]?.counts[0]).toBe(0);
    expect(before.audit?.open).toBe(true);
  });

  it('roomFromSnapshot copies the audit', () => {
    const audit: AuditState = { id: 'a1', k: 5, items, open: false, responses: 6, results: structuredClone(results) };
    const snap = { ...emptyRoom('r'), room: 'r', seq: 3, title: 'T', members: [], prompts: [], audit } as unknown as RoomSnapshot;
    const view = roomFromSnapshot(snap);
    expect(view.audit).toEqual(audit);
    audit.results!.comments.push('later');
    expect(view.audit?.results?.comments).toEqual(['Slow down.']);
    expect(roomFromSnapshot({ ...snap, audit: null }).audit).toBeNull();
  });
});

describe('audit helpers', () => {
  it('auditMean weighs answers 1..5 by their counts', () => {
    expect(auditMean([0, 1, 1, 3, 1])).toBeCloseTo((2 + 3 + 12 + 5) / 6);
    expect(auditMean([1, 0, 0, 0, 0])).toBe(1);
    expect(auditMean([0, 0, 0, 0, 4])).toBe(5);
    expect(auditMean([1, 1, 1, 1, 1])).toBe(3);
    expect(auditMean([0, 0, 0, 0, 0])).toBeNull();
    expect(countTotal([0, 1, 1, 3, 1])).toBe(6);
  });

  it('formatMean shows one decimal, rounding half up', () => {
    expect(formatMean(22 / 6)).toBe('3.7');
    expect(formatMean(4)).toBe('4.0');
    expect(formatMean(3.45)).toBe('3.5');
    expect(formatMean(3.25)).toBe('3.3');
    expect(formatMean(1)).toBe('1.0');
    expect(formatMean(4.96)).toBe('5.0');
    expect(formatMean(null)).toBe('–');
  });

  it('formats counts and the not-enough sentence', () => {
    expect(formatAnswers(1)).toBe('1 answer');
    expect(formatAnswers(0)).toBe('0 answers');
    expect(formatAnswers(7)).toBe('7 answers');
    expect(notEnoughText(2, 5)).toBe('Not enough answers to show results (2 answered, at least 5 needed)');
    expect(AUDIT_CHOICES[0]).toBe('1 strongly disagree');
    expect(AUDIT_CHOICES[4]).toBe('5 strongly agree');
  });

  it('summarize follows the audit’s item order, with texts and means', () => {
    const reversed = { ...results, items: [...results.items].reverse() };
    const s = summarize(items, reversed);
    expect(s.map((x) => x.id)).toEqual(['safe_to_disagree', 'confidential']);
    expect(s[0]).toMatchObject({ text: 'It is safe to disagree.', total: 6 });
    expect(formatMean(s[1]!.mean)).toBe('4.0');
    // A result for an item the audit does not list comes last, under its id.
    const extra = summarize(items, { items: [{ id: 'other', counts: [1, 0, 0, 0, 0] }], comments: [] });
    expect(extra).toEqual([{ id: 'other', text: 'other', counts: [1, 0, 0, 0, 0], total: 1, mean: 1 }]);
  });

  it('unanswered lists the statements without a 1..5 answer', () => {
    expect(unanswered({ items }, {})).toEqual(['safe_to_disagree', 'confidential']);
    expect(unanswered({ items }, { confidential: 3 })).toEqual(['safe_to_disagree']);
    expect(unanswered({ items }, { confidential: 3, safe_to_disagree: 6 })).toEqual(['safe_to_disagree']);
    expect(unanswered({ items }, { confidential: 3, safe_to_disagree: 1 })).toEqual([]);
  });

  it('prepareAuditComment: none when blank, cleaned like a prompt, null when not acceptable', () => {
    expect(prepareAuditComment('')).toBeUndefined();
    expect(prepareAuditComment(' \r\n\t ')).toBeUndefined();
    expect(prepareAuditComment('  a\r\nb\tc ')).toBe('a\nb c');
    expect(prepareAuditComment('x'.repeat(501))).toBeNull();
    expect(prepareAuditComment('a\u0000b')).toBeNull();
  });
});

describe('announcements (audit)', () => {
  it('says when a check opens and closes', () => {
    const r = room();
    expect(announce(opened, r, null)).toBe('A climate check has opened');
    expect(announce({ kind: 'audit_closed', audit_id: 'a1', responses: 6, results }, r, null)).toBe(
      'The climate check is closed: results are shown',
    );
    expect(announce({ kind: 'audit_closed', audit_id: 'a1', responses: 1, results: null }, r, null)).toBe(
      'The climate check is closed: not enough answers to show results',
    );
  });
});

describe('closing the check: what the facilitator is told first (1.6)', () => {
  it('below k the answers are deleted unseen, and the count says how many', () => {
    expect(closeAuditWarning(0, 5)).toBe('Nobody has answered yet. Closing now ends the check with no results.');
    expect(closeAuditWarning(1, 5)).toBe(
      '1 member has answered; results need at least 5. Closing now deletes that answer unseen: nobody, you included, will ever see them.',
    );
    expect(closeAuditWarning(2, 5)).toContain('Closing now deletes these 2 answers unseen');
    expect(closeAuditWarning(5, 5)).toBe('5 members have answered (at least 5 were needed). Closing now shows everyone the results.');
  });
});
