// The stage: what is happening now, always in view. Who speaks, a large countdown with a progress
// bar that changes in the last minute and the last 10 s, "your turn" / "you're next", the
// speaker's own buttons (finish, pass, hand) with their keyboard shortcuts, and the sound cue.
// The question put to the group or the challenge card drawn is the stage's spotlight (below it).

import { useEffect, useRef, useState } from 'preact/hooks';
import type { Connection } from '../connection';
import type { ReleasedPrompt, Role, TimerState } from '../protocol';
import { formatCountdown, formatDuration, isFacilitatorRole, nextInRound, timerRemainingMs, type RoomView } from '../room-state';
import { focusTarget, shortcutFor } from '../shortcuts';
import {
  countdownLevel,
  heldText,
  pauseText,
  stillToSpeak,
  summaryRows,
  timeLeftFraction,
  turnElapsedMs,
  type CountdownLevel,
} from '../stage';
import { readItem, sessionStore, writeItem } from '../storage';
import { CommandButton, ErrorSlot, MemberName } from './controls';
import { useShortcutsEnabled } from './ShortcutsDialog';

export const SOUND_CUE_KEY = 'colloquy.sound-cue';
/** Countdowns redraw this often (ms) while a timer runs. */
export const TICK_MS = 250;

/** Re-renders every `ms` while `active`. */
export function useTicker(active: boolean, ms: number): void {
  const [, setTick] = useState(0);
  useEffect(() => {
    if (!active) return;
    const h = setInterval(() => setTick((t) => t + 1), ms);
    return () => clearInterval(h);
  }, [active, ms]);
}

/** A short beep with WebAudio (no audio files). */
function beep(ctx: AudioContext): void {
  try {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = 'sine';
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.0001, ctx.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.2, ctx.currentTime + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + 0.35);
    osc.connect(gain);
    gain.connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.4);
  } catch {
    // No sound: the visual and spoken cues remain.
  }
}

