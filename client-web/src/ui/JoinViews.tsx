// Before the name form: the invite-check (a wrong or expired link says so before asking for a
// name) and "Welcome back" (a browser that is in the room already continues as that member, or
// joins as someone else).

import { useEffect, useRef, useState } from 'preact/hooks';
import { checkInvite } from '../api';
import type { Connection } from '../connection';
import { errorMessage } from '../messages';
import { browserStores, forgetRoom, forgetSecret, rememberedIdentity, storedSecret } from '../storage';
import { roleText } from './People';

export type Invitation =
  /** Nothing to check (no key or code), or not asked yet. */
  | { status: 'none' }
  | { status: 'checking' }
  /** The join form may be shown: the title when the server told it. */
  | { status: 'usable'; title: string | null; role: 'facilitator' | 'participant' }
  /** The server refused the link: it is forgotten and the view says why. */
  | { status: 'refused'; code: 'bad_credentials' | 'room_not_found' };

/**
 * Checks the key or code this tab holds once `enabled` (POST /api/rooms/{id}/invite-check). A
 * refused secret is forgotten (a gone room with everything of it). Errors that are no answer
 * (network, limits) let the form show: the join then says what is wrong.
 */
export function useInviteCheck(connection: Connection, enabled: boolean): Invitation {
  const [invitation, setInvitation] = useState<Invitation>({ status: 'none' });
  const started = useRef(false);
  const live = useRef(true);
  const roomId = connection.roomId;
  useEffect(
    () => () => {
      live.current = false;
    },
    [],
  );
  useEffect(() => {
    if (!enabled || started.current) return;
    const stores = browserStores();
    const secret = storedSecret(stores, roomId);
    if (!secret) return;
    started.current = true;
    setInvitation({ status: 'checking' });
    void checkInvite(roomId, secret).then((outcome) => {
      if (!live.current) return;
      if (outcome.ok) return setInvitation({ status: 'usable', title: outcome.title, role: outcome.role });
      if (!outcome.refused) return setInvitation({ status: 'usable', title: null, role: 'key' in secret ? 'facilitator' : 'participant' });
      if (outcome.code === 'room_not_found') forgetRoom(stores, roomId);
      else forgetSecret(stores, roomId, secret);
      setInvitation({ status: 'refused', code: outcome.code });
    });
  }, [enabled, roomId]);
  return invitation;
}

/** The check in progress, or why the link does not work (no name field). */
export function InviteCheckView({ invitation }: { invitation: Invitation }) {
  if (invitation.status === 'refused') {
    const gone = invitation.code === 'room_not_found';
    return (
      <section aria-labelledby="invite-refused-heading">
        <h1 id="invite-refused-heading" data-testid="invite-refused">
          {gone ? 'This session is not here' : 'This invite link does not work'}
        </h1>
        <p class="error" role="alert" data-testid="error-message" data-code={invitation.code}>
          {gone
            ? 'There is no session at this address: it may have been closed, or the link was copied only in part. Ask the facilitator for the invite link.'
            : errorMessage('bad_credentials')}
        </p>
        <div class="actions">
          <a class="button" href="/" data-testid="go-home">
            Go to the start page
          </a>
        </div>
      </section>
    );
  }
  return (
    <section aria-labelledby="checking-heading">
      <h1 id="checking-heading" data-testid="invite-checking">
        Opening your invitation…
      </h1>
      <p role="status">Checking the link with the Colloquy server.</p>
    </section>
  );
}

/** "Welcome back, Ada": continue as the member this browser is, or join as someone else. */
export function WelcomeBack({
  connection,
  invitation,
  onContinue,
  onSomeoneElse,
}: {
  connection: Connection;
  invitation: Invitation;
  onContinue: () => void;
  onSomeoneElse: () => void;
}) {
  if (invitation.status === 'refused' && invitation.code === 'room_not_found') return <InviteCheckView invitation={invitation} />;
  const remembered = rememberedIdentity(browserStores(), connection.roomId);
  const self = remembered?.self ?? null;
  const title = invitation.status === 'usable' ? invitation.title : null;
  const role = self && self.role in roleText ? roleText[self.role as keyof typeof roleText] : null;
  return (
    <section class="card narrow" aria-labelledby="welcome-heading">
      <h1 id="welcome-heading" data-testid="welcome-heading">
        {self ? `Welcome back, ${self.name}` : 'Welcome back'}
      </h1>
      <p>
        This browser is already in {title ? `“${title}”` : 'this session'}
        {self ? (
          <>
            {' '}
            as <strong>{self.name}</strong>
            {role ? ` (${role})` : ''}
          </>
        ) : null}
        .
      </p>
      <div class="actions">
        <button type="button" class="button primary" data-testid="continue-as" onClick={onContinue}>
          {self ? `Continue as ${self.name}` : 'Continue'}
        </button>
      </div>
      <p class="not-you">
        Not you?{' '}
        <button type="button" class="button" data-testid="not-you" onClick={onSomeoneElse}>
          Join as someone else
        </button>
      </p>
      <p class="hint">Joining as someone else makes you a new member of the group; this browser then forgets the old one.</p>
    </section>
  );
}
