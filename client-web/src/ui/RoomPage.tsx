import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Connection, ConnectionSnapshot, ConnectionState } from '../connection';
import { errorMessage, stateText } from '../messages';
import { MAX_NAME_CHARS } from '../protocol';
import { clearFragment, storeFragmentSecret } from '../routing';
import { readItem, sessionStore, storageKeys } from '../storage';
import { InviteButton } from './InviteDialog';
import { LiveAnnouncer } from './LiveAnnouncer';
import { Layout } from './Layout';
import { roleText } from './People';
import { RoomScreen } from './RoomScreen';
import { ShortcutsButton } from './ShortcutsDialog';
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

  const inRoom = view === 'room' && snap.room !== null && snap.self !== null;
  const role = inRoom ? (snap.room!.members.find((m) => m.id === snap.self!.id)?.role ?? snap.self!.role) : null;
  return (
    <Layout
      wide={inRoom}
      title={
        inRoom ? (
          <h1 data-testid="room-title" class="room-title">
            {snap.room!.title}
          </h1>
        ) : undefined
      }
      status={
        <>
          <ConnectionStatus state={snap.state} />
          {inRoom && (
            <span class="header-actions">
              {role === 'facilitator' && <InviteButton roomId={roomId} />}
              <ShortcutsButton />
              <button type="button" class="button small" data-testid="leave-room" onClick={() => connection.leave()}>
                Leave<span class="visually-hidden"> room</span>
              </button>
            </span>
          )}
        </>
      }
    >
      <RoomContent
        connection={connection}
        snap={snap}
        rejoining={rejoining}
        onRejoin={() => setRejoining(true)}
      />
      <LiveAnnouncer connection={connection} />
    </Layout>
  );
}

function viewKind(snap: ConnectionSnapshot, rejoining: boolean): string {
  if (snap.state === 'left' && rejoining) return 'prompt';
  if (snap.room && snap.self && ['online', 'reconnecting', 'connecting'].includes(snap.state)) return 'room';
  return snap.state;
}

export { roleText };

function ConnectionStatus({ state }: { state: ConnectionState }) {
  return (
    <p class={`connection-state state-${state}`} data-testid="connection-state" data-state={state}>
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
}

function RoomContent({ connection, snap, rejoining, onRejoin }: ContentProps) {
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
    return <RoomScreen connection={connection} room={room} self={snap.self} state={state} />;
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
