// Live rounds (protocol 1.2): the current speaker, "you're next", the go-round order and outcomes,
// the speaking queue, the turn and phase countdowns, speaking controls, facilitator controls,
// airtime bars, a sound cue and keyboard shortcuts. All state comes from the room view; every
// action is a command whose refusal shows in the room's error area.

import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Connection } from '../connection';
import { MAX_DURATION_SECONDS, type Role, type TimerName, type TimerState } from '../protocol';
import {
  airtimeVisibleTo,
  formatCountdown,
  formatDuration,
  isFacilitatorRole,
  nextInRound,
  timerRemainingMs,
  type RoomView,
} from '../room-state';
import { readItem, sessionStore, writeItem } from '../storage';

export const SOUND_CUE_KEY = 'colloquy.sound-cue';
/** Countdowns redraw this often (ms) while a timer runs. */
export const TICK_MS = 250;

const outcomeText: Record<string, string> = {
  spoke: 'spoke',
  passed: 'passed',
  skipped: 'skipped',
  moved: 'moved to the end',
  ended: 'round ended',
};

/** Re-renders every `ms` while `active`. */
function useTicker(active: boolean, ms: number): void {
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

function isTextTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') {
    const type = (target as HTMLInputElement).type;
    return !['checkbox', 'radio', 'button', 'submit', 'reset'].includes(type);
  }
  return false;
}

/** Parses a whole number of seconds in 1..14400; null otherwise. */
export function parseSeconds(text: string): number | null {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return null;
  const n = Number(t);
  return n >= 1 && n <= MAX_DURATION_SECONDS ? n : null;
}

const timerStateText: Record<TimerState['state'], string> = {
  idle: 'not started',
  running: 'running',
  paused: 'paused',
  expired: 'time is up',
};

function Countdown({
  testid,
  label,
  timer,
  serverNow,
}: {
  testid: string;
  label: string;
  timer: TimerState;
  serverNow: number;
}) {
  const remaining = timerRemainingMs(timer, serverNow);
  const labelId = `${testid}-label`;
  return (
    <div
      class={`countdown state-${timer.state}`}
      role="timer"
      aria-labelledby={labelId}
      data-testid={testid}
      data-state={timer.state}
      data-remaining-ms={String(remaining)}
    >
      <span id={labelId} class="countdown-label">
        {label}
      </span>
      <span class="countdown-time">{formatCountdown(remaining)}</span>
      <span class="countdown-state">{timerStateText[timer.state]}</span>
    </div>
  );
}

/** A member's name, with "(you)" after one's own. */
function MemberName({ name, self }: { name: string; self: boolean }) {
  return (
    <>
      {name}
      {self && <span class="you"> (you)</span>}
    </>
  );
}

/** A button that sends a command (its refusal shows in the room's error area). */
function CommandButton({
  testid,
  onClick,
  variant,
  shortcut,
  children,
}: {
  testid: string;
  onClick: () => void;
  variant?: 'primary' | 'small';
  /** The key of its keyboard shortcut, announced with aria-keyshortcuts. */
  shortcut?: string;
  children: ComponentChildren;
}) {
  return (
    <button
      type="button"
      class={variant ? `button ${variant}` : 'button'}
      data-testid={testid}
      aria-keyshortcuts={shortcut}
      onClick={onClick}
    >
      {children}
    </button>
  );
}

/** A checkbox labelled by its children; its id is also its data-testid. */
function CheckField({
  id,
  checked,
  onChange,
  children,
}: {
  id: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
  children: ComponentChildren;
}) {
  return (
    <div class="check-field">
      <input
        id={id}
        type="checkbox"
        data-testid={id}
        checked={checked}
        onChange={(e) => onChange((e.currentTarget as HTMLInputElement).checked)}
      />
      <label for={id}>{children}</label>
    </div>
  );
}

