// The room as this client knows it, and how each event changes it (pure functions, no I/O).
// protocol/README.md ("Room events", "Live rounds") is the authority for every rule here.

import {
  DEFAULT_FLOOR,
  type AuditResults,
  type AuditState,
  type BreakoutGroup,
  type DeckCard,
  type DeckState,
  type GroupsState,
  IDLE_TIMER,
  type LiveRoomState,
  type ReleasedPrompt,
  type Role,
  type RoomEvent,
  type RoomSnapshot,
  type RoundState,
  type SnapshotMember,
  type TimerState,
  type TurnState,
} from './protocol';

/** A member as the view holds it: the snapshot's shape (airtime so far in ms, hand in the queue). */
export type RoomMember = SnapshotMember;

export interface RoomView extends LiveRoomState {
  id: string;
  title: string;
  seq: number;
  members: RoomMember[];
  /** Released anonymous prompts (1.3), in the order they were released. */
  prompts: ReleasedPrompt[];
  /** The latest climate-for-learning audit (1.3): open, or closed with its outcome; null when none. */
  audit: AuditState | null;
  /** The challenge deck (1.3); null when the server sent none (no deck shown). */
  deck: DeckState | null;
  /** The breakout groups while open (1.7); null when none. */
  groups: GroupsState | null;
}

/** A deep copy of an audit (the view never shares objects with the decoder or an event). */
export function copyAudit(a: AuditState): AuditState {
  const copy: AuditState = { id: a.id, k: a.k, items: a.items.map((i) => ({ ...i })), open: a.open };
  if (a.responses !== undefined) copy.responses = a.responses;
  if (a.results !== undefined) copy.results = copyResults(a.results);
  return copy;
}

function copyResults(r: AuditResults | null): AuditResults | null {
  return r === null ? null : { items: r.items.map((i) => ({ id: i.id, counts: [...i.counts] })), comments: [...r.comments] };
}

/** A room view from a join snapshot (fresh copies: the view is never shared with the decoder). */
export function roomFromSnapshot(snap: RoomSnapshot): RoomView {
  return {
    id: snap.room,
    title: snap.title,
    seq: snap.seq,
    members: snap.members.map((m) => ({ ...m })),
    settings: { ...snap.settings },
    round: snap.round ? copyRound(snap.round) : null,
    floor: { ...snap.floor, queue: [...snap.floor.queue] },
    turn: snap.turn ? { ...snap.turn } : null,
    timers: { phase: { ...snap.timers.phase }, turn: { ...snap.timers.turn } },
    paused: snap.paused ? { ...snap.paused } : null,
    last_round: snap.last_round ? { ...snap.last_round, outcomes: snap.last_round.outcomes.map((o) => ({ ...o })) } : null,
    live: snap.live,
    prompts: snap.prompts.map((p) => ({ ...p })),
    audit: snap.audit ? copyAudit(snap.audit) : null,
    deck: snap.deck ? { cards: snap.deck.cards.map((c) => ({ ...c })), drawn: [...snap.deck.drawn] } : null,
    groups: snap.groups ? copyGroups(snap.groups) : null,
  };
}

function copyGroups(g: GroupsState): GroupsState {
  return { ...g, groups: g.groups.map((x) => ({ ...x, members: [...x.members] })) };
}

function copyRound(r: RoundState): RoundState {
  return { ...r, order: [...r.order], remaining: [...r.remaining], outcomes: r.outcomes.map((o) => ({ ...o })) };
}

/** An empty room view (tests, and a starting point for tools). */
export function emptyRoom(id: string, title = ''): RoomView {
  return {
    id,
    title,
    seq: 0,
    members: [],
    settings: { airtime_visibility: 'everyone' },
    round: null,
    floor: { ...DEFAULT_FLOOR, queue: [] },
    turn: null,
    timers: { phase: { ...IDLE_TIMER }, turn: { ...IDLE_TIMER } },
    paused: null,
    last_round: null,
    live: false,
    prompts: [],
    audit: null,
    deck: null,
    groups: null,
  };
}

/**
 * The room after one event (pure). `time` is the event's server time (ms since the epoch); it is
 * the start of a turn for `turn_started`. Unknown kinds change nothing but the seq.
 */
