// Breakout groups (1.7) on screen. The stage's banner (`GroupsBanner`, every screen while groups
// are open): which group this member is in and with whom, the planned time left, the
// facilitator's message, the group's own flags (done, more time, call the facilitator: toggles),
// and during a recall a countdown nobody can miss, then "Closing now". The console's section
// (`GroupsConsole`): open groups (size, method, planned time), then every group at a glance with
// its flags, moving members, messaging all groups, more time, recall and close.

import { useState } from 'preact/hooks';
import type { Connection } from '../connection';
import {
  CLOSE_GROUPS_WARNING,
  GROUP_DURATION_PRESETS,
  GROUP_SIZE_PRESETS,
  MAIN_ROOM_TEXT,
  flagWords,
  groupBannerText,
  groupLabel,
  groupsTiming,
  ownFlagState,
  splitPreview,
  splittable,
  timingText,
  type GroupsTiming,
} from '../groups';
import { MAX_BROADCAST_CHARS, type BreakoutGroup, type GroupFlag, type GroupMethod, type Role } from '../protocol';
import { groupOf, type RoomView } from '../room-state';
import { CommandButton, DurationField, ErrorSlot, MemberName, Reasons, choiceSeconds, type DurationChoice } from './controls';
import { TICK_MS, useTicker } from './Stage';

/** The groups' timing now, redrawn while they are open. */
function useGroupsTiming(connection: Connection, room: RoomView): GroupsTiming | null {
  useTicker(room.groups !== null, TICK_MS);
  return room.groups ? groupsTiming(room.groups, connection.serverNow()) : null;
}

/** The recall's countdown, then "Closing now": large, on every screen. */
function RecallCountdown({ timing }: { timing: GroupsTiming }) {
  if (timing.phase === 'working') return null;
  return (
    <p class={`groups-recall phase-${timing.phase}`} role="timer" data-testid="groups-recall-countdown" data-phase={timing.phase}>
      {timingText(timing)}
    </p>
  );
}

const flagButtonText: Record<GroupFlag, string> = {
  done: "We're done",
  more_time: 'Ask for 2 more minutes',
  help: 'Call the facilitator',
};

export function GroupsBanner({ connection, room, selfId, role }: { connection: Connection; room: RoomView; selfId: string; role: Role }) {
  const timing = useGroupsTiming(connection, room);
  if (!room.groups || !timing) return null;
  const mine = groupOf(room, selfId);
  const raised = mine ? (['done', 'more_time', 'help'] as GroupFlag[]).filter((f) => mine[f]) : [];
  return (
    <section
      class={`groups-banner card${mine?.help ? ' help' : ''}`}
      aria-labelledby="groups-banner-heading"
      data-testid="groups-banner"
      data-group-id={mine?.id ?? ''}
      data-error-place="groups-stage"
    >
      <RecallCountdown timing={timing} />
      <h2 id="groups-banner-heading" class="groups-banner-title" data-testid="groups-banner-title" tabIndex={-1}>
        {mine ? groupBannerText(room, mine, selfId) : MAIN_ROOM_TEXT}
      </h2>
      {timing.phase === 'working' && (
        <p class="groups-time" data-testid="groups-time">
          {timingText(timing)}
        </p>
      )}
      {room.groups.message && (
        <p class="groups-message" data-testid="groups-message">
          <span class="groups-message-label">Message from the facilitator:</span> {room.groups.message}
        </p>
      )}
      {mine && role !== 'observer' && timing.phase === 'working' && (
        <>
          <div class="actions group-flags">
            {(['done', 'more_time', 'help'] as GroupFlag[]).map((flag) => (
              <button
                key={flag}
                type="button"
                class={`button small flag-${flag}`}
                data-testid={`group-flag-${flag}`}
                aria-pressed={mine[flag] ? 'true' : 'false'}
                onClick={() => void connection.flagGroup(flag, !mine[flag])}
              >
                {mine[flag] && (
                  <span class="flag-check" aria-hidden="true">
                    ✓
                  </span>
                )}
                {flagButtonText[flag]}
              </button>
            ))}
          </div>
          {raised.length > 0 && (
            <p class="group-flag-state" data-testid="group-flag-state">
              {raised.map((f) => ownFlagState[f]).join(' ')}
            </p>
          )}
        </>
      )}
      <ErrorSlot place="groups-stage" />
    </section>
  );
}

// ---------------------------------------------------------------- the console

export function GroupsConsole({ connection, room }: { connection: Connection; room: RoomView }) {
  return (
    <div class="control-group groups-console" data-error-place="groups" data-testid="groups-console">
      <h3 class="group-title">Breakout groups</h3>
      {room.groups ? <OpenGroups connection={connection} room={room} /> : <OpenGroupsForm connection={connection} room={room} />}
      <ErrorSlot place="groups" />
    </div>
  );
}

const SIZE_HINT = 'Choose a group size of 2 or more.';

