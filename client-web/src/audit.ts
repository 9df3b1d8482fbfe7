// Climate-for-learning audit (protocol 1.3): the numbers shown with the results, computed here
// from the counts the server publishes (the server sends counts only, never a mean).

import { AUDIT_SCALE, type AuditItem, type AuditResults, type AuditState } from './protocol';

/** The labels of the five answers, index 0 = answer 1. */
export const AUDIT_CHOICES: readonly string[] = [
  '1 strongly disagree',
  '2 disagree',
  '3 neither agree nor disagree',
  '4 agree',
  '5 strongly agree',
];

/** How many answered an item (the sum of its counts). */
export function countTotal(counts: readonly number[]): number {
  return counts.reduce((a, b) => a + b, 0);
}

/** The mean answer (1..5) from the counts of answers 1..5; null when nobody answered. */
export function auditMean(counts: readonly number[]): number | null {
  const total = countTotal(counts);
  if (total === 0) return null;
  let sum = 0;
  counts.forEach((c, i) => {
    sum += c * (i + 1);
  });
  return sum / total;
}

/** A mean to one decimal ("3.8"; "4.0" stays "4.0"); an en dash when there is none. */
export function formatMean(mean: number | null): string {
  if (mean === null || !Number.isFinite(mean)) return '–';
  // Round half up on the decimal value, not on its binary approximation (3.45 -> 3.5).
  return (Math.round(mean * 10 + 1e-9) / 10).toFixed(1);
}

/** "1 answer", "7 answers". */
export function formatAnswers(n: number): string {
  return n === 1 ? '1 answer' : `${n} answers`;
}

/** The sentence shown when a closed audit has no results. */
export function notEnoughText(responses: number, k: number): string {
  return `Not enough answers to show results (${responses} answered, at least ${k} needed)`;
}

/**
 * What closing the open audit will do, for the facilitator's confirmation: with fewer than `k`
 * answers they are deleted unseen (a count, never who).
 */
export function closeAuditWarning(responses: number, k: number): string {
  const answers = responses === 1 ? '1 member has answered' : `${responses} members have answered`;
  if (responses === 0) return `Nobody has answered yet. Closing now ends the check with no results.`;
  if (responses < k) {
    return `${answers}; results need at least ${k}. Closing now deletes ${responses === 1 ? 'that answer' : `these ${responses} answers`} unseen: nobody, you included, will ever see them.`;
  }
  return `${answers} (at least ${k} were needed). Closing now shows everyone the results.`;
}

/** The results of one item, with its text (from the audit's items; the id when it is unknown). */
export interface ItemSummary {
  id: string;
  text: string;
  counts: number[];
  total: number;
  mean: number | null;
}

/** The results in the audit's item order (result items the audit does not list come last). */
export function summarize(items: readonly AuditItem[], results: AuditResults): ItemSummary[] {
  const byId = new Map(results.items.map((r) => [r.id, r]));
  const order = [...items.map((i) => i.id), ...results.items.map((r) => r.id).filter((id) => !items.some((i) => i.id === id))];
  const out: ItemSummary[] = [];
  for (const id of order) {
    const r = byId.get(id);
    if (!r) continue;
    const counts = r.counts.slice(0, AUDIT_SCALE);
    out.push({ id, text: items.find((i) => i.id === id)?.text ?? id, counts, total: countTotal(counts), mean: auditMean(counts) });
  }
  return out;
}

/** Item ids of the audit the member has not answered yet (in the audit's order). */
export function unanswered(audit: Pick<AuditState, 'items'>, answers: Readonly<Record<string, number>>): string[] {
  return audit.items
    .filter((i) => {
      const a = answers[i.id];
      return !(a !== undefined && Number.isInteger(a) && a >= 1 && a <= AUDIT_SCALE);
    })
    .map((i) => i.id);
}
