// What the room screen shows and offers now (pure, no I/O): how a countdown looks near its end,
// which facilitator controls work in the room's current state (and why not, in plain words), and
// durations as people say them ("3", "1:30", "45 s").

import { MAX_DURATION_SECONDS, type RoomEvent, type Role, type RoundSummary, type TimerName, type TimerState, type TurnOutcome } from './protocol';
import { formatCountdown, isFacilitatorRole, type RoomView } from './room-state';

/** Under this much time left a countdown shows "last minute". */
export const MINUTE_MS = 60_000;
/** Under this much time left a countdown shows "last seconds". */
export const FINAL_MS = 10_000;

/**
 * How a countdown looks: `idle` (no timer), `running`, `minute` (running, 1 minute or less left,
 * of a timer set for longer than a minute: a 30-second turn is not "in its last minute" from its
 * first second), `final` (running, 10 s or less, whatever the length), `paused`, `expired`.
 * Thresholds are inclusive: 1:00 is the last minute.
 */
export type CountdownLevel = 'idle' | 'running' | 'minute' | 'final' | 'paused' | 'expired';

export function countdownLevel(timer: TimerState, remainingMs: number): CountdownLevel {
  if (timer.state !== 'running') return timer.state;
  if (remainingMs <= FINAL_MS) return 'final';
  if (remainingMs <= MINUTE_MS && timer.duration_ms > MINUTE_MS) return 'minute';
  return 'running';
}

/**
 * What to say when a running countdown crosses a threshold ("1 minute left", "10 seconds left"),
 * or null (other changes, such as a pause or the end, are said by the room's events).
 */
export function thresholdText(before: CountdownLevel, now: CountdownLevel): string | null {
  if (now === 'minute' && before === 'running') return '1 minute left';
  if (now === 'final' && (before === 'running' || before === 'minute')) return '10 seconds left';
  return null;
}

/**
 * How long the current turn has lasted (ms), not counting time paused: for a turn with no time
 * limit the stage shows this instead of a countdown. 0 with no turn.
 */
export function turnElapsedMs(room: Pick<RoomView, 'turn' | 'paused'>, serverNow: number): number {
  const { turn, paused } = room;
  if (!turn) return 0;
  const now = paused ? Math.max(paused.since, turn.started_at) : serverNow;
  return Math.max(0, now - turn.started_at - turn.paused_ms);
}

/** The share of the timer still left, 0..1 (0 when idle or expired, or with no duration). */
export function timeLeftFraction(timer: TimerState, remainingMs: number): number {
  if (timer.state === 'idle' || timer.state === 'expired' || timer.duration_ms <= 0) return 0;
  return Math.min(1, Math.max(0, remainingMs / timer.duration_ms));
}

/** Minute presets offered for every duration (seconds). */
export const DURATION_PRESETS = [60, 120, 180, 300] as const;

/**
 * A duration typed by a person, in seconds (1..4 h), or null: "3" or "3 min" is minutes, "1:30"
 * is minutes and seconds, "45 s" / "45 sec" is seconds, "1 h" hours.
 */
export function parseDuration(text: string): number | null {
  const t = text.trim().toLowerCase();
  let seconds: number | null = null;
  let m: RegExpExecArray | null;
  if ((m = /^(\d{1,4})(?:\s*(?:m|min|mins|minutes?))?$/.exec(t))) seconds = Number(m[1]) * 60;
  else if ((m = /^(\d{1,4}):([0-5]\d)$/.exec(t))) seconds = Number(m[1]) * 60 + Number(m[2]);
  else if ((m = /^(\d{1,5})\s*(?:s|sec|secs|seconds?)$/.exec(t))) seconds = Number(m[1]);
  else if ((m = /^(\d)\s*(?:h|hours?)$/.exec(t))) seconds = Number(m[1]) * 3600;
  return seconds !== null && seconds >= 1 && seconds <= MAX_DURATION_SECONDS ? seconds : null;
}