/** The sound cue when a timer runs out: off by default, remembered for this tab. */
export function useSoundCue(connection: Connection): [boolean, (on: boolean) => void] {
  const [sound, setSound] = useState(() => readItem(sessionStore(), SOUND_CUE_KEY) === 'on');
  const audio = useRef<AudioContext | null>(null);
  const soundRef = useRef(sound);
  soundRef.current = sound;
  useEffect(
    () =>
      connection.onRoomEvent((event) => {
        if (event.kind === 'timer_expired' && soundRef.current && audio.current) beep(audio.current);
      }),
    [connection],
  );
  function toggle(on: boolean) {
    setSound(on);
    writeItem(sessionStore(), SOUND_CUE_KEY, on ? 'on' : 'off');
    if (on && !audio.current) {
      // Created on the user's click, so that the browser allows it to play later.
      try {
        const Ctor = globalThis.AudioContext ?? (globalThis as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
        if (Ctor) audio.current = new Ctor();
      } catch {
        audio.current = null;
      }
    }
    if (on && audio.current) {
      void audio.current.resume?.();
      beep(audio.current);
    }
  }
  return [sound, toggle];
}

const levelText: Record<CountdownLevel, string> = {
  idle: 'not started',
  running: 'running',
  minute: 'last minute',
  final: 'last seconds',
  paused: 'paused',
  expired: 'time is up',
};

function Countdown({
  testid,
  label,
  timer,
  serverNow,
  size,
  idle = null,
}: {
  testid: string;
  label: string;
  timer: TimerState;
  serverNow: number;
  size: 'large' | 'small';
  /**
   * Instead of a countdown of 0:00 while the timer is idle: a turn with no time limit (how long it
   * has lasted, `level` untimed), or nobody speaking (the dialogue's limit per turn, `level` none).
   */
  idle?: { level: 'untimed' | 'none'; time: string; state: string; elapsedMs?: number } | null;
}) {
  if (timer.state === 'idle' && idle) {
    const labelId = `${testid}-label`;
    return (
      <div
        class={`countdown countdown-${size} state-idle level-${idle.level}`}
        role="timer"
        aria-labelledby={labelId}
        data-testid={testid}
        data-state="idle"
        data-level={idle.level}
        data-elapsed-ms={idle.elapsedMs === undefined ? undefined : String(idle.elapsedMs)}
      >
        <span id={labelId} class="countdown-label">
          {label}
        </span>
        <span class="countdown-time countdown-words">{idle.time}</span>
        <span class="countdown-state">{idle.state}</span>
      </div>
    );
  }
  const remaining = timerRemainingMs(timer, serverNow);
  const level = countdownLevel(timer, remaining);
  const labelId = `${testid}-label`;
  const left = timeLeftFraction(timer, remaining);
  return (
    <div
      class={`countdown countdown-${size} state-${timer.state} level-${level}`}
      role="timer"
      aria-labelledby={labelId}
      data-testid={testid}
      data-state={timer.state}
      data-level={level}
      data-remaining-ms={String(remaining)}
    >
      <span id={labelId} class="countdown-label">
        {label}
      </span>
      <span class="countdown-time">{formatCountdown(remaining)}</span>
      <span class="countdown-state">{levelText[level]}</span>
      {/* The bar repeats the time above for the eye; screen readers have the text. */}
      <progress class="countdown-bar" aria-hidden="true" max={1000} value={Math.round(left * 1000)} />
    </div>
  );
}

export interface StageProps {
  connection: Connection;
  room: RoomView;
  selfId: string;
  role: Role;
  /** A climate check waits for this member's answer: the stage offers to go there. */
  auditWaiting: boolean;
  onOpenAudit: () => void;
}

export function Stage({ connection, room, selfId, role, auditWaiting, onOpenAudit }: StageProps) {
  const { round, turn, floor, timers, paused, last_round } = room;
  const held = turn?.held_until != null && !paused;
  // An untimed turn counts up (its time so far), so it ticks too.
  const untimed = !!turn && timers.turn.state === 'idle';
  const running = timers.turn.state === 'running' || timers.phase.state === 'running' || held || (untimed && !paused);
  useTicker(running, TICK_MS);
  const serverNow = connection.serverNow();

  const nameOf = (id: string) => room.members.find((m) => m.id === id)?.name ?? id;
  const me = room.members.find((m) => m.id === selfId);
  const observer = role === 'observer';
  const myTurn = turn?.member_id === selfId;
  const next = nextInRound(room);
  const imNext = round !== null && next === selfId && !myTurn;
  const handUp = me?.hand ?? floor.queue.includes(selfId);
  const toSpeak = stillToSpeak(room);

  // ---- speaking actions
  const finish = () => {
    if (!turn || turn.member_id !== selfId) return;
    void (turn.mode === 'round' ? connection.finishTurn() : connection.releaseFloor());
  };
  const pass = () => {
    if (turn?.member_id === selfId && turn.mode === 'round') void connection.passTurn();
  };
  const toggleHand = () => {
    void (handUp ? connection.lowerHand() : connection.raiseHand());
  };

  // ---- keyboard shortcuts: h, f, p (unless turned off; not while typing, not with modifiers)
  const shortcuts = useShortcutsEnabled();
  const keys = useRef({ finish, pass, toggleHand, observer, shortcuts });
  keys.current = { finish, pass, toggleHand, observer, shortcuts };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const k = keys.current;
      const action = k.observer ? null : shortcutFor(e, focusTarget(e.target), k.shortcuts);
      if (action === 'hand') k.toggleHand();
      else if (action === 'finish') k.finish();
      else if (action === 'pass') k.pass();
      else return;
      e.preventDefault();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  const showPhase = timers.phase.state !== 'idle';
  const lead = isFacilitatorRole(role);
  const pausedSays = pauseText(room);
  const heldSays = heldText(room, serverNow, nameOf);
  return (
    <section
      class={`stage card${myTurn ? ' mine' : ''}`}
      data-testid="round-panel"
      aria-labelledby="round-heading"
      data-error-place="stage"
    >
      <div class="stage-top">
        <h2 id="round-heading" class="stage-activity" tabIndex={-1}>
          {round ? 'Go-round' : 'Dialogue'}
          {paused && <span class="stage-paused-tag"> · paused</span>}
        </h2>
        <p class="stage-meta">
          {round
            ? next
              ? `Next: ${nameOf(next)}${next === selfId ? ' (you)' : ''} · ${toSpeak} still to speak`
              : 'Last speaker'
            : floor.queue.length > 0
              ? `${floor.queue.length} ${floor.queue.length === 1 ? 'hand' : 'hands'} raised`
              : 'No hands raised'}
        </p>
      </div>
      {pausedSays && (
        <div class="stage-paused" data-testid="stage-paused" data-reason={paused?.reason} data-error-place="pause">
          <p>{pausedSays}</p>
          {lead && (
            <CommandButton testid="stage-resume" variant="primary" onClick={() => void connection.resumeActivity()}>
              Resume the round
            </CommandButton>
          )}
          <ErrorSlot place="pause" />
        </div>
      )}
      <div class="stage-main">
        <div class="stage-speaker">
          {turn ? (
            <p class="current-speaker" data-testid="current-speaker" data-member-id={turn.member_id}>
              <span class="speaker-label">{turn.mode === 'round' ? 'Speaking now' : 'Has the floor'}</span>{' '}
              <span class="speaker-name">
                <MemberName name={nameOf(turn.member_id)} self={turn.member_id === selfId} />
              </span>
            </p>
          ) : (
            <p class="no-speaker">
              <span class="speaker-label">Speaking now</span> <span class="speaker-name muted">Nobody</span>
            </p>
          )}
          {heldSays && (
            <p class="cue held-cue" data-testid="speaker-held">
              {heldSays}
            </p>
          )}
          {myTurn && (
            <p class="cue your-turn" data-testid="your-turn">
              It's your turn
            </p>
          )}
          {imNext && (
            <p class="cue next-cue" data-testid="next-cue">
              You're next
            </p>
          )}
        </div>
        <Countdown
          testid="turn-countdown"
          label="Turn"
          timer={timers.turn}
          serverNow={serverNow}
          size="large"
          idle={idleTurn(room, serverNow)}
        />
      </div>
      <div class={showPhase ? 'stage-phase' : 'visually-hidden'}>
        <Countdown testid="phase-countdown" label="Phase" timer={timers.phase} serverNow={serverNow} size="small" />
      </div>

      {!observer && (
        <div class="actions speak-actions">
          {myTurn && (
            <CommandButton testid="finish-turn" variant="primary" shortcut={shortcuts ? 'f' : undefined} onClick={finish}>
              {turn?.mode === 'round' ? 'Finish my turn' : 'Give back the floor'}
            </CommandButton>
          )}
          {myTurn && turn?.mode === 'round' && (
            <CommandButton testid="pass-turn" shortcut={shortcuts ? 'p' : undefined} onClick={pass}>
              Pass
            </CommandButton>
          )}
          <CommandButton testid={handUp ? 'lower-hand' : 'raise-hand'} shortcut={shortcuts ? 'h' : undefined} onClick={toggleHand}>
            {handUp ? 'Lower my hand' : 'Raise my hand'}
          </CommandButton>
        </div>
      )}
      {!round && last_round && (
        <RoundSummaryList summary={last_round} nameOf={nameOf} selfId={selfId} busy={turn !== null || floor.queue.length > 0 || !!room.audit?.open} />
      )}
      {auditWaiting && (
        <p class="stage-notice">
          A climate check is open.{' '}
          <button type="button" class="button small" data-testid="stage-open-audit" onClick={onOpenAudit}>
            Answer it
          </button>
        </p>
      )}
      <ErrorSlot place="stage" fallback />
    </section>
  );
}

/** What the turn countdown shows while its timer is idle (see Countdown's `idle`). */
function idleTurn(room: RoomView, serverNow: number): NonNullable<Parameters<typeof Countdown>[0]['idle']> {
  if (room.turn) {
    const elapsedMs = turnElapsedMs(room, serverNow);
    return { level: 'untimed', time: formatDuration(elapsedMs), state: 'so far · no time limit', elapsedMs };
  }
  const limit = room.floor.turn_seconds;
  return limit ? { level: 'none', time: formatDuration(limit * 1000), state: 'per turn' } : { level: 'none', time: '—', state: 'no time limit' };
}

/**
 * The last go-round, turn by turn (who spoke, passed, was skipped, for how long), until the next
 * starts. Each person can fold it to its heading (for this summary, on this screen only); it
 * folds by itself once the group moves on (`busy`: someone has the floor, a hand is up, a climate
 * check is open), so that it never pushes what happens now away; "Show" opens it again.
 */
function RoundSummaryList({
  summary,
  nameOf,
  selfId,
  busy,
}: {
  summary: NonNullable<RoomView['last_round']>;
  nameOf: (id: string) => string;
  selfId: string;
  busy: boolean;
}) {
  const rows = summaryRows(summary, nameOf);
  // This person's choice for this summary (null: none yet, follow `busy`).
  const [choice, setChoice] = useState<{ id: number; open: boolean } | null>(null);
  const chosen = choice?.id === summary.id ? choice : null;
  useEffect(() => {
    if (busy && !chosen) setChoice({ id: summary.id, open: false }); // folded once, then as chosen
  }, [busy, chosen, summary.id]);
  const open = chosen ? chosen.open : !busy;
  const turns = `${rows.length} ${rows.length === 1 ? 'turn' : 'turns'}`;
  return (
    <section class={`round-summary${open ? '' : ' folded'}`} aria-labelledby="round-summary-heading" data-testid="round-summary">
      <div class="round-summary-head">
        <h3 id="round-summary-heading" class="round-summary-title">
          Last go-round{open && summary.reason === 'ended' ? ' (ended early)' : ''}
          {!open && <span class="muted">: {turns}</span>}
        </h3>
        <button
          type="button"
          class="button small"
          data-testid="round-summary-toggle"
          aria-expanded={open ? 'true' : 'false'}
          aria-controls="round-summary-body"
          onClick={() => setChoice({ id: summary.id, open: !open })}
        >
          {open ? 'Hide' : 'Show'}
          <span class="visually-hidden"> the last go-round</span>
        </button>
      </div>
      <div id="round-summary-body" hidden={!open}>
        {open && <RoundSummaryRows rows={rows} selfId={selfId} />}
      </div>
    </section>
  );
}

function RoundSummaryRows({ rows, selfId }: { rows: ReturnType<typeof summaryRows>; selfId: string }) {
  return (
    <>
      {rows.length === 0 ? (
        <p class="muted">Nobody took a turn.</p>
      ) : (
        <ol class="round-summary-list">
          {rows.map((r, i) => (
            <li key={`${r.member_id}-${i}`} data-testid="round-summary-row" data-member-id={r.member_id} data-outcome={r.outcome}>
              <span class="summary-name">
                <MemberName name={r.name} self={r.member_id === selfId} />
              </span>{' '}
              <span class="summary-outcome">{r.text}</span>
              {r.outcome === 'spoke' || (r.outcome !== 'passed' && r.ms >= 1000) ? (
                <span class="summary-time"> {formatDuration(r.ms)}</span>
              ) : null}
            </li>
          ))}
        </ol>
      )}
    </>
  );
}

/** The question put to someone, or the challenge card drawn: whichever came last. */
export function Spotlight({
  room,
  selfId,
  prompt,
  card,
}: {
  room: RoomView;
  selfId: string;
  prompt: ReleasedPrompt | null;
  card: { id: string; text: string } | null;
}) {
  if (!prompt && !card) return null;
  let label = 'Challenge';
  let text = card?.text ?? '';
  if (prompt) {
    const to = prompt.posed_to;
    const name = to ? room.members.find((m) => m.id === to)?.name ?? 'a member' : null;
    label = to === null || to === undefined ? 'Question for the group' : to === selfId ? 'Question for you' : `Question for ${name}`;
    text = prompt.text;
  }
  return (
    <section class="spotlight card" aria-labelledby="spotlight-label" data-testid="stage-spotlight" data-kind={prompt ? 'prompt' : 'card'}>
      <h2 id="spotlight-label" class="spotlight-label">
        {label}
      </h2>
      <p class="spotlight-text">{text}</p>
    </section>
  );
}
