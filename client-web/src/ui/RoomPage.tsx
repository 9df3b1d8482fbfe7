import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Connection, ConnectionSnapshot, ConnectionState } from '../connection';
import { errorMessage, stateText } from '../messages';
import { MAX_NAME_CHARS } from '../protocol';
import { clearFragment, parseFragment, storeFragmentSecret, type FragmentKind } from '../routing';
import { browserStores, rememberedIdentity } from '../storage';
import { InviteButton, MyLinkButton } from './InviteDialog';
import { LiveAnnouncer } from './LiveAnnouncer';
import { InviteCheckView, WelcomeBack, useInviteCheck } from './JoinViews';
import { Layout } from './Layout';
import { roleText } from './People';
import { RoomScreen } from './RoomScreen';
import { ShortcutsButton } from './ShortcutsDialog';
import { useConnection } from './useConnection';

/** Reads a secret from the fragment into storage and takes it out of the address bar. */
function takeFragment(roomId: string): FragmentKind | null {
  const kind = storeFragmentSecret(browserStores(), roomId, location.hash);
  if (kind) clearFragment();
  return kind;
}

export function RoomPage({ roomId }: { roomId: string }) {
  // Runs before the connection is made, so it sees the secret. An invite (or facilitator) link
  // opened by a browser that is in the room already asks "Welcome back … Not you?" first.
  const [welcome, setWelcome] = useState(() => {
    const opened = takeFragment(roomId);
    return (opened === 'key' || opened === 'code') && rememberedIdentity(browserStores(), roomId) !== null;
  });
  const [connection, snap] = useConnection(roomId);
  const [rejoining, setRejoining] = useState(false);

  useEffect(() => {
    if (!welcome && connection.hasResumeToken()) connection.start();
    // A new link pasted into this tab changes only the fragment: start over with it (the reload
    // keeps the fragment). Other fragments (the skip link's #main) are no secret: left alone.
    const onHash = () => {
      if (parseFragment(location.hash)) location.reload();
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, [connection, roomId]);

  useEffect(() => {
    if (snap.state === 'online') setRejoining(false);
  }, [snap.state]);

  // When the view changes under a keyboard user (the button they pressed is gone), move focus to
  // the start of the content instead of leaving it on the page body.
  const view = welcome ? 'welcome' : viewKind(snap, rejoining);
  const invitation = useInviteCheck(
    connection,
    view === 'welcome' || view === 'prompt' || (view === 'idle' && snap.credential === 'secret'),
  );
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
              {role === 'facilitator' ? (
                <InviteButton roomId={roomId} rejoinToken={connection.rejoinToken()} />
              ) : (
                <MyLinkButton roomId={roomId} rejoinToken={connection.rejoinToken()} />
              )}
              <ShortcutsButton />
              <button type="button" class="button small" data-testid="leave-room" onClick={() => connection.leave()}>
                Leave<span class="visually-hidden"> room</span>
              </button>
            </span>
          )}
        </>
      }
    >
      {welcome ? (
        <WelcomeBack
          connection={connection}
          invitation={invitation}
          onContinue={() => {
            setWelcome(false);
            connection.start();
          }}
          onSomeoneElse={() => {
            connection.forgetIdentity();
            setWelcome(false);
          }}
        />
      ) : (
        <RoomContent
          connection={connection}
          snap={snap}
          rejoining={rejoining}
          invitation={invitation}
          onRejoin={() => setRejoining(true)}
        />
      )}
      <LiveAnnouncer connection={connection} />
    </Layout>
  );
}

function viewKind(snap: ConnectionSnapshot, rejoining: boolean): string {
  if ((snap.state === 'left' || snap.state === 'removed') && rejoining) return 'prompt';
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
  /** The invite-check of the key or code this tab holds (before the name form). */
  invitation: ReturnType<typeof useInviteCheck>;
  onRejoin: () => void;
}

function RoomContent({ connection, snap, rejoining, invitation, onRejoin }: ContentProps) {
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
  if ((state === 'removed' && !rejoining) || state === 'closed') {
    const removed = state === 'removed';
    return (
      <section aria-labelledby="gone-heading">
        <h1 id="gone-heading" data-testid={removed ? 'removed-title' : 'closed-title'}>
          {removed ? 'You were removed from the room' : 'This room was closed'}
        </h1>
        <p role="status">{errorMessage(removed ? 'removed' : 'room_closed')}</p>
        <div class="actions">
          {removed && connection.hasSecret() && (
            <button type="button" class="button primary" data-testid="join-as-new" onClick={onRejoin}>
              Join as a new member
            </button>
          )}
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
    const retryable = !['bad_credentials', 'room_not_found', 'no_credentials', 'identity_lost'].includes(code);
    return (
      <Notice title={room?.title ?? 'Could not join'} message={errorMessage(code, lastError?.message)} alert>
        {retryable ? (
          <button type="button" class="button primary" data-testid="retry" onClick={() => connection.retryNow()}>
            Try again
          </button>
        ) : (
          <a class="button" href="/" data-testid="go-home">
            Go to the start page
          </a>
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
  // idle (or left and joining again): ask for a name, if this tab holds an invitation that works.
  if (invitation.status === 'refused') return <InviteCheckView invitation={invitation} />;
  if (snap.credential === 'none') {
    return (
      <Notice title="This link is incomplete" alert>
        <p class="error" data-testid="error-message" role="alert">
          This link is missing its invitation code. Ask the facilitator for the invite link and open it again.
        </p>
      </Notice>
    );
  }
  if (invitation.status !== 'usable') return <InviteCheckView invitation={invitation} />;
  return <NamePrompt connection={connection} snap={snap} title={invitation.title} role={invitation.role} />;
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

function NamePrompt({
  connection,
  snap,
  title,
  role,
}: {
  connection: Connection;
  snap: ConnectionSnapshot;
  /** The room's title from the invite-check (null when the check could not be made). */
  title: string | null;
  role: 'facilitator' | 'participant';
}) {
  const [name, setName] = useState(snap.self?.name ?? '');
  const inputRef = useRef<HTMLInputElement>(null);
  const error = snap.lastError?.code === 'invalid_name' ? errorMessage('invalid_name') : null;
  const refused = snap.lastError?.code === 'resume_refused';
  const asFacilitator = role === 'facilitator';
  const session = title ? `“${title}”` : 'the session';

  useEffect(() => {
    if (error) inputRef.current?.focus();
  }, [error]);

  return (
    <section class="card narrow" aria-labelledby="join-heading">
      <h1 id="join-heading" data-testid="join-heading">
        {asFacilitator ? `Join ${title ? session : 'your session'} as facilitator` : `Join ${session}`}
      </h1>
      {refused && (
        <p class="notice" role="status" data-testid="resume-refused">
          {errorMessage('resume_refused')}
        </p>
      )}
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
