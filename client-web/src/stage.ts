// What the room screen shows and offers now (pure, no I/O): how a countdown looks near its end,
// which facilitator controls work in the room's current state (and why not, in plain words), and
// durations as people say them ("3", "1:30", "45 s").

import { MAX_DURATION_SECONDS, type Role, type TimerName, type TimerState } from './protocol';
import { isFacilitatorRole, type RoomView } from './room-state';

/** Under this much time left a countdown shows "last minute". */
export const MINUTE_MS = 60_000;
/** Under this much time left a countdown shows "last seconds". */
export const FINAL_MS = 10_000;

/**
 * How a countdown looks: `idle` (no timer), `running`, `minute` (running, 1 minute or less left),
 * `final` (running, 10 s or less), `paused`, `expired`. Thresholds are inclusive: 1:00 is the last minute.
 */
export type CountdownLevel = 'idle' | 'running' | 'minute' | 'final' | 'paused' | 'expired';

export function countdownLevel(timer: TimerState, remainingMs: number): CountdownLevel {
  if (timer.state !== 'running') return timer.state;
  if (remainingMs <= FINAL_MS) return 'final';
  if (remainingMs <= MINUTE_MS) return 'minute';
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
  const { round, turn, floor, timers } = room;
  const controls: ConsoleControls = {
    roundStart: round ? no('A go-round is running.') : ok,
    roundSkip: !round ? no('No go-round is running.') : !turn ? no('Nobody is speaking.') : ok,
    roundEnd: round ? ok : no('No go-round is running.'),
    floorGiveNext: round
      ? no('Not during a go-round.')
      : floor.queue.length === 0
        ? no('No hands are raised.')
        : ok,
    floorRelease: turn?.mode === 'floor' ? ok : no('Nobody has the floor.'),
    turn: turn ? timerControls('turn', timers.turn) : allOff('Nobody is speaking.'),
    phase: timerControls('phase', timers.phase),
  };
  if (!isFacilitatorRole(role)) {
    const reason = 'Only facilitators and co-facilitators can do this.';
    return {
      roundStart: no(reason),
      roundSkip: no(reason),
      roundEnd: no(reason),
      floorGiveNext: no(reason),
      floorRelease: no(reason),
      turn: allOff(reason),
      phase: allOff(reason),
    };
  }
  return controls;
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
