// The announcer: what the page's one polite live region says, and when (pure logic, no DOM).
// Room events and state changes become notes (`describeEvent`, `describeRoomChange`, the
// countdown thresholds); notes that arrive together become one message ("Time is up. Carmen has
// the floor."); joins and leaves are summed up over a few seconds ("3 people joined: Ada, Ben and
// Carmen"); a message stays in the region long enough to be read before the next replaces it.

import { describeGroupsEvent } from './groups';
import type { Role, RoomEvent, TimerName } from './protocol';
import { isFacilitatorRole, nextInRound, timerRemainingMs, type RoomView } from './room-state';
import { countdownLevel, roundEventText, thresholdText, type CountdownLevel } from './stage';

/** One sentence to say (without its full stop). */
export interface Note {
  text: string;
  /** Said at most once, ever, in this page (a turn, a timer's end, a threshold). */
  key?: string;
  /** Only the latest note of a slot waiting to be said is kept (the turn, the connection, …). */
  slot?: string;
  /** Slots of waiting notes this one makes stale (a new turn makes "You're next" stale). */
  supersedes?: readonly string[];
}

export type PresenceChange = 'joined' | 'left' | 'removed' | 'lost' | 'back';

/** A member's arrival or departure: never said alone, summed up (`summarizePresence`). */
export interface PresenceNote {
  presence: PresenceChange;
  id: string;
  name: string;
}

export type Announcement = Note | PresenceNote;

export function isPresence(a: Announcement): a is PresenceNote {
  return 'presence' in a;
}

/** A role in words, as the announcer says it and the people list shows it. */
export const roleWords: Record<Role, string> = {
  facilitator: 'facilitator',
  co_facilitator: 'co-facilitator',
  participant: 'participant',
  observer: 'observer',
};

function nameIn(room: RoomView, id: string): string {
  return room.members.find((m) => m.id === id)?.name ?? 'Someone';
}

/** A turn's identity: the same turn seen again (a resume, a snapshot) is not said again. */
export function turnKey(room: RoomView): string | null {
  return room.turn ? `turn:${room.turn.member_id}:${room.turn.started_at}` : null;
}

/**
 * What changed between two views of the room that is said from the state, not from one event:
 * a new turn ("Carmen has the floor", "It's your turn", with "You're next" when it is so), a timer
 * that ran out, and becoming next in a go-round. Used for every event and for a fresh snapshot
 * after a gap (so a change missed in the gap is said, and one already said is not). Nothing for the
 * first view (`before` null): joining says nothing about what was already going on.
 */
export function describeRoomChange(before: RoomView | null, after: RoomView, selfId: string | null): Note[] {
  if (!before) return [];
  const notes: Note[] = [];
  for (const name of ['turn', 'phase'] as TimerName[]) {
    const b = before.timers[name];
    const a = after.timers[name];
    if (b.state === 'running' && a.state === 'expired') {
      notes.push({ text: name === 'turn' ? 'Time is up' : 'Time is up for this phase', key: `expired:${name}:${b.ends_at}` });
    }
  }
  const kb = turnKey(before);
  const ka = turnKey(after);
  const next = nextInRound(after);
  const mine = after.turn?.member_id === selfId && selfId !== null;
  if (ka && ka !== kb) {
    let text: string;
    if (mine) text = "It's your turn";
    else {
      text = `${nameIn(after, after.turn!.member_id)} has the floor`;
      if (after.round && selfId !== null && next === selfId) text += ". You're next";
    }
    notes.push({ text, key: ka, slot: 'turn', supersedes: ['next'] });
  } else if (after.round && selfId !== null && !mine && next === selfId && (nextInRound(before) !== selfId || !before.round)) {
    // Someone moved or passed: this member is next now.
    notes.push({ text: "You're next", slot: 'next' });
  }
  return notes;
}

/**
 * What one event says apart from the state changes above (`describeRoomChange`): the go-round
 * starting and ending, roles, presence (summed up later), questions, the climate check and the
 * challenge card. Own joins and leaves say nothing.
 */