export function applyEvent(room: RoomView, event: RoomEvent, seq: number, time = 0): RoomView {
  const editMember = (id: string, patch: Partial<RoomMember>): RoomMember[] =>
    room.members.map((m) => (m.id === id ? { ...m, ...patch } : m));
  const next: RoomView = { ...room, seq };
  switch (event.kind) {
    case 'room_created':
      return { ...next, title: event.title };
    case 'member_joined': {
      const old = room.members.find((m) => m.id === event.member.id);
      const member: RoomMember = {
        airtime_ms: old?.airtime_ms ?? 0,
        hand: old?.hand ?? false,
        ...event.member,
        presence: 'online',
      };
      const members = old ? room.members.map((m) => (m.id === member.id ? member : m)) : [...room.members, member];
      return { ...next, members };
    }
    case 'member_left':
      return { ...next, members: editMember(event.member_id, { presence: 'left' }) };
    case 'member_connection_lost':
      return { ...next, members: editMember(event.member_id, { presence: 'away' }) };
    case 'member_back':
      return { ...next, members: editMember(event.member_id, { presence: 'online' }) };
    case 'member_removed':
      // Their record stays (round results name them); they are gone, hand and all.
      return {
        ...next,
        members: editMember(event.member_id, { presence: 'left', hand: false }),
        floor: { ...room.floor, queue: room.floor.queue.filter((id) => id !== event.member_id) },
      };
    case 'room_closed':
      // The server closes every connection next (4004); the view keeps what it showed.
      return next;
    case 'role_changed':
      return { ...next, members: editMember(event.member_id, { role: event.role }) };
    case 'settings_changed':
      return { ...next, settings: { ...room.settings, airtime_visibility: event.airtime_visibility } };
    case 'round_started':
      return {
        ...next,
        round: {
          id: event.round.id,
          order: [...event.round.order],
          remaining: [...event.round.order],
          turn_seconds: event.round.turn_seconds,
          auto_advance: event.round.auto_advance,
          outcomes: [],
        },
        last_round: null,
      };
    case 'round_order_changed':
      return room.round ? { ...next, round: { ...room.round, remaining: [...event.remaining] } } : next;
    case 'round_ended': {
      // The round stays as a summary until the next one starts (as the server's `last_round`).
      const last_round = room.round
        ? { id: room.round.id, reason: event.reason, outcomes: room.round.outcomes.map((o) => ({ ...o })) }
        : room.last_round;
      return { ...next, round: null, turn: room.turn?.mode === 'round' ? null : room.turn, last_round };
    }
    case 'activity_paused':
      return {
        ...next,
        paused: { reason: event.reason, since: event.since },
        turn: room.turn ? { ...room.turn, held_until: null } : null,
      };
    case 'activity_resumed': {
      const p = room.paused;
      const turn =
        room.turn && p
          ? { ...room.turn, paused_ms: room.turn.paused_ms + Math.max(0, time - Math.max(p.since, room.turn.started_at)) }
          : room.turn;
      return { ...next, paused: null, turn };
    }
    case 'turn_held':
      return room.turn?.member_id === event.member_id ? { ...next, turn: { ...room.turn, held_until: event.until } } : next;
    case 'turn_started': {
      const turn: TurnState = { member_id: event.member_id, mode: event.mode, started_at: time, paused_ms: 0 };
      if (event.mode === 'floor') {
        return {
          ...next,
          turn,
          floor: { ...room.floor, queue: room.floor.queue.filter((id) => id !== event.member_id) },
          members: editMember(event.member_id, { hand: false }),
        };
      }
      return { ...next, turn };
    }
    case 'turn_ended': {
      const members = room.members.map((m) =>
        m.id === event.member_id ? { ...m, airtime_ms: m.airtime_ms + event.ms } : m,
      );
      const wasFloorTurn = room.turn?.member_id === event.member_id && room.turn.mode === 'floor';
      let round = room.round;
      if (round) {
        round = { ...round, remaining: round.remaining.filter((id) => id !== event.member_id) };
        if (!wasFloorTurn) {
          round.outcomes = [...round.outcomes, { member_id: event.member_id, outcome: event.outcome, ms: event.ms }];
        }
      }
      const turn = room.turn?.member_id === event.member_id ? null : room.turn;
      return { ...next, members, round, turn };
    }
    case 'hand_raised': {
      const queue = room.floor.queue.includes(event.member_id) ? room.floor.queue : [...room.floor.queue, event.member_id];
      return { ...next, floor: { ...room.floor, queue }, members: editMember(event.member_id, { hand: true }) };
    }
    case 'hand_lowered':
      return {
        ...next,
        floor: { ...room.floor, queue: room.floor.queue.filter((id) => id !== event.member_id) },
        members: editMember(event.member_id, { hand: false }),
      };
    case 'floor_settings_changed':
      return {
        ...next,
        floor: {
          ...room.floor,
          turn_seconds: event.turn_seconds,
          auto_advance: event.auto_advance,
          quieter_first: event.quieter_first,
        },
      };
    case 'timer_set':
      return { ...next, timers: { ...room.timers, [event.timer]: { ...event.state } } };
    case 'timer_expired': {
      const t = room.timers[event.timer];
      return { ...next, timers: { ...room.timers, [event.timer]: { ...t, state: 'expired', remaining_ms: 0 } } };
    }
    case 'prompts_released': {
      // Appended in the (shuffled) order given; an id already shown is not added twice.
      const known = new Set(room.prompts.map((p) => p.id));
      const added = event.prompts.filter((p) => !known.has(p.id)).map((p) => ({ id: p.id, text: p.text, votes: 0 }));
      return { ...next, prompts: [...room.prompts, ...added] };
    }
    case 'prompt_upvoted':
      return { ...next, prompts: room.prompts.map((p) => (p.id === event.prompt_id ? { ...p, votes: event.votes } : p)) };
    case 'prompt_posed':
      return { ...next, prompts: room.prompts.map((p) => (p.id === event.prompt_id ? { ...p, posed_to: event.member_id } : p)) };
    case 'audit_opened':
      // A new audit replaces the last one (and its results): open, no count, no results.
      return { ...next, audit: { id: event.audit.id, k: event.audit.k, items: event.audit.items.map((i) => ({ ...i })), open: true } };
    case 'audit_closed':
      // Only the audit on screen can close (another id cannot happen after a correct history).
      if (!room.audit || room.audit.id !== event.audit_id) return next;
      return { ...next, audit: { ...copyAudit(room.audit), open: false, responses: event.responses, results: copyResults(event.results) } };
    case 'deck_changed': {
      // Recorded before 1.4 (replayed from such rooms): the whole deck after an edit; a drawn card
      // that is gone is no longer drawn (nor on show).
      const cards = event.cards.map((c) => ({ ...c }));
      const ids = new Set(cards.map((c) => c.id));
      return { ...next, deck: { cards, drawn: (room.deck?.drawn ?? []).filter((id) => ids.has(id)) } };
    }
    case 'deck_card_added': {
      // 1.4: a card joins the end of the deck (once: an id already there is not added again).
      const old = room.deck ?? { cards: [], drawn: [] };
      if (old.cards.some((c) => c.id === event.card.id)) return next;
      return { ...next, deck: { cards: [...old.cards, { ...event.card }], drawn: [...old.drawn] } };
    }
    case 'deck_card_removed': {
      // 1.4: a card leaves the deck, and the cards drawn (the one on show too).
      const old = room.deck ?? { cards: [], drawn: [] };
      const drawn = old.drawn.filter((id) => id !== event.card_id);
      return { ...next, deck: { cards: old.cards.filter((c) => c.id !== event.card_id), drawn } };
    }
    case 'deck_card_drawn': {
      const card = event.card;
      const old = room.deck ?? { cards: [], drawn: [] };
      // A card drawn again means every card had been drawn: the server started the deck over.
      const drawn = old.drawn.includes(card.id) ? [card.id] : [...old.drawn, card.id];
      // The card is on show, so keep its text even if this view did not know it (cannot happen
      // after a correct history).
      const cards = old.cards.some((c) => c.id === card.id) ? old.cards : [...old.cards, { ...card }];
      return { ...next, deck: { cards, drawn } };
    }
    case 'groups_opened':
      return {
        ...next,
        groups: {
          groups: event.groups.map((g) => ({ ...g, members: [...g.members] })),
          method: event.method,
          ends_at: event.ends_at,
          recall_ends_at: null,
          closes_at: null,
          message: null,
        },
      };
    case 'group_member_moved': {
      if (!room.groups) return next;
      const groups = room.groups.groups.map((g) => {
        const members = g.members.filter((id) => id !== event.member_id);
        if (g.id === event.group) members.push(event.member_id);
        return { ...g, members };
      });
      return { ...next, groups: { ...room.groups, groups } };
    }
    case 'groups_extended':
      // More time given: a recall is called off and the groups' asks for more time are answered.
      if (!room.groups) return next;
      return {
        ...next,
        groups: {
          ...room.groups,
          ends_at: event.ends_at,
          recall_ends_at: null,
          closes_at: null,
          groups: room.groups.groups.map((g) => ({ ...g, members: [...g.members], more_time: false })),
        },
      };
    case 'groups_recalled':
      return room.groups
        ? { ...next, groups: { ...copyGroups(room.groups), recall_ends_at: event.recall_ends_at, closes_at: event.closes_at } }
        : next;
    case 'groups_closed':
      return { ...next, groups: null };
    case 'groups_message':
      return room.groups ? { ...next, groups: { ...copyGroups(room.groups), message: event.text } } : next;
    case 'group_flag_changed': {
      if (!room.groups) return next;
      const groups = room.groups.groups.map((g) =>
        g.id === event.group ? { ...g, members: [...g.members], [event.flag]: event.on } : { ...g, members: [...g.members] },
      );
      return { ...next, groups: { ...room.groups, groups } };
    }
    case 'unknown':
      return next;
  }
}

