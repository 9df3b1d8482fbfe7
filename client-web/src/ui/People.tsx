// The people column: who is here (presence and role in words, raised hands), the facilitator's role
// menu and Remove, the speaking queue, the go-round's order and results, airtime, and this
// member's own preferences (sound cue, keyboard shortcuts).

import { roleWords } from '../announcer';
import type { Connection, RoomMember } from '../connection';
import type { AssignableRole, Role } from '../protocol';
import { airtimeVisibleTo, canRemove, formatDuration, isFacilitatorRole, type RoomView } from '../room-state';
import { heldSpeaker } from '../stage';
import { CheckField, CommandButton, ErrorSlot, MemberName } from './controls';
import { useShortcutsEnabled } from './ShortcutsDialog';

/** A role in words ("co-facilitator"). */
export const roleText: Record<Role, string> = roleWords;

const outcomeText: Record<string, string> = {
  spoke: 'spoke',
  passed: 'passed',
  skipped: 'skipped',
  moved: 'moved to the end',
  ended: 'round ended',
};

export interface PeopleProps {
  connection: Connection;
  room: RoomView;
  selfId: string;
  role: Role;
  sound: boolean;
  onSound: (on: boolean) => void;
}

export function People({ connection, room, selfId, role, sound, onSound }: PeopleProps) {
  const { round, turn, floor } = room;
  const present = room.members.filter((m) => m.presence !== 'left').length;
  const canFacilitate = isFacilitatorRole(role);
  const nameOf = (id: string) => room.members.find((m) => m.id === id)?.name ?? id;
  const showAirtime = airtimeVisibleTo(room, role);
  const maxAirtime = Math.max(1, ...room.members.map((m) => m.airtime_ms));
  const held = heldSpeaker(room);
  return (
    <div class="people" data-error-place="people">
      <section aria-labelledby="members-heading">
        <h2 id="members-heading">
          People <span class="count">({present} present)</span>
        </h2>
        <ErrorSlot place="people" />
        <ul data-testid="member-list" class="member-list">
          {room.members.map((m) => (
            <MemberItem
              key={m.id}
              member={m}
              isSelf={m.id === selfId}
              turnHeld={m.id === held}
              connection={role === 'facilitator' && m.id !== selfId ? connection : null}
              remover={canRemove(role, m, selfId) ? connection : null}
            />
          ))}
        </ul>
      </section>

      <section aria-labelledby="queue-heading">
        <h3 id="queue-heading">Raised hands</h3>
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
      </section>

      {round && (
        <section aria-labelledby="remaining-heading">
          <h3 id="remaining-heading">Still to speak</h3>
          {round.remaining.length > 0 ? (
            <ol class="plain-list" data-testid="round-remaining" aria-labelledby="remaining-heading">
              {round.remaining.map((id) => (
                <li key={id} class="list-row" data-testid="round-remaining-item" data-member-id={id}>
                  <span>
                    <MemberName name={nameOf(id)} self={id === selfId} />
                    {id === turn?.member_id && (
                      <>
                        {' '}
                        <span class="tag role">speaking</span>
                      </>
                    )}
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
          <h3 id="outcomes-heading" class="list-heading">
            Done
          </h3>
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
        </section>
      )}

      {showAirtime && (
        <section class="airtime" aria-labelledby="airtime-heading">
          <h3 id="airtime-heading">Airtime</h3>
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
        </section>
      )}

      <section class="preferences" aria-labelledby="prefs-heading">
        <h3 id="prefs-heading">Your settings</h3>
        <CheckField id="sound-cue" checked={sound} onChange={onSound}>
          Sound when time is up
        </CheckField>
        {role !== 'observer' && <ShortcutsHint />}
      </section>
    </div>
  );
}

function MemberItem({
  member,
  isSelf,
  turnHeld,
  connection,
  remover,
}: {
  member: RoomMember;
  isSelf: boolean;
  /** The speaker is away and the server keeps their turn for a while. */
  turnHeld: boolean;
  /** Given to the facilitator for other members: shows the role menu. */
  connection: Connection | null;
  /** Given to leads for members they may remove: shows "Remove". */
  remover: Connection | null;
}) {
  const selectId = `role-${member.id}`;
  return (
    <li
      data-testid="member-item"
      data-member-id={member.id}
      data-presence={member.presence}
      data-role={member.role}
      data-turn-held={turnHeld ? 'true' : undefined}
      class={`member presence-${member.presence}`}
    >
      <span class="member-name">
        {member.name}
        {isSelf && <span class="you"> (you)</span>}
      </span>{' '}
      <span class="member-tags">
        {member.role !== 'participant' && (
          <>
            <span class="tag role">{roleText[member.role]}</span>{' '}
          </>
        )}
        {member.hand && (
          <>
            <span class="tag hand">hand raised</span>{' '}
          </>
        )}
        <span class={`tag presence presence-${member.presence}`} data-testid="member-presence">
          {turnHeld ? `${member.presence} — turn held` : member.presence}
        </span>
      </span>
      {connection && (
        <span class="role-control">
          <label for={selectId} class="visually-hidden">
            Role of {member.name}
          </label>
          <select
            id={selectId}
            data-testid="role-select"
            value={member.role}
            onChange={(e) => {
              const el = e.currentTarget as HTMLSelectElement;
              const value = el.value as Role;
              if (value === member.role) return;
              const done =
                value === 'facilitator' ? connection.handOver(member.id) : connection.setRole(member.id, value as AssignableRole);
              void done.then((r) => {
                if (!r.ok) el.value = member.role;
              });
            }}
          >
            <option value="participant">Participant</option>
            <option value="co_facilitator">Co-facilitator</option>
            <option value="observer">Observer</option>
            <option value="facilitator">Facilitator (hand over)</option>
          </select>
        </span>
      )}
      {remover && (
        <button
          type="button"
          class="button small"
          data-testid="remove-member"
          onClick={() => {
            if (window.confirm(`Remove ${member.name} from the room? They are disconnected and can come back only as a new member with the invite link.`)) {
              void remover.removeMember(member.id);
            }
          }}
        >
          Remove
        </button>
      )}
    </li>
  );
}

function ShortcutsHint() {
  const on = useShortcutsEnabled();
  return on ? (
    <p class="hint shortcuts" data-testid="shortcuts-help">
      Keyboard: <kbd>H</kbd> raise or lower your hand, <kbd>F</kbd> finish your turn, <kbd>P</kbd> pass your turn (when
      you are not typing in a field). Turn them off under Shortcuts, at the top.
    </p>
  ) : (
    <p class="hint shortcuts" data-testid="shortcuts-help">
      Single-key shortcuts are off (Shortcuts, at the top, turns them on).
    </p>
  );
}