/** Whether a control can be used now; when not, why (shown next to it). */
export interface ControlState {
  enabled: boolean;
  reason: string | null;
}

const ok: ControlState = { enabled: true, reason: null };
const no = (reason: string): ControlState => ({ enabled: false, reason });

export type TimerAction = 'pause' | 'resume' | 'extend' | 'reset';

/** Whether `action` works on this timer now (the server's rules: protocol README "Timers and clocks"). */
export function timerControl(name: TimerName, timer: TimerState, action: TimerAction): ControlState {
  const what = name === 'turn' ? 'The turn timer' : 'The phase timer';
  if (timer.state === 'idle') return no(`${what} has not started.`);
  switch (action) {
    case 'pause':
      return timer.state === 'running' ? ok : no(timer.state === 'paused' ? `${what} is paused.` : `${what} is not running.`);
    case 'resume':
      return timer.state === 'paused' ? ok : no(`${what} is not paused.`);
    case 'extend':
    case 'reset':
      return ok;
  }
}

export interface ConsoleControls {
  roundStart: ControlState;
  roundSkip: ControlState;
  roundEnd: ControlState;
  /** Put a member back at the end of the running round's order. */
  roundAdd: ControlState;
  /** Pause or resume the room's running round, turn and timers (one control: whichever applies). */
  pause: ControlState;
  resume: ControlState;
  floorGiveNext: ControlState;
  floorRelease: ControlState;
  turn: Record<TimerAction, ControlState>;
  phase: Record<TimerAction, ControlState>;
}

function timerControls(name: TimerName, timer: TimerState): Record<TimerAction, ControlState> {
  return {
    pause: timerControl(name, timer, 'pause'),
    resume: timerControl(name, timer, 'resume'),
    extend: timerControl(name, timer, 'extend'),
    reset: timerControl(name, timer, 'reset'),
  };
}

/**
 * Which console controls work now for `role` in `room`, each with the reason when not. Everything
 * is off (with the reason) for a role that does not facilitate.
 */
export function consoleControls(room: RoomView, role: Role): ConsoleControls {
  const { round, turn, floor, timers, paused } = room;
  const isPaused = paused !== null;
  const whilePaused = no('The round is paused: resume it first.');
  const timing = timers.turn.state === 'running' || timers.phase.state === 'running';
  const controls: ConsoleControls = {
    roundStart: isPaused ? whilePaused : round ? no('A go-round is running.') : ok,
    roundSkip: !round ? no('No go-round is running.') : !turn ? no('Nobody is speaking.') : isPaused ? whilePaused : ok,
    roundEnd: round ? ok : no('No go-round is running.'),
    roundAdd: round ? (addableToRound(room).length > 0 ? ok : no('Everyone who can speak is still in the order.')) : no('No go-round is running.'),
    pause: isPaused ? no('Already paused.') : round || turn || timing ? ok : no('Nothing is running.'),
    resume: isPaused ? ok : no('Nothing is paused.'),
    floorGiveNext: round
      ? no('Not during a go-round.')
      : isPaused
        ? whilePaused
        : floor.queue.length === 0
          ? no('No hands are raised.')
          : ok,
    floorRelease: turn?.mode !== 'floor' ? no('Nobody has the floor.') : isPaused ? whilePaused : ok,
    turn: !turn
      ? allOff('Nobody is speaking.')
      : timers.turn.state === 'idle'
        ? allOff('This turn has no time limit.')
        : pausedTimers(timerControls('turn', timers.turn), isPaused),
    phase: pausedTimers(timerControls('phase', timers.phase), isPaused),
  };
  if (!isFacilitatorRole(role)) {
    const reason = 'Only facilitators and co-facilitators can do this.';
    return {
      roundStart: no(reason),
      roundSkip: no(reason),
      roundEnd: no(reason),
      roundAdd: no(reason),
      pause: no(reason),
      resume: no(reason),
      floorGiveNext: no(reason),
      floorRelease: no(reason),
      turn: allOff(reason),
      phase: allOff(reason),
    };
  }
  return controls;
}