/**
 * Whether this member may see a gap in the room's `seq` that is no missed event: while groups are
 * open the server sends a group's own events (its flags) to that group and the facilitators only,
 * and skips them, seq and all, for everyone else (live and in a replay). Facilitators see all.
 */
export function mayMissGroupEvents(room: RoomView, memberId: string | null | undefined): boolean {
  if (!room.groups || !memberId) return false;
  return !isFacilitatorRole(room.members.find((m) => m.id === memberId)?.role);
}

/** The open breakout group a member is in (null: the main room, or no groups open). */
export function groupOf(room: RoomView, memberId: string | null | undefined): BreakoutGroup | null {
  if (!room.groups || !memberId) return null;
  return room.groups.groups.find((g) => g.members.includes(memberId)) ?? null;
}

/** The card on show: the last one drawn (null when none has been drawn since the deck started over). */
export function shownCard(deck: DeckState | null): DeckCard | null {
  if (!deck || deck.drawn.length === 0) return null;
  const id = deck.drawn[deck.drawn.length - 1];
  return deck.cards.find((c) => c.id === id) ?? null;
}

// ---------------------------------------------------------------- derived values for the view

export function isFacilitatorRole(role: Role | undefined): boolean {
  return role === 'facilitator' || role === 'co_facilitator';
}

