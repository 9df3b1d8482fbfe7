import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Connection, ConnectionSnapshot, ConnectionState, RoomMember, RoomView } from '../connection';
import { errorMessage, stateText } from '../messages';
import { MAX_NAME_CHARS, type AssignableRole, type MemberInfo, type Role, type RoomEvent } from '../protocol';
import { canRemove, closeRoomWarning, nextInRound } from '../room-state';
import { clearFragment, storeFragmentSecret } from '../routing';
import { readItem, sessionStore, storageKeys } from '../storage';
import { Layout } from './Layout';
import { AuditPanel } from './AuditPanel';
import { DeckPanel } from './DeckPanel';
import { PromptsPanel } from './PromptsPanel';
import { RoundPanel } from './RoundPanel';
import { useConnection } from './useConnection';

/** Reads a secret from the fragment into sessionStorage and takes it out of the address bar. */
function takeFragment(roomId: string): void {
  if (location.hash.length > 1 && storeFragmentSecret(sessionStore(), roomId, location.hash)) clearFragment();
}

export function RoomPage({ roomId }: { roomId: string }) {
  // Runs before the connection is made, so it sees the secret.
  useState(() => takeFragment(roomId));
  const [connection, snap] = useConnection(roomId);
  const [rejoining, setRejoining] = useState(false);
  const [announcement, setAnnouncement] = useState('');
  const selfRef = useRef<MemberInfo | null>(null);
  selfRef.current = snap.self;

  useEffect(() => {
    if (connection.hasResumeToken()) connection.start();
    // A new invite link pasted into this tab changes only the fragment: take it and start over.
    const onHash = () => {
      if (location.hash.length > 1) {
        takeFragment(roomId);
        location.reload();
      }
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, [connection, roomId]);

  useEffect(
    () =>
      connection.onRoomEvent((event, room) => {
        const text = announce(event, room, selfRef.current);
        if (text) setAnnouncement(text);
      }),
    [connection],
  );

  useEffect(() => {
    if (snap.state === 'online') setRejoining(false);
  }, [snap.state]);

  // When the view changes under a keyboard user (the button they pressed is gone), move focus to
  // the start of the content instead of leaving it on the page body.
  const view = viewKind(snap, rejoining);
  const firstView = useRef(true);
  useEffect(() => {
    if (firstView.current) {
      firstView.current = false;
      return;
    }
    const active = document.activeElement;
    if (!active || active === document.body) document.getElementById('main')?.focus();
  }, [view]);

  // Back online after a network drop: do not wait for the backoff.
  useEffect(() => {
    const onOnline = () => {
      if (connection.getSnapshot().state === 'reconnecting') connection.retryNow();
    };
    window.addEventListener('online', onOnline);
    return () => window.removeEventListener('online', onOnline);
  }, [connection]);

  useEffect(() => {
    document.title = snap.room ? `${snap.room.title} · Colloquy` : 'Join a session · Colloquy';
  }, [snap.room?.title]);

  return (
    <Layout status={<ConnectionStatus state={snap.state} />}>
      <RoomContent
        connection={connection}
        snap={snap}
        rejoining={rejoining}
        onRejoin={() => setRejoining(true)}
        roomId={roomId}
      />
      <div class="visually-hidden" aria-live="polite" aria-atomic="true" data-testid="announcer">
        {announcement}
      </div>
    </Layout>
  );
}

function viewKind(snap: ConnectionSnapshot, rejoining: boolean): string {
  if (snap.state === 'left' && rejoining) return 'prompt';
  if (snap.room && snap.self && ['online', 'reconnecting', 'connecting'].includes(snap.state)) return 'room';
  return snap.state;
}

export const roleText: Record<Role, string> = {
  facilitator: 'facilitator',
  co_facilitator: 'co-facilitator',
  participant: 'participant',
  observer: 'observer',
};

export function announce(event: RoomEvent, room: RoomView, self: MemberInfo | null): string | null {
  const nameOf = (id: string) => room.members.find((m) => m.id === id)?.name ?? 'Someone';
  switch (event.kind) {
    case 'turn_started': {
      if (event.member_id === self?.id) return "It's your turn";
      const floor = `${nameOf(event.member_id)} has the floor`;
      return event.mode === 'round' && self && nextInRound(room) === self.id ? `${floor}. You're next` : floor;
    }
    case 'timer_expired':
      return event.timer === 'turn' ? 'Time is up' : 'Time is up for this phase';
    case 'round_started':
      return 'A go-round has started';
    case 'round_ended':
      return 'The go-round is over';
    case 'round_order_changed':
      // Someone moved: tell the member who is now next (if the current turn is not theirs).
      return self && room.turn?.member_id !== self.id && nextInRound(room) === self.id ? "You're next" : null;
    case 'role_changed':
      return event.member_id === self?.id
        ? `You are now ${roleText[event.role]}`
        : `${nameOf(event.member_id)} is now ${roleText[event.role]}`;
    case 'member_joined':
      return event.member.id === self?.id ? null : `${event.member.name} joined`;
    case 'member_left':
      return event.member_id === self?.id ? null : `${nameOf(event.member_id)} left`;
    case 'member_connection_lost':
      return event.member_id === self?.id ? null : `${nameOf(event.member_id)} lost their connection`;
    case 'member_back':
      return event.member_id === self?.id ? null : `${nameOf(event.member_id)} is back`;
    case 'prompts_released':
      return event.prompts.length > 0 ? 'New questions released' : null;
    case 'prompt_posed':
      if (event.member_id === null) return 'A question was put to the group';
      return event.member_id === self?.id ? 'A question was put to you' : `A question was put to ${nameOf(event.member_id)}`;
    case 'audit_opened':
      return 'A climate check has opened';
    case 'audit_closed':
      return event.results === null
        ? 'The climate check is closed: not enough answers to show results'
        : 'The climate check is closed: results are shown';
    case 'deck_card_drawn':
      return `Challenge: ${event.card.text}`;
    default:
      return null;
  }
}

function ConnectionStatus({ state }: { state: ConnectionState }) {
  return (
    <p class={`connection-state state-${state}`} data-testid="connection-state" data-state={state} aria-live="polite">
      <span class="dot" aria-hidden="true" />
      {stateText[state]}
    </p>
  );
}

interface ContentProps {
  connection: Connection;
  snap: ConnectionSnapshot;
  rejoining: boolean;
  onRejoin: () => void;
  roomId: string;
}

function RoomContent({ connection, snap, rejoining, onRejoin, roomId }: ContentProps) {
  const { state, room, lastError } = snap;

  if (state === 'update_required') {
    return (
      <Notice title="Update required" message={errorMessage('update_required')}>
        <button type="button" class="button primary" data-testid="reload" onClick={() => location.reload()}>
          Reload the page
        </button>
      </Notice>
    );
  }
  if (state === 'replaced') {
    return (
      <Notice title={room?.title ?? 'Session open elsewhere'} message={errorMessage('replaced')}>
        <button type="button" class="button primary" data-testid="use-here" onClick={() => connection.useHere()}>
          Use here
        </button>
      </Notice>
    );
  }
  if (state === 'removed' || state === 'closed') {
    const removed = state === 'removed';
    return (
      <section aria-labelledby="gone-heading">
        <h1 id="gone-heading" data-testid={removed ? 'removed-title' : 'closed-title'}>
          {removed ? 'You were removed from the room' : 'This room was closed'}
        </h1>
        <p role="status">{errorMessage(removed ? 'removed' : 'room_closed')}</p>
        <div class="actions">
          <a class="button" href="/">
            Go to the start page
          </a>
        </div>
      </section>
    );
  }
  if (state === 'left' && !rejoining) {
    return (
      <section aria-labelledby="left-heading">
        <h1 id="left-heading" data-testid="left-title">
          You left the room
        </h1>
        <p>{room ? `You have left “${room.title}”.` : 'You have left the session.'}</p>
        <div class="actions">
          <button type="button" class="button primary" data-testid="join-again" onClick={onRejoin}>
            Join again
          </button>
          <a class="button" href="/">
            Go to the start page
          </a>
        </div>
      </section>
    );
  }
  if (state === 'failed') {
    const code = lastError?.code ?? 'internal';
    const retryable = !['bad_credentials', 'room_not_found', 'no_credentials'].includes(code);
    return (
      <Notice title={room?.title ?? 'Could not join'} message={errorMessage(code, lastError?.message)} alert>
        {retryable && (
          <button type="button" class="button primary" data-testid="retry" onClick={() => connection.retryNow()}>
            Try again
          </button>
        )}
      </Notice>
    );
  }
  if (room && snap.self && (state === 'online' || state === 'reconnecting' || state === 'connecting')) {
    return <RoomScreen connection={connection} room={room} self={snap.self} state={state} roomId={roomId} />;
  }
  if (state === 'connecting' || state === 'reconnecting' || (state === 'idle' && snap.credential === 'resume')) {
    return (
      <section aria-labelledby="connecting-heading">
        <h1 id="connecting-heading">Joining the session…</h1>
        <p>Connecting to the Colloquy server.</p>
      </section>
    );
  }
  // idle (or left and joining again): ask for a name, if this tab holds an invitation.
  if (snap.credential === 'none') {
    return (
      <Notice title="This link is incomplete" alert>
        <p class="error" data-testid="error-message" role="alert">
          This link is missing its invitation code. Ask the facilitator for the invite link and open it again.
        </p>
      </Notice>
    );
  }
  return <NamePrompt connection={connection} snap={snap} />;
}

function Notice({
  title,
  message,
  alert,
  children,
}: {
  title: string;
  message?: string;
  alert?: boolean;
  children?: ComponentChildren;
}) {
  return (
    <section aria-labelledby="notice-heading">
      <h1 id="notice-heading">{title}</h1>
      {message && (
        <p class={alert ? 'error' : 'notice'} data-testid="error-message" role={alert ? 'alert' : 'status'}>
          {message}
        </p>
      )}
      {children && <div class="actions">{children}</div>}
    </section>
  );
}

function NamePrompt({ connection, snap }: { connection: Connection; snap: ConnectionSnapshot }) {
  const [name, setName] = useState(snap.self?.name ?? '');
  const inputRef = useRef<HTMLInputElement>(null);
  const error = snap.lastError?.code === 'invalid_name' ? errorMessage('invalid_name') : null;
  const asFacilitator = readItem(sessionStore(), storageKeys.key(connection.roomId)) !== null;

  useEffect(() => {
    if (error) inputRef.current?.focus();
  }, [error]);

  return (
    <section class="card narrow" aria-labelledby="join-heading">
      <h1 id="join-heading">{asFacilitator ? 'Join your session as facilitator' : 'Join the session'}</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          connection.join(name);
        }}
      >
        <div class="field">
          <label for="name-input">Your name</label>
          <input
            ref={inputRef}
            id="name-input"
            name="name"
            type="text"
            data-testid="name-input"
            maxLength={MAX_NAME_CHARS}
            autoComplete="name"
            required
            value={name}
            aria-describedby={error ? 'name-hint name-error' : 'name-hint'}
            aria-invalid={error ? 'true' : undefined}
            onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)}
          />
          <p id="name-hint" class="hint">
            The name the group will see.
          </p>
        </div>
        {error && (
          <p id="name-error" class="error" role="alert" data-testid="error-message">
            {error}
          </p>
        )}
        <button type="submit" class="button primary" data-testid="join-submit">
          Join
        </button>
      </form>
    </section>
  );
}