export function describeEvent(event: RoomEvent, before: RoomView, after: RoomView, selfId: string | null): Announcement[] {
  const other = (id: string) => id !== selfId;
  const name = (id: string) => (after.members.some((m) => m.id === id) ? nameIn(after, id) : nameIn(before, id));
  switch (event.kind) {
    case 'round_started':
      return [{ text: 'A go-round has started' }];
    case 'round_ended':
      return [{ text: 'The go-round is over' }];
    case 'role_changed':
      return [
        {
          text: other(event.member_id)
            ? `${name(event.member_id)} is now ${roleWords[event.role]}`
            : `You are now ${roleWords[event.role]}`,
        },
      ];
    case 'member_joined':
      return other(event.member.id) ? [{ presence: 'joined', id: event.member.id, name: event.member.name }] : [];
    case 'member_left':
      return other(event.member_id) ? [{ presence: 'left', id: event.member_id, name: name(event.member_id) }] : [];
    case 'member_removed':
      return other(event.member_id) ? [{ presence: 'removed', id: event.member_id, name: name(event.member_id) }] : [];
    case 'member_connection_lost':
      return other(event.member_id) ? [{ presence: 'lost', id: event.member_id, name: name(event.member_id) }] : [];
    case 'member_back':
      return other(event.member_id) ? [{ presence: 'back', id: event.member_id, name: name(event.member_id) }] : [];
    case 'prompts_released':
      return event.prompts.length > 0 ? [{ text: 'New questions released', slot: 'released' }] : [];
    case 'prompt_posed':
      if (event.member_id === null) return [{ text: 'A question was put to the group' }];
      return [{ text: other(event.member_id) ? `A question was put to ${name(event.member_id)}` : 'A question was put to you' }];
    case 'audit_opened':
      return [{ text: 'A climate check has opened' }];
    case 'audit_closed':
      return [
        {
          text:
            event.results === null
              ? 'The climate check is closed: not enough answers to show results'
              : 'The climate check is closed: results are shown',
        },
      ];
    case 'deck_card_drawn':
      return [{ text: `Challenge: ${event.card.text}` }];
    case 'activity_paused':
    case 'activity_resumed':
    case 'turn_held': {
      // A held speaker is told nothing about themselves (they are reconnecting).
      if (event.kind === 'turn_held' && !other(event.member_id)) return [];
      const text = roundEventText(event, name);
      return text ? [{ text }] : [];
    }
    default:
      return describeGroupsEvent(event, after, selfId);
  }
}

/** The last countdown level seen of each timer (thresholds are said on crossing). */
export type TimerLevels = Record<TimerName, CountdownLevel>;

export function timerLevels(room: RoomView, serverNow: number): TimerLevels {
  return {
    turn: countdownLevel(room.timers.turn, timerRemainingMs(room.timers.turn, serverNow)),
    phase: countdownLevel(room.timers.phase, timerRemainingMs(room.timers.phase, serverNow)),
  };
}

/**
 * "1 minute left" / "10 seconds left" when a running countdown crosses into its last minute or
 * last 10 s since `last` (a pause, a resume or a new view says nothing; an extension past the
 * threshold makes it true again, and it is said again). The turn timer is said to the speaker and
 * to facilitators only (a 15-member go-round would say it to all every turn); the phase timer, which
 * bounds everyone's activity, to all.
 */
export function thresholdNotes(
  last: TimerLevels,
  now: TimerLevels,
  room: RoomView,
  selfId: string | null,
  role: Role | undefined,
): Note[] {
  const notes: Note[] = [];
  const turnText = thresholdText(last.turn, now.turn);
  if (turnText && (isFacilitatorRole(role) || (selfId !== null && room.turn?.member_id === selfId))) {
    notes.push({ text: turnText, slot: 'threshold-turn' });
  }
  const phaseText = thresholdText(last.phase, now.phase);
  if (phaseText) notes.push({ text: `${phaseText} in this phase`, slot: 'threshold-phase' });
  return notes;
}