/** Who speaks after the current speaker in a go-round (null when none, or outside a round). */
export function nextInRound(room: RoomView): string | null {
  if (!room.round) return null;
  const current = room.turn?.member_id;
  return room.round.remaining.find((id) => id !== current) ?? null;
}

/** Whether `role` sees the airtime bars under the room's settings. */
export function airtimeVisibleTo(room: RoomView, role: Role | undefined): boolean {
  return room.settings.airtime_visibility === 'everyone' || isFacilitatorRole(role);
}

/** The ms left on a timer at server time `serverNow` (never negative; 0 when idle or expired). */
export function timerRemainingMs(timer: TimerState, serverNow: number): number {
  switch (timer.state) {
    case 'running':
      return timer.ends_at === null ? 0 : Math.max(0, Math.round(timer.ends_at - serverNow));
    case 'paused':
      return Math.max(0, timer.remaining_ms ?? 0);
    case 'idle':
    case 'expired':
      return 0;
  }
}

/** m:ss, rounding up so that "0:00" shows only when the time is really up (minutes may exceed 59). */
export function formatCountdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const m = Math.floor(total / 60);
  const s = total % 60;
  return `${m}:${String(s).padStart(2, '0')}`;
}

/** A duration for people: "45 s", "3 min", "3 min 20 s", "1 h 5 min". */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  if (m > 0) return s > 0 ? `${m} min ${s} s` : `${m} min`;
  return `${s} s`;
}

/** Facilitators remove anyone but themselves; co-facilitators participants and observers (1.5). */
export function canRemove(role: Role, member: RoomMember, selfId: string): boolean {
  if (member.id === selfId || member.presence === 'left') return false;
  if (role === 'facilitator') return true;
  return role === 'co_facilitator' && (member.role === 'participant' || member.role === 'observer');
}

/** What the facilitator confirms before closing the room for good. */
export function closeRoomWarning(title: string): string {
  return (
    `Close “${title}” for good? Everyone is disconnected and everything in the room is deleted: ` +
    'members, round results, prompts, the audit and the deck. The invite link will stop working. This cannot be undone.'
  );
}