function OpenGroupsForm({ connection, room }: { connection: Connection; room: RoomView }) {
  const [sizePick, setSizePick] = useState<number | 'custom'>(2);
  const [customSize, setCustomSize] = useState('5');
  const [method, setMethod] = useState<GroupMethod>('fresh');
  const [time, setTime] = useState<DurationChoice>({ pick: 300, custom: '' });
  const size = sizePick === 'custom' ? (/^\d{1,4}$/.test(customSize.trim()) ? Number(customSize.trim()) : NaN) : sizePick;
  const open = { enabled: room.round === null, reason: room.round ? 'A go-round is running: end it first.' : null };
  return (
    <form
      aria-label="Open breakout groups"
      onSubmit={(e) => {
        e.preventDefault();
        if (!(size >= 2)) return connection.showError('invalid_group_size', SIZE_HINT);
        const s = choiceSeconds(time);
        if (s !== null && Number.isNaN(s)) return connection.showError('invalid_duration', 'Choose a time from 1 second to 4 hours.');
        void connection.openGroups(method, size, s === null ? null : s / 60);
      }}
    >
      <fieldset class="duration-field">
        <legend>Group size</legend>
        <div class="presets">
          {GROUP_SIZE_PRESETS.map((p) => (
            <label key={p.size} class="preset">
              <input type="radio" name="groups-size-pick" data-testid={`groups-size-${p.size}`} checked={sizePick === p.size} onChange={() => setSizePick(p.size)} />
              <span>{p.label}</span>
            </label>
          ))}
          <label class="preset">
            <input type="radio" name="groups-size-pick" data-testid="groups-size-custom" checked={sizePick === 'custom'} onChange={() => setSizePick('custom')} />
            <span>Other</span>
          </label>
        </div>
        <label for="groups-size" class="visually-hidden">
          Group size: other number of members
        </label>
        <input
          id="groups-size"
          type="number"
          min={2}
          inputMode="numeric"
          class="duration-input"
          data-testid="groups-size"
          aria-describedby="groups-size-hint"
          value={customSize}
          onInput={(e) => {
            setCustomSize((e.currentTarget as HTMLInputElement).value);
            setSizePick('custom');
          }}
        />
        <p id="groups-size-hint" class="hint" data-testid="groups-size-hint">
          {size >= 2 ? splitPreview(splittable(room), size) : SIZE_HINT}
        </p>
      </fieldset>
      <fieldset class="duration-field">
        <legend>Who goes with whom</legend>
        <div class="presets">
          {(
            [
              ['fresh', 'Fresh groups'],
              ['random', 'Random'],
            ] as const
          ).map(([m, label]) => (
            <label key={m} class="preset">
              <input type="radio" name="groups-method" data-testid={`groups-method-${m}`} checked={method === m} onChange={() => setMethod(m)} />
              <span>{label}</span>
            </label>
          ))}
        </div>
        <p class="hint">
          {method === 'fresh' ? 'Fresh: people who have not worked together yet, as far as possible.' : 'Random: any mix.'}
        </p>
      </fieldset>
      <DurationField
        id="groups-seconds"
        legend="Time in groups"
        value={time}
        onChange={setTime}
        presets={GROUP_DURATION_PRESETS}
        allowNone
        noneLabel="Until I recall"
      />
      <CommandButton testid="groups-open" variant="primary" control={open} reasonId="groups-open-reason" submit>
        Open groups
      </CommandButton>
      <Reasons id="groups-open-reason" controls={[open]} />
    </form>
  );
}

/** "Move Ada to…": any open group or the main room. */
function MoveSelect({ connection, room, memberId, name, current }: { connection: Connection; room: RoomView; memberId: string; name: string; current: string | null }) {
  const groups = room.groups!.groups;
  const first = groups.find((g) => g.id !== current)?.id ?? '';
  const [to, setTo] = useState<string | null>(null);
  const target = to === null || (to !== '' && !groups.some((g) => g.id === to && g.id !== current)) ? first : to;
  const id = `move-${memberId}`;
  return (
    <span class="move-member">
      <label for={id} class="visually-hidden">
        Move {name} to
      </label>
      <select id={id} data-testid={`move-select-${memberId}`} value={target} onChange={(e) => setTo((e.currentTarget as HTMLSelectElement).value)}>
        {groups
          .filter((g) => g.id !== current)
          .map((g) => (
            <option key={g.id} value={g.id}>
              {groupLabel(room.groups, g.id)}
            </option>
          ))}
        {current !== null && <option value="">Main room</option>}
      </select>
      <button type="button" class="button small" data-testid={`move-${memberId}`} onClick={() => void connection.moveToGroup(memberId, target === '' ? null : target)}>
        Move<span class="visually-hidden"> {name}</span>
      </button>
    </span>
  );
}