function RoomScreen({
  connection,
  room,
  self,
  state,
  roomId,
}: {
  connection: Connection;
  room: RoomView;
  self: MemberInfo;
  state: ConnectionState;
  roomId: string;
}) {
  const present = room.members.filter((m) => m.presence !== 'left').length;
  // The role as of the last event (it can change during the session).
  const role: Role = room.members.find((m) => m.id === self.id)?.role ?? self.role;
  const { commandError, pendingPrompts, votedPrompts, answeredAudits } = connection.getSnapshot();
  const facilitatorOnline = room.members.some((m) => m.role === 'facilitator' && m.presence === 'online');
  return (
    <>
      <h1 data-testid="room-title" class="room-title">
        {room.title}
      </h1>
      {state !== 'online' && (
        <p class="notice" role="status">
          Connection lost. Trying to reconnect; you will stay in the room.
        </p>
      )}
      {commandError && (
        <div class="error-row">
          <p class="error" role="alert" data-testid="error-message">
            {commandError.message}
          </p>
          <button type="button" class="button small" data-testid="dismiss-error" onClick={() => connection.clearCommandError()}>
            Dismiss
          </button>
        </div>
      )}
      {role === 'observer' && (
        <p class="notice" data-testid="observer-note">
          You are observing: you can follow everything, but not speak or take turns.
        </p>
      )}
      {role === 'co_facilitator' && !facilitatorOnline && (
        <div class="notice">
          <p>No facilitator is online. After two minutes you can take over the facilitation.</p>
          <button type="button" class="button" data-testid="claim-facilitation" onClick={() => void connection.claimFacilitation()}>
            Take over as facilitator
          </button>
        </div>
      )}
      <RoundPanel connection={connection} room={room} selfId={self.id} role={role} />
      <PromptsPanel
        connection={connection}
        room={room}
        selfId={self.id}
        role={role}
        pending={pendingPrompts}
        voted={votedPrompts}
      />
      <AuditPanel connection={connection} room={room} role={role} answered={answeredAudits} />
      {room.deck && <DeckPanel connection={connection} deck={room.deck} role={role} />}
      <div class="room-grid">
        <section class="card" aria-labelledby="members-heading">
          <h2 id="members-heading">
            People <span class="count">({present} present)</span>
          </h2>
          <ul data-testid="member-list" class="member-list">
            {room.members.map((m) => (
              <MemberItem
                key={m.id}
                member={m}
                isSelf={m.id === self.id}
                connection={role === 'facilitator' && m.id !== self.id ? connection : null}
                remover={canRemove(role, m, self.id) ? connection : null}
              />
            ))}
          </ul>
        </section>
        {role === 'facilitator' && <InvitePanel roomId={roomId} />}
      </div>
      <div class="actions">
        <button type="button" class="button" data-testid="leave-room" onClick={() => connection.leave()}>
          Leave room
        </button>
        {role === 'facilitator' && (
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
        )}
      </div>
    </>
  );
}