/** A field for a number of seconds; its id is also its data-testid. `hint` describes a valid value. */
function SecondsField({
  id,
  label,
  value,
  onInput,
  hint,
}: {
  id: string;
  label: string;
  value: string;
  onInput: (value: string) => void;
  hint?: (seconds: number) => string;
}) {
  const hintId = `${id}-hint`;
  const seconds = parseSeconds(value);
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        id={id}
        type="number"
        inputMode="numeric"
        min={1}
        max={MAX_DURATION_SECONDS}
        step={1}
        data-testid={id}
        aria-describedby={hint ? hintId : undefined}
        value={value}
        onInput={(e) => onInput((e.currentTarget as HTMLInputElement).value)}
      />
      {hint && (
        <p id={hintId} class="hint">
          {seconds !== null ? hint(seconds) : `1 to ${MAX_DURATION_SECONDS}`}
        </p>
      )}
    </div>
  );
}

type TimerButtonAction = 'pause' | 'resume' | 'extend' | 'reset';

/** What each timer button says: visible text, then the rest of its name for screen readers. */
const timerButtonText: Record<TimerButtonAction, [string, string]> = {
  pause: ['Pause', 'the'],
  resume: ['Resume', 'the'],
  extend: ['+1 min', 'on the'],
  reset: ['Reset', 'the'],
};

/** Buttons (data-testid `<timer>-<action>`) that act on the turn or phase timer, in the order given. */
function TimerButtons({
  connection,
  timer,
  actions,
}: {
  connection: Connection;
  timer: TimerName;
  actions: TimerButtonAction[];
}) {
  return (
    <>
      {actions.map((action) => {
        const [text, hidden] = timerButtonText[action];
        return (
          <CommandButton
            key={action}
            testid={`${timer}-${action}`}
            onClick={() =>
              void (action === 'extend' ? connection.extendTimer(timer, 60) : connection.timerAction(timer, action))
            }
          >
            {text}
            <span class="visually-hidden">{` ${hidden} ${timer} timer`}</span>
          </CommandButton>
        );
      })}
    </>
  );
}

export interface RoundPanelProps {
  connection: Connection;
  room: RoomView;
  selfId: string;
  role: Role;
}