function GroupFlags({ connection, room, group }: { connection: Connection; room: RoomView; group: BreakoutGroup }) {
  const label = groupLabel(room.groups, group.id);
  return (
    <>
      {group.help && (
        <p class="group-flag flag-help" data-testid="console-flag-help">
          <strong>{label} calls for help</strong>{' '}
          <button type="button" class="button small" data-testid={`clear-help-${group.id}`} onClick={() => void connection.flagGroup('help', false, group.id)}>
            Answered<span class="visually-hidden">: clear {label}'s call for help</span>
          </button>
        </p>
      )}
      {group.more_time && (
        <p class="group-flag flag-more-time" data-testid="console-flag-more_time">
          {label} {flagWords.more_time}{' '}
          <button type="button" class="button small" data-testid={`clear-more-time-${group.id}`} onClick={() => void connection.flagGroup('more_time', false, group.id)}>
            Decline<span class="visually-hidden"> {label}'s ask for more time</span>
          </button>
        </p>
      )}
      {group.done && (
        <p class="group-flag flag-done" data-testid="console-flag-done">
          <span aria-hidden="true">✓ </span>
          {label} {flagWords.done}
        </p>
      )}
    </>
  );
}

function OpenGroups({ connection, room }: { connection: Connection; room: RoomView }) {
  const groups = room.groups!;
  const timing = useGroupsTiming(connection, room)!;
  const [text, setText] = useState('');
  const nameOf = (id: string) => room.members.find((m) => m.id === id)?.name ?? id;
  const inGroups = new Set(groups.groups.flatMap((g) => g.members));
  const mainRoom = room.members.filter((m) => m.presence !== 'left' && m.role !== 'observer' && !inGroups.has(m.id));
  const recall = {
    enabled: timing.phase === 'working',
    reason: timing.phase === 'working' ? null : 'Everyone is being called back already.',
  };
  const anyMoreTime = groups.groups.some((g) => g.more_time);
  return (
    <>
      <p class="groups-time" data-testid="console-groups-time">
        {timingText(timing)}
      </p>
      <ul class="console-groups">
        {groups.groups.map((g) => (
          <li
            key={g.id}
            class={`console-group${g.help ? ' help' : ''}`}
            data-testid="console-group"
            data-group-id={g.id}
            data-help={String(g.help)}
            data-done={String(g.done)}
            data-more-time={String(g.more_time)}
          >
            <h4 class="console-group-title">
              {groupLabel(groups, g.id)}
              {g.done && <span class="muted"> · done ✓</span>}
            </h4>
            <GroupFlags connection={connection} room={room} group={g} />
            <ul class="console-group-members">
              {g.members.map((m) => (
                <li key={m} data-testid="console-group-member" data-member-id={m}>
                  <span class="member-name">{nameOf(m)}</span>
                  <MoveSelect connection={connection} room={room} memberId={m} name={nameOf(m)} current={g.id} />
                </li>
              ))}
            </ul>
          </li>
        ))}
        {mainRoom.length > 0 && (
          <li class="console-group main-room" data-testid="console-main-room">
            <h4 class="console-group-title">Main room</h4>
            <ul class="console-group-members">
              {mainRoom.map((m) => (
                <li key={m.id} data-member-id={m.id}>
                  <span class="member-name">
                    <MemberName name={m.name} self={false} />
                  </span>
                  <MoveSelect connection={connection} room={room} memberId={m.id} name={m.name} current={null} />
                </li>
              ))}
            </ul>
          </li>
        )}
      </ul>
      <form
        aria-label="Message all groups"
        onSubmit={(e) => {
          e.preventDefault();
          const t = text.trim();
          if (!t) return connection.showError('invalid_text', 'Write the message first.');
          void connection.messageGroups(t).then((o) => {
            if (o.ok) setText('');
          });
        }}
      >
        <div class="field">
          <label for="groups-message-text">Message all groups</label>
          <input
            id="groups-message-text"
            type="text"
            data-testid="groups-message-text"
            maxLength={MAX_BROADCAST_CHARS}
            autoComplete="off"
            value={text}
            onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
        <button type="submit" class="button" data-testid="groups-message-send">
          Send to all groups
        </button>
      </form>
      <div class="actions">
        <CommandButton testid="groups-extend-2" onClick={() => void connection.extendGroups(2)}>
          +2 min<span class="visually-hidden"> for every group</span>
        </CommandButton>
        <CommandButton testid="groups-extend-5" onClick={() => void connection.extendGroups(5)}>
          +5 min<span class="visually-hidden"> for every group</span>
        </CommandButton>
      </div>
      {anyMoreTime && <p class="hint">More time answers every ask for more time (and calls off a recall).</p>}
      <div class="actions">
        <CommandButton testid="groups-recall" variant="primary" control={recall} reasonId="groups-recall-reason" onClick={() => void connection.recallGroups()}>
          Recall everyone (60 s)
        </CommandButton>
        <CommandButton
          testid="groups-close"
          variant="danger"
          onClick={() => {
            if (window.confirm(CLOSE_GROUPS_WARNING)) void connection.closeGroups();
          }}
        >
          Close now
        </CommandButton>
      </div>
      <Reasons id="groups-recall-reason" controls={[recall]} />
    </>
  );
}