/** What the connection's own changes say: lost, and back (only after being in the room). */
export function connectionNote(before: string, after: string, inRoom: boolean): Note | null {
  if (!inRoom || before === after) return null;
  if (before === 'online' && after === 'reconnecting') return { text: 'Connection lost. Trying to reconnect', slot: 'connection' };
  if (before === 'reconnecting' && after === 'online') return { text: 'Connected again', slot: 'connection' };
  return null;
}

/** For facilitators: more questions wait for release than before. */
export function pendingNote(before: number, after: number): Note | null {
  if (after <= before) return null;
  return { text: after === 1 ? '1 question waiting for release' : `${after} questions waiting for release`, slot: 'pending' };
}

// ------------------------------------------------------------------ summaries

/** "Ada", "Ada and Ben", "Ada, Ben and Carmen", "Ada, Ben, Carmen, Dev, Eli and 2 others". */
export function listNames(names: readonly string[], max: number = ANNOUNCER_LIMITS.maxNames): string {
  if (names.length <= max) {
    if (names.length <= 1) return names.join('');
    return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  }
  const rest = names.length - max;
  return `${names.slice(0, max).join(', ')} and ${rest} ${rest === 1 ? 'other' : 'others'}`;
}

const presenceWords: Record<PresenceChange, { one: string; many: string }> = {
  joined: { one: 'joined', many: 'joined' },
  left: { one: 'left', many: 'left' },
  removed: { one: 'was removed', many: 'were removed' },
  lost: { one: 'lost their connection', many: 'lost their connection' },
  back: { one: 'is back', many: 'are back' },
};

/**
 * The net presence changes of a few seconds, one sentence per kind: a member who joined and left
 * again, or lost their connection and came back, is not mentioned.
 */
export function summarizePresence(changes: readonly PresenceNote[]): Note[] {
  const byMember = new Map<string, { first: PresenceChange; last: PresenceChange; name: string }>();
  for (const c of changes) {
    const seen = byMember.get(c.id);
    if (seen) {
      seen.last = c.presence;
      seen.name = c.name;
    } else byMember.set(c.id, { first: c.presence, last: c.presence, name: c.name });
  }
  const groups = new Map<PresenceChange, string[]>();
  for (const { first, last, name } of byMember.values()) {
    let net: PresenceChange | null = last;
    if (first === 'joined') net = last === 'left' || last === 'removed' ? null : 'joined';
    else if (first === 'lost' && last === 'back') net = null;
    else if (first === 'back' && last === 'lost') net = 'lost';
    if (net) groups.set(net, [...(groups.get(net) ?? []), name]);
  }
  const notes: Note[] = [];
  for (const kind of ['joined', 'back', 'lost', 'left', 'removed'] as PresenceChange[]) {
    const names = groups.get(kind);
    if (!names) continue;
    const w = presenceWords[kind];
    notes.push({
      text: names.length === 1 ? `${names[0]} ${w.one}` : `${names.length} people ${w.many}: ${listNames(names)}`,
    });
  }
  return notes;
}

/** Joins sentences into one message: "Time is up. Carmen has the floor." */
export function composeMessage(texts: readonly string[]): string {
  return texts.map((t) => (/[.!?…]$/.test(t) ? t : `${t}.`)).join(' ');
}

// ------------------------------------------------------------------ pacing

/**
 * The announcer's timing and caps (ms and counts). Chromium reports a live region's change when
 * its text changes; a change replaced within a few tens of ms may never reach the screen reader,
 * and the same text set twice is no change at all. So a message is set after the region is
 * cleared (`clearMs`), and stays at least `minHoldMs` (longer for long text, `msPerChar` up to
 * `maxHoldMs`) before the next replaces it; whatever arrives meanwhile waits and is said together.
 */