export function RoundPanel({ connection, room, selfId, role }: RoundPanelProps) {
  const { round, turn, floor, timers } = room;
  const running = timers.turn.state === 'running' || timers.phase.state === 'running';
  useTicker(running, TICK_MS);
  const serverNow = connection.serverNow();

  const nameOf = (id: string) => room.members.find((m) => m.id === id)?.name ?? id;
  const me = room.members.find((m) => m.id === selfId);
  const observer = role === 'observer';
  const canFacilitate = isFacilitatorRole(role);
  const isFacilitator = role === 'facilitator';
  const myTurn = turn?.member_id === selfId;
  const next = nextInRound(room);
  const imNext = round !== null && next === selfId && !myTurn;
  const handUp = me?.hand ?? floor.queue.includes(selfId);

  // ---- sound cue (off by default; remembered for this tab)
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
  function toggleSound(on: boolean) {
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

  // ---- keyboard shortcuts: h, f, p (not while typing, not with modifiers)
  const keys = useRef({ finish, pass, toggleHand, observer });
  keys.current = { finish, pass, toggleHand, observer };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
      if (isTextTarget(e.target)) return;
      const k = keys.current;
      if (k.observer) return;
      const key = e.key.toLowerCase();
      if (key === 'h') k.toggleHand();
      else if (key === 'f') k.finish();
      else if (key === 'p') k.pass();
      else return;
      e.preventDefault();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  const showAirtime = airtimeVisibleTo(room, role);
  const maxAirtime = Math.max(1, ...room.members.map((m) => m.airtime_ms));

  return (
    <section class="card round-panel" data-testid="round-panel" aria-labelledby="round-heading">
      <h2 id="round-heading">{round ? 'Go-round' : 'Dialogue'}</h2>

      <div class={`speaker-box${myTurn ? ' mine' : ''}`}>
        {turn ? (
          <p class="current-speaker" data-testid="current-speaker" data-member-id={turn.member_id}>
            <span class="speaker-label">{turn.mode === 'round' ? 'Speaking now' : 'Has the floor'}</span>{' '}
            <span class="speaker-name">
              <MemberName name={nameOf(turn.member_id)} self={turn.member_id === selfId} />
            </span>
          </p>
        ) : (
          <p class="muted no-speaker">Nobody has the floor.</p>
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
        <div class="countdowns">
          <Countdown testid="turn-countdown" label="Turn" timer={timers.turn} serverNow={serverNow} />
          <Countdown testid="phase-countdown" label="Phase" timer={timers.phase} serverNow={serverNow} />
        </div>
      </div>

      {!observer && (
        <div class="actions speak-actions">
          {myTurn && (
            <CommandButton testid="finish-turn" variant="primary" shortcut="f" onClick={finish}>
              {turn?.mode === 'round' ? 'Finish my turn' : 'Give back the floor'}
            </CommandButton>
          )}
          {myTurn && turn?.mode === 'round' && (
            <CommandButton testid="pass-turn" shortcut="p" onClick={pass}>
              Pass
            </CommandButton>
          )}
          <CommandButton testid={handUp ? 'lower-hand' : 'raise-hand'} shortcut="h" onClick={toggleHand}>
            {handUp ? 'Lower my hand' : 'Raise my hand'}
          </CommandButton>
        </div>
      )}

      <div class="round-lists">
        {round && (
          <>
            <div>
              <h3 id="remaining-heading">Still to speak</h3>
              {round.remaining.length > 0 ? (
                <ol class="plain-list" data-testid="round-remaining" aria-labelledby="remaining-heading">
                  {round.remaining.map((id) => (
                    <li key={id} class="list-row" data-testid="round-remaining-item" data-member-id={id}>
                      <span>
                        <MemberName name={nameOf(id)} self={id === selfId} />
                        {id === turn?.member_id && <span class="tag role"> speaking</span>}
                      </span>
                      {canFacilitate && id !== turn?.member_id && (
                        <CommandButton testid="round-later" variant="small" onClick={() => void connection.moveLater(id)}>
                          Move to end<span class="visually-hidden">: {nameOf(id)}</span>
                        </CommandButton>
                      )}
                    </li>
                  ))}
                </ol>
              ) : (
                <p class="muted" data-testid="round-remaining">
                  Everyone has had their turn.
                </p>
              )}
            </div>
            <div>
              <h3 id="outcomes-heading">Done</h3>
              <ol class="plain-list" data-testid="round-outcomes" aria-labelledby="outcomes-heading">
                {round.outcomes.map((o, i) => (
                  <li key={`${o.member_id}-${i}`} class="list-row" data-member-id={o.member_id} data-outcome={o.outcome}>
                    <span>
                      {nameOf(o.member_id)}: {outcomeText[o.outcome] ?? o.outcome}
                    </span>
                    <span class="muted">{formatDuration(o.ms)}</span>
                  </li>
                ))}
              </ol>
              {round.outcomes.length === 0 && <p class="muted">Nobody yet.</p>}
            </div>
          </>
        )}
        <div>
          <h3 id="queue-heading">Speaking queue</h3>
          <ol class="plain-list" data-testid="speaking-queue" aria-labelledby="queue-heading">
            {floor.queue.map((id) => (
              <li key={id} class="list-row" data-testid="queue-item" data-member-id={id}>
                <span>
                  <MemberName name={nameOf(id)} self={id === selfId} />
                </span>
                {canFacilitate && (
                  <span class="row-actions">
                    {!round && (
                      <CommandButton testid="queue-give" variant="small" onClick={() => void connection.giveFloor(id)}>
                        Give floor<span class="visually-hidden"> to {nameOf(id)}</span>
                      </CommandButton>
                    )}
                    {id !== selfId && (
                      <CommandButton testid="queue-lower" variant="small" onClick={() => void connection.lowerHand(id)}>
                        Lower hand<span class="visually-hidden"> of {nameOf(id)}</span>
                      </CommandButton>
                    )}
                  </span>
                )}
              </li>
            ))}
          </ol>
          {floor.queue.length === 0 && <p class="muted">No hands raised.</p>}
        </div>
      </div>

      {canFacilitate && (
        <FacilitatorControls connection={connection} room={room} />
      )}

      {showAirtime && (
        <div class="airtime">
          <h3>Airtime</h3>
          <ul class="plain-list airtime-list">
            {room.members.map((m) => (
              <li key={m.id} class="airtime-row">
                <label for={`airtime-${m.id}`} class="airtime-label">
                  <span>{m.name}</span> <span class="muted">{formatDuration(m.airtime_ms)}</span>
                </label>
                <meter
                  id={`airtime-${m.id}`}
                  class="airtime-meter"
                  data-testid="airtime-bar"
                  data-member-id={m.id}
                  data-ms={String(m.airtime_ms)}
                  min={0}
                  max={maxAirtime}
                  value={m.airtime_ms}
                />
              </li>
            ))}
          </ul>
        </div>
      )}
      {isFacilitator && (
        <CheckField
          id="airtime-visibility"
          checked={room.settings.airtime_visibility === 'everyone'}
          onChange={(on) => void connection.setAirtimeVisibility(on ? 'everyone' : 'facilitators')}
        >
          Show airtime to everyone (otherwise to facilitators only)
        </CheckField>
      )}

      <div class="preferences">
        <CheckField id="sound-cue" checked={sound} onChange={toggleSound}>
          Sound when time is up
        </CheckField>
        {!observer && (
          <p class="hint shortcuts" data-testid="shortcuts-help">
            Keyboard: <kbd>H</kbd> raise or lower your hand, <kbd>F</kbd> finish your turn, <kbd>P</kbd> pass your turn
            (when you are not typing in a field).
          </p>
        )}
      </div>
    </section>
  );
}

function FacilitatorControls({ connection, room }: { connection: Connection; room: RoomView }) {
  const { round, turn, floor } = room;
  const [order, setOrder] = useState<'join' | 'shuffle'>('join');
  const [roundSeconds, setRoundSeconds] = useState('120');
  const [autoAdvance, setAutoAdvance] = useState(true);
  const [phaseSeconds, setPhaseSeconds] = useState('900');
  const [floorSeconds, setFloorSeconds] = useState(floor.turn_seconds === null ? '' : String(floor.turn_seconds));
  const [floorAuto, setFloorAuto] = useState(floor.auto_advance);
  const [quieter, setQuieter] = useState(floor.quieter_first);
  // Follow changes made by another facilitator.
  useEffect(() => {
    setFloorSeconds(floor.turn_seconds === null ? '' : String(floor.turn_seconds));
    setFloorAuto(floor.auto_advance);
    setQuieter(floor.quieter_first);
  }, [floor.turn_seconds, floor.auto_advance, floor.quieter_first]);

  const badSeconds = () => connection.showError('invalid_duration', 'Enter a whole number of seconds from 1 to 14400 (4 hours).');
  /** A form's submit handler that sends `start` the seconds in `text`, or shows why they are not valid. */
  const submitSeconds = (text: string, start: (seconds: number) => void) => (e: Event) => {
    e.preventDefault();
    const s = parseSeconds(text);
    if (s === null) return badSeconds();
    start(s);
  };

  return (
    <div class="facilitator-controls">
      <h3>Facilitator controls</h3>
      {!round ? (
        <form
          class="control-group"
          aria-label="Start a go-round"
          onSubmit={submitSeconds(roundSeconds, (s) => void connection.startRound(order, s, autoAdvance))}
        >
          <p class="group-title">Go-round</p>
          <div class="field-row">
            <div class="field">
              <label for="round-order">Order</label>
              <select
                id="round-order"
                data-testid="round-order"
                value={order}
                onChange={(e) => setOrder((e.currentTarget as HTMLSelectElement).value === 'shuffle' ? 'shuffle' : 'join')}
              >
                <option value="join">Join order</option>
                <option value="shuffle">Shuffled</option>
              </select>
            </div>
            <SecondsField
              id="round-seconds"
              label="Time per speaker (seconds)"
              value={roundSeconds}
              onInput={setRoundSeconds}
              hint={(s) => `${formatDuration(s * 1000)} each`}
            />
          </div>
          <CheckField id="round-auto-advance" checked={autoAdvance} onChange={setAutoAdvance}>
            Move on automatically when time is up
          </CheckField>
          <button type="submit" class="button primary" data-testid="round-start">
            Start go-round
          </button>
        </form>
      ) : (
        <div class="control-group">
          <p class="group-title">Go-round</p>
          <div class="actions">
            <CommandButton testid="round-skip" onClick={() => void connection.skipTurn()}>
              Skip current speaker
            </CommandButton>
            <CommandButton testid="round-end" onClick={() => void connection.endRound()}>
              End go-round
            </CommandButton>
          </div>
        </div>
      )}

      {!round && (
        <div class="control-group">
          <p class="group-title">Dialogue</p>
          <div class="actions">
            <CommandButton testid="floor-give-next" onClick={() => void connection.giveFloor()}>
              {floor.quieter_first ? 'Give floor to quietest in queue' : 'Give floor to next in queue'}
            </CommandButton>
            {turn?.mode === 'floor' && (
              <CommandButton testid="floor-release" onClick={() => void connection.releaseFloor()}>
                End this turn
              </CommandButton>
            )}
          </div>
          <form
            class="sub-form"
            aria-label="Dialogue settings"
            onSubmit={(e) => {
              e.preventDefault();
              let limit: number | null = null;
              if (floorSeconds.trim() !== '') {
                limit = parseSeconds(floorSeconds);
                if (limit === null) return badSeconds();
              }
              void connection.floorSettings(limit, floorAuto, quieter);
            }}
          >
            <SecondsField
              id="floor-seconds"
              label="Turn limit (seconds, empty for none)"
              value={floorSeconds}
              onInput={setFloorSeconds}
            />
            <CheckField id="floor-auto-advance" checked={floorAuto} onChange={setFloorAuto}>
              Pass the floor to the next raised hand automatically
            </CheckField>
            <CheckField id="floor-quieter-first" checked={quieter} onChange={setQuieter}>
              Quieter members first (least airtime)
            </CheckField>
            <button type="submit" class="button" data-testid="floor-settings-save">
              Save dialogue settings
            </button>
          </form>
        </div>
      )}

      <div class="control-group">
        <p class="group-title">Turn timer</p>
        <div class="actions">
          <TimerButtons connection={connection} timer="turn" actions={['extend', 'pause', 'resume']} />
        </div>
      </div>

      <form
        class="control-group"
        aria-label="Phase timer"
        onSubmit={submitSeconds(phaseSeconds, (s) => void connection.startTimer('phase', s))}
      >
        <p class="group-title">Phase timer</p>
        <SecondsField
          id="phase-seconds"
          label="Phase length (seconds)"
          value={phaseSeconds}
          onInput={setPhaseSeconds}
          hint={(s) => formatDuration(s * 1000)}
        />
        <div class="actions">
          <button type="submit" class="button primary" data-testid="phase-start">
            Start<span class="visually-hidden"> the phase timer</span>
          </button>
          <TimerButtons connection={connection} timer="phase" actions={['pause', 'resume', 'extend', 'reset']} />
        </div>
      </form>
    </div>
  );
}