/** While the room is paused a timer resumes only with the room (the server refuses it alone). */
function pausedTimers(controls: Record<TimerAction, ControlState>, isPaused: boolean): Record<TimerAction, ControlState> {
  return isPaused ? { ...controls, resume: no('The round is paused: use Resume the round.') } : controls;
}

function allOff(reason: string): Record<TimerAction, ControlState> {
  return { pause: no(reason), resume: no(reason), extend: no(reason), reset: no(reason) };
}

/** How many are still to speak in the go-round after the current speaker (0 outside a round). */
export function stillToSpeak(room: RoomView): number {
  if (!room.round) return 0;
  const current = room.turn?.member_id;
  return room.round.remaining.filter((id) => id !== current).length;
}

/** Members a facilitator may put back into the running round: in the room, not observers, not still to speak. */
export function addableToRound(room: RoomView): { id: string; name: string }[] {
  if (!room.round) return [];
  const remaining = new Set(room.round.remaining);
  return room.members
    .filter((m) => m.presence !== 'left' && m.role !== 'observer' && !remaining.has(m.id))
    .map((m) => ({ id: m.id, name: m.name }));
}

/** The pause as the stage says it (also a plain description the announcer can use), or null. */
export function pauseText(room: RoomView): string | null {
  if (!room.paused) return null;
  return room.paused.reason === 'restart'
    ? 'Paused: the server restarted. Nobody loses their turn while members come back; a facilitator resumes when ready.'
    : 'Paused by a facilitator. Nobody loses their turn; the time stands still until a facilitator resumes.';
}

/**
 * A speaker whose connection dropped keeps the turn until `held_until` (server time): what the
 * stage says while they are away (null when nobody is held). Also a description for the announcer.
 */
export function heldText(room: RoomView, serverNow: number, nameOf: (id: string) => string): string | null {
  const turn = room.turn;
  if (!turn || room.paused || heldSpeaker(room) === null) return null;
  const left = Math.max(0, (turn.held_until ?? serverNow) - serverNow);
  return `${nameOf(turn.member_id)} lost their connection. Their turn is kept for ${formatCountdown(left)} in case they are back.`;
}

/**
 * The speaker who is away while the server keeps their turn (`turn_held`), or null: the people
 * column says "away — turn held" on their row.
 */
export function heldSpeaker(room: Pick<RoomView, 'turn' | 'members'>): string | null {
  const turn = room.turn;
  if (!turn || turn.held_until == null) return null;
  const member = room.members.find((m) => m.id === turn.member_id);
  return member && member.presence !== 'online' ? member.id : null;
}

const outcomeText: Record<TurnOutcome, string> = {
  spoke: 'spoke',
  passed: 'passed',
  skipped: 'was skipped',
  moved: 'moved later',
  ended: 'round ended',
};

export interface SummaryRow {
  member_id: string;
  name: string;
  outcome: TurnOutcome;
  /** In plain words: "spoke", "passed", "was skipped", … */
  text: string;
  ms: number;
}

/** The finished round's turns, in order, as the stage lists them. */
export function summaryRows(summary: RoundSummary, nameOf: (id: string) => string): SummaryRow[] {
  return summary.outcomes.map((o) => ({ member_id: o.member_id, name: nameOf(o.member_id), outcome: o.outcome, text: outcomeText[o.outcome], ms: o.ms }));
}

/**
 * A plain description of the 1.6 round events, for the announcer (null for other kinds):
 * "The round is paused", "The round goes on", "<name> lost their connection; their turn is kept".
 */
export function roundEventText(event: RoomEvent, nameOf: (id: string) => string): string | null {
  switch (event.kind) {
    case 'activity_paused':
      return event.reason === 'restart' ? 'The round is paused after a server restart.' : 'The round is paused.';
    case 'activity_resumed':
      return 'The round goes on.';
    case 'turn_held':
      return `${nameOf(event.member_id)} lost their connection; their turn is kept for a moment.`;
    default:
      return null;
  }
}