export const ANNOUNCER_LIMITS = {
  /** Notes arriving within this long of the first one are said as one message. */
  coalesceMs: 250,
  /** Joins and leaves are gathered this long, then summed up. */
  presenceMs: 3000,
  /** The region is empty this long before a new message is set. */
  clearMs: 100,
  minHoldMs: 1500,
  msPerChar: 50,
  maxHoldMs: 5000,
  /** Sentences in one message at most: past it, the oldest waiting ones are dropped. */
  maxSentences: 8,
  /** Names in one presence summary; more are counted ("and 3 others"). */
  maxNames: 5,
  /** Keys remembered as said (oldest forgotten first). */
  maxKeys: 256,
  /** Presence changes gathered at most before they are summed up early. */
  maxPresence: 200,
} as const;

export interface AnnouncerClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: AnnouncerClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * The queue behind the live region: `push` notes as they happen; `show(text)` is called with what
 * the region should hold now ('' to clear it before a new message).
 */
export class Announcer {
  private waiting: Note[] = [];
  private presence: PresenceNote[] = [];
  private readonly said = new Set<string>();
  private holdUntil = 0;
  private showTimer: unknown = null;
  private setTimer: unknown = null;
  private presenceTimer: unknown = null;

  constructor(
    private readonly show: (text: string) => void,
    private readonly clock: AnnouncerClock = realClock,
    private readonly limits: typeof ANNOUNCER_LIMITS = ANNOUNCER_LIMITS,
  ) {}

  push(items: readonly Announcement[]): void {
    for (const item of items) {
      if (isPresence(item)) this.addPresence(item);
      else this.add(item);
    }
  }

  dispose(): void {
    for (const t of [this.showTimer, this.setTimer, this.presenceTimer]) if (t !== null) this.clock.clearTimeout(t);
    this.showTimer = this.setTimer = this.presenceTimer = null;
    this.waiting = [];
    this.presence = [];
  }

  private add(note: Note): void {
    if (note.key !== undefined) {
      if (this.said.has(note.key)) return;
      this.said.add(note.key);
      if (this.said.size > this.limits.maxKeys) this.said.delete(this.said.values().next().value!);
    }
    const stale = new Set([...(note.slot === undefined ? [] : [note.slot]), ...(note.supersedes ?? [])]);
    this.waiting = this.waiting.filter((w) => w.text !== note.text && (w.slot === undefined || !stale.has(w.slot)));
    this.waiting.push(note);
    if (this.showTimer === null) {
      const now = this.clock.now();
      const due = Math.max(now + this.limits.coalesceMs, this.holdUntil);
      this.showTimer = this.clock.setTimeout(() => this.showWaiting(), due - now);
    }
  }

  private addPresence(change: PresenceNote): void {
    this.presence.push(change);
    if (this.presence.length >= this.limits.maxPresence) {
      this.flushPresence();
      return;
    }
    if (this.presenceTimer === null) this.presenceTimer = this.clock.setTimeout(() => this.flushPresence(), this.limits.presenceMs);
  }

  private flushPresence(): void {
    if (this.presenceTimer !== null) this.clock.clearTimeout(this.presenceTimer);
    this.presenceTimer = null;
    const changes = this.presence;
    this.presence = [];
    for (const note of summarizePresence(changes)) this.add(note);
  }

  private showWaiting(): void {
    this.showTimer = null;
    if (this.waiting.length === 0) return;
    const texts = this.waiting.slice(-this.limits.maxSentences).map((n) => n.text);
    this.waiting = [];
    const text = composeMessage(texts);
    const hold = Math.min(this.limits.maxHoldMs, Math.max(this.limits.minHoldMs, text.length * this.limits.msPerChar));
    this.holdUntil = this.clock.now() + this.limits.clearMs + hold;
    this.show('');
    if (this.setTimer !== null) this.clock.clearTimeout(this.setTimer);
    this.setTimer = this.clock.setTimeout(() => {
      this.setTimer = null;
      this.show(text);
    }, this.limits.clearMs);
  }
}
