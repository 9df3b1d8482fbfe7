// The facilitator's console, beside the stage: pause and resume, the go-round (start, with or
// without the facilitator taking a turn; or skip, add back and end while it runs), the turn timer, the dialogue (give the floor), the phase timer and room actions. A
// control that cannot work now is disabled and says why; durations are minute presets or typed.

import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Connection } from '../connection';
import type { Role, TimerName } from '../protocol';
import { closeRoomWarning, type RoomView } from '../room-state';
import { addableToRound, consoleControls, type ControlState, type TimerAction } from '../stage';
import { GroupsConsole } from './Groups';
import { CheckField, CommandButton, DurationField, ErrorSlot, Reasons, choiceSeconds, presetChoice, type DurationChoice } from './controls';

/** What each timer button says: visible text, then the rest of its name for screen readers. */
const timerButtonText: Record<TimerAction, [string, string]> = {
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
  controls,
  reasonId,
}: {
  connection: Connection;
  timer: TimerName;
  actions: TimerAction[];
  controls: Record<TimerAction, ControlState>;
  reasonId: string;
}) {
  return (
    <>
      {actions.map((action) => {
        const [text, hidden] = timerButtonText[action];
        return (
          <CommandButton
            key={action}
            testid={`${timer}-${action}`}
            control={controls[action]}
            reasonId={reasonId}
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

type ConsoleGroup = 'round' | 'turn' | 'floor';

const INVALID_DURATION = 'Choose a time from 1 second to 4 hours, for example 3 (minutes), 1:30 or 45 s.';

export function Console({ connection, room, role }: { connection: Connection; room: RoomView; role: Role }) {
  const { round, turn, floor } = room;
  const c = consoleControls(room, role);
  const [order, setOrder] = useState<'join' | 'shuffle'>('join');
  const [roundTime, setRoundTime] = useState<DurationChoice>(presetChoice(120));
  const [autoAdvance, setAutoAdvance] = useState(true);
  // Facilitators of these groups hold the space rather than take a turn (README, Decisions).
  const [takeTurn, setTakeTurn] = useState(false);
  const addable = addableToRound(room);
  const [addWho, setAddWho] = useState('');
  const addTarget = addable.some((m) => m.id === addWho) ? addWho : addable[0]?.id ?? '';
  const [phaseTime, setPhaseTime] = useState<DurationChoice>({ pick: 'custom', custom: '15' });
  const [floorTime, setFloorTime] = useState<DurationChoice>(presetChoice(floor.turn_seconds, true));
  const [floorAuto, setFloorAuto] = useState(floor.auto_advance);
  const [quieter, setQuieter] = useState(floor.quieter_first);
  // Follow changes made by another facilitator.
  useEffect(() => {
    setFloorTime(presetChoice(floor.turn_seconds, true));
    setFloorAuto(floor.auto_advance);
    setQuieter(floor.quieter_first);
  }, [floor.turn_seconds, floor.auto_advance, floor.quieter_first]);

  /** The seconds chosen, or shows why the choice is not valid and gives null. */
  const secondsOf = (choice: DurationChoice): number | null => {
    const s = choiceSeconds(choice);
    if (s === null || Number.isNaN(s)) {
      connection.showError('invalid_duration', INVALID_DURATION);
      return null;
    }
    return s;
  };

  // The controls of what is happening now come first (the rest below, in a steady order): the
  // go-round while one runs or nothing does; the dialogue while hands are up or someone has the
  // floor; the turn timer right after, while someone speaks.
  const floorActive = !round && (floor.queue.length > 0 || turn?.mode === 'floor');
  const groupOrder: ConsoleGroup[] = round
    ? ['round', 'turn']
    : floorActive
      ? ['floor', 'turn', 'round']
      : ['round', 'floor', 'turn'];
  const groups: Record<ConsoleGroup, JSX.Element> = {
    round: (
      <div key="round" class="control-group" data-error-place="round">
        <h3 class="group-title">Go-round</h3>
        {round ? (
          <>
            <div class="actions">
              <CommandButton testid="round-skip" control={c.roundSkip} reasonId="round-reason" onClick={() => void connection.skipTurn()}>
                Skip current speaker
              </CommandButton>
              <CommandButton testid="round-end" control={c.roundEnd} reasonId="round-reason" onClick={() => void connection.endRound()}>
                End go-round
              </CommandButton>
            </div>
            <Reasons id="round-reason" controls={[c.roundSkip, c.roundEnd]} />
            {addable.length > 0 && (
              <div class="field round-add">
                <label for="round-add-member">Add back into the order</label>
                <div class="actions">
                  <select
                    id="round-add-member"
                    data-testid="round-add-member"
                    value={addTarget}
                    onChange={(e) => setAddWho((e.currentTarget as HTMLSelectElement).value)}
                  >
                    {addable.map((m) => (
                      <option key={m.id} value={m.id}>
                        {m.name}
                      </option>
                    ))}
                  </select>
                  <CommandButton testid="round-add" control={c.roundAdd} onClick={() => void (addTarget && connection.addToRound(addTarget))}>
                    Add at the end
                  </CommandButton>
                </div>
              </div>
            )}
          </>
        ) : (
          <form
            aria-label="Start a go-round"
            onSubmit={(e) => {
              e.preventDefault();
              const s = secondsOf(roundTime);
              if (s !== null) void connection.startRound(order, s, autoAdvance, !takeTurn);
            }}
          >
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
            <DurationField id="round-seconds" legend="Time per speaker" value={roundTime} onChange={setRoundTime} />
            <CheckField id="round-auto-advance" checked={autoAdvance} onChange={setAutoAdvance}>
              Move on automatically when time is up
            </CheckField>
            <CheckField id="round-take-turn" checked={takeTurn} onChange={setTakeTurn}>
              I take a turn too (otherwise I hold the space and keep time)
            </CheckField>
            <button type="submit" class="button primary" data-testid="round-start">
              Start go-round
            </button>
          </form>
        )}
        <ErrorSlot place="round" />
      </div>
    ),
    turn: (
      <div key="turn" class="control-group" data-error-place="turn-timer">
        <h3 class="group-title">Turn timer</h3>
        <div class="actions">
          <TimerButtons connection={connection} timer="turn" actions={['extend', 'pause', 'resume']} controls={c.turn} reasonId="turn-reason" />
        </div>
        <Reasons id="turn-reason" controls={[c.turn.extend, c.turn.pause, c.turn.resume]} />
        <ErrorSlot place="turn-timer" />
      </div>
    ),
    floor: (
      <div key="floor" class="control-group" data-error-place="floor">
        <h3 class="group-title">Dialogue</h3>
        <div class="actions">
          <CommandButton testid="floor-give-next" control={c.floorGiveNext} reasonId="floor-reason" onClick={() => void connection.giveFloor()}>
            {floor.quieter_first ? 'Give floor to quietest in queue' : 'Give floor to next in queue'}
          </CommandButton>
          {turn?.mode === 'floor' && (
            <CommandButton testid="floor-release" control={c.floorRelease} reasonId="floor-reason" onClick={() => void connection.releaseFloor()}>
              End this turn
            </CommandButton>
          )}
        </div>
        <Reasons id="floor-reason" controls={[c.floorGiveNext]} />
        <details class="drawer">
          <summary>Dialogue settings</summary>
          <form
            aria-label="Dialogue settings"
            onSubmit={(e) => {
              e.preventDefault();
              const limit = choiceSeconds(floorTime);
              if (limit !== null && Number.isNaN(limit)) return connection.showError('invalid_duration', INVALID_DURATION);
              void connection.floorSettings(limit, floorAuto, quieter);
            }}
          >
            <DurationField id="floor-seconds" legend="Turn limit" value={floorTime} onChange={setFloorTime} allowNone />
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
        </details>
        <ErrorSlot place="floor" />
      </div>
    ),
  };

  return (
    <section class="console card" aria-labelledby="console-heading" data-testid="console">
      <h2 id="console-heading">Facilitator controls</h2>

      {(c.pause.enabled || c.resume.enabled) && (
        <div class="control-group" data-error-place="pause-console">
          <div class="actions">
            {c.resume.enabled ? (
              <CommandButton testid="resume-activity" variant="primary" onClick={() => void connection.resumeActivity()}>
                Resume the round
              </CommandButton>
            ) : (
              <CommandButton testid="pause-activity" onClick={() => void connection.pauseActivity()}>
                Pause everything
                <span class="visually-hidden"> (round, turn and timers)</span>
              </CommandButton>
            )}
          </div>
          <ErrorSlot place="pause-console" />
        </div>
      )}

      {room.groups && <GroupsConsole connection={connection} room={room} />}

      {groupOrder.map((g) => groups[g])}

      {!room.groups && <GroupsConsole connection={connection} room={room} />}

      <div class="control-group" data-error-place="phase">
        <h3 class="group-title">Phase timer</h3>
        <form
          aria-label="Phase timer"
          onSubmit={(e) => {
            e.preventDefault();
            const s = secondsOf(phaseTime);
            if (s !== null) void connection.startTimer('phase', s);
          }}
        >
          <DurationField id="phase-seconds" legend="Phase length" value={phaseTime} onChange={setPhaseTime} />
          <div class="actions">
            <button type="submit" class="button primary" data-testid="phase-start">
              Start<span class="visually-hidden"> the phase timer</span>
            </button>
            <TimerButtons
              connection={connection}
              timer="phase"
              actions={['pause', 'resume', 'extend', 'reset']}
              controls={c.phase}
              reasonId="phase-reason"
            />
          </div>
          <Reasons id="phase-reason" controls={[c.phase.pause, c.phase.resume, c.phase.extend]} />
        </form>
        <ErrorSlot place="phase" />
      </div>

      {role === 'facilitator' && (
        <div class="control-group" data-error-place="room">
          <h3 class="group-title">Room</h3>
          <CheckField
            id="airtime-visibility"
            checked={room.settings.airtime_visibility === 'everyone'}
            onChange={(on) => void connection.setAirtimeVisibility(on ? 'everyone' : 'facilitators')}
          >
            Show airtime to everyone (otherwise to facilitators only)
          </CheckField>
          <button
            type="button"
            class="button danger"
            data-testid="close-room"
            onClick={() => {
              if (window.confirm(closeRoomWarning(room.title))) void connection.closeRoom();
            }}
          >
            Close room for good
          </button>
          <ErrorSlot place="room" />
        </div>
      )}
    </section>
  );
}
