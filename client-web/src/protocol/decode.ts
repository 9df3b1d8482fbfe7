// Strict checking of frames in both directions. The validators are generated from
// protocol/messages.json (generated.ts: decodeServerMessage, decodeRoomEvent, checkCommand and a
// decoder per shape); this file adds the rules that are more than a shape's fields.

import {
  IDLE_TIMER,
  decodeMemberInfo,
  decodeWireAuditState,
  decodeWireDeckState,
  decodeWireSnapshot,
  type AuditState,
  type DeckState,
  type FloorState,
  type MemberInfo,
  type RoomSettings,
} from './generated';
import type { JoinResult, RoomSnapshot } from './types';

export const DEFAULT_SETTINGS: RoomSettings = Object.freeze({ airtime_visibility: 'everyone' });
export const DEFAULT_FLOOR: FloorState = Object.freeze({ queue: [], turn_seconds: null, auto_advance: false, quieter_first: false });

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function has(o: Record<string, unknown>, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}
function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** `{id, name, role}` of a member. */
export function decodeMember(v: unknown): MemberInfo | undefined {
  return decodeMemberInfo(v);
}

/**
 * The snapshot's `audit` (not null). A closed audit must carry `responses` and `results`; an open
 * one carries neither (no count exists while it is open), and any sent anyway are dropped.
 */
export function decodeAuditState(v: unknown): AuditState | undefined {
  const a = decodeWireAuditState(v);
  return a && refineAudit(a);
}
function refineAudit(a: AuditState): AuditState | undefined {
  const head = { id: a.id, k: a.k, items: a.items };
  if (a.open) return { ...head, open: true };
  if (a.responses === undefined || a.results === undefined) return undefined;
  return { ...head, open: false, responses: a.responses, results: a.results };
}

/**
 * The snapshot's `deck` (not null): `{cards, drawn}`. A drawn id that names no card is dropped,
 * so the card on show is always one of the cards.
 */
export function decodeDeckState(v: unknown): DeckState | undefined {
  const d = decodeWireDeckState(v);
  return d && refineDeck(d);
}
function refineDeck(d: DeckState): DeckState {
  const ids = new Set(d.cards.map((c) => c.id));
  return { cards: d.cards, drawn: d.drawn.filter((id) => ids.has(id)) };
}

/** A join snapshot; the fields an older server leaves out get their defaults. */
export function decodeSnapshot(v: unknown): RoomSnapshot | undefined {
  const w = decodeWireSnapshot(v);
  if (!w || !isObject(v)) return undefined;
  const audit = w.audit ? refineAudit(w.audit) : null;
  if (audit === undefined) return undefined;
  return {
    room: w.room,
    seq: w.seq,
    title: w.title,
    members: w.members,
    settings: w.settings ?? { ...DEFAULT_SETTINGS },
    round: w.round ?? null,
    floor: w.floor ?? { ...DEFAULT_FLOOR, queue: [] },
    turn: w.turn ?? null,
    timers: w.timers ?? { phase: { ...IDLE_TIMER }, turn: { ...IDLE_TIMER } },
    paused: w.paused ?? null,
    last_round: w.last_round ?? null,
    // True when the server speaks live rounds (1.2).
    live: ['settings', 'round', 'floor', 'turn', 'timers'].some((k) => has(v, k)),
    prompts: w.prompts ?? [],
    audit,
    deck: w.deck ? refineDeck(w.deck) : null,
    groups: w.groups ?? null,
  };
}

/** Reads a `join` reply's result: a snapshot or a replay (never both); undefined otherwise. */
export function decodeJoinResult(result: unknown): JoinResult | undefined {
  if (!isObject(result)) return undefined;
  const member = decodeMemberInfo(result.member);
  const token = result.resume_token;
  if (!member || typeof token !== 'string' || token.length === 0) return undefined;
  if (has(result, 'snapshot')) {
    const snapshot = decodeSnapshot(result.snapshot);
    if (!snapshot || has(result, 'replay')) return undefined;
    return { member, resume_token: token, snapshot };
  }
  const replay = result.replay;
  if (!isObject(replay) || !isNonNegInt(replay.after) || !isNonNegInt(replay.events)) return undefined;
  return { member, resume_token: token, replay: { after: replay.after, events: replay.events } };
}

export { checkCommand, decodeRoomEvent, decodeServerMessage, type CheckResult, type DecodeResult } from './generated';