function MemberItem({
  member,
  isSelf,
  connection,
  remover,
}: {
  member: RoomMember;
  isSelf: boolean;
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
        <span class={`tag presence presence-${member.presence}`}>{member.presence}</span>
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

function InvitePanel({ roomId }: { roomId: string }) {
  const invite = readItem(sessionStore(), storageKeys.invite(roomId));
  const inputRef = useRef<HTMLInputElement>(null);
  const [status, setStatus] = useState('');

  async function copy() {
    if (!invite) return;
    setStatus('');
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(invite);
      setStatus('Copied');
      return;
    } catch {
      // Fall back to selecting the text so the user can copy it.
    }
    const input = inputRef.current;
    if (input) {
      input.focus();
      input.select();
      let copied = false;
      try {
        copied = document.execCommand('copy');
      } catch {
        copied = false;
      }
      setStatus(copied ? 'Copied' : 'Link selected: press Ctrl+C (or ⌘C) to copy it');
    }
  }

  return (
    <section class="card" aria-labelledby="invite-heading" data-testid="invite-panel">
      <h2 id="invite-heading">Invite people</h2>
      {invite ? (
        <>
          <p class="hint">Send this link to the group. Anyone with it can join this session.</p>
          <div class="field">
            <label for="invite-link">Invite link</label>
            <div class="copy-row">
              <input
                ref={inputRef}
                id="invite-link"
                type="text"
                readOnly
                value={invite}
                data-testid="invite-link"
                onFocus={(e) => (e.currentTarget as HTMLInputElement).select()}
              />
              <button type="button" class="button primary" data-testid="copy-invite" onClick={copy}>
                Copy invite link
              </button>
            </div>
          </div>
          <p class="status-line" role="status" aria-live="polite" data-testid="copy-status">
            {status}
          </p>
        </>
      ) : (
        <p class="hint" data-testid="invite-missing">
          The invite link is shown in the browser tab where this session was created.
        </p>
      )}
    </section>
  );
}
