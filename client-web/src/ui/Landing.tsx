import { useEffect, useState } from 'preact/hooks';
import { createRoom } from '../api';
import { errorMessage } from '../messages';
import { MAX_TITLE_CHARS, cleanDisplayText } from '../protocol';
import { inviteTarget } from '../routing';
import { deviceStore, storageKeys, writeItem } from '../storage';
import { Layout } from './Layout';

interface TextFieldProps {
  id: string;
  name: string;
  type: 'text' | 'password';
  label: string;
  hint: string;
  value: string;
  maxLength?: number;
  invalid?: boolean;
  onValue: (value: string) => void;
}

/** A required text input with its label and hint (data-testid is its id). */
function TextField(props: TextFieldProps) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        name={props.name}
        // preact's input types split by type; both kinds take the same attributes here
        {...({ type: props.type } as unknown as { type: 'text' })}
        data-testid={props.id}
        maxLength={props.maxLength}
        required
        autoComplete="off"
        value={props.value}
        aria-describedby={`${props.id}-hint`}
        aria-invalid={props.invalid ? 'true' : undefined}
        onInput={(e) => props.onValue((e.currentTarget as HTMLInputElement).value)}
      />
      <p id={`${props.id}-hint`} class="hint">
        {props.hint}
      </p>
    </div>
  );
}

export function Landing() {
  const [title, setTitle] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // The server asked for its creation token (operators may restrict who starts sessions).
  const [needToken, setNeedToken] = useState(false);
  const [token, setToken] = useState('');

  useEffect(() => {
    document.title = 'Colloquy';
  }, []);

  async function onSubmit(e: Event) {
    e.preventDefault();
    if (busy) return;
    if (cleanDisplayText(title, MAX_TITLE_CHARS) === null) {
      setError(errorMessage('invalid_title'));
      return;
    }
    setBusy(true);
    setError(null);
    const outcome = await createRoom(title, fetch, needToken ? token.trim() : undefined);
    if (outcome.ok) {
      writeItem(deviceStore(), storageKeys.invite(outcome.room.room), outcome.room.invite_url);
      location.assign(outcome.room.facilitator_url);
      return;
    }
    setBusy(false);
    if (outcome.code === 'create_token_required') setNeedToken(true);
    let text = errorMessage(outcome.code, outcome.message);
    if (outcome.code === 'rate_limited' && outcome.retryAfterMs) {
      const minutes = Math.ceil(outcome.retryAfterMs / 60_000);
      text = `Too many sessions were started from your network. You can start another in ${
        outcome.retryAfterMs < 60_000 ? 'a minute' : `${minutes} minutes`}.`;
    }
    setError(text);
  }

  return (
    <Layout>
      <h1>Colloquy</h1>
      <p class="lead" data-testid="landing-lead">
        Run it alongside your video call: Colloquy keeps a leadership learning group's session on track with
        go-rounds, timers, raised hands, anonymous questions and challenge cards, on every screen at once.
      </p>
      <InviteLinkForm />
      <section class="card" aria-labelledby="start-heading">
        <h2 id="start-heading">Start a session</h2>
        <form onSubmit={onSubmit}>
          <TextField
            id="create-title"
            name="title"
            type="text"
            label="Session title"
            hint="For example “Spring cohort, session 3”. Participants will see it."
            value={title}
            maxLength={MAX_TITLE_CHARS}
            invalid={!!error}
            onValue={setTitle}
          />
          {needToken && (
            <TextField
              id="create-token"
              name="token"
              type="password"
              label="Creation token"
              hint="Given to staff by whoever runs this server."
              value={token}
              onValue={setToken}
            />
          )}
          {error && (
            <p class="error" role="alert" data-testid="error-message">
              {error}
            </p>
          )}
          <button type="submit" class="button primary" data-testid="create-submit" disabled={busy} aria-disabled={busy}>
            Create room
          </button>
          <p class="status-line" role="status">
            {busy ? 'Creating the room…' : ''}
          </p>
        </form>
      </section>
      <p class="muted">
        You will join as the facilitator and get an invite link to share with your group.
      </p>
    </Layout>
  );
}

/** "I have an invite link": paste it, go there (the room page reads the secret from it). */
function InviteLinkForm() {
  const [link, setLink] = useState('');
  const [error, setError] = useState<string | null>(null);
  return (
    <section class="card" aria-labelledby="have-invite-heading">
      <h2 id="have-invite-heading">I have an invite link</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const target = inviteTarget(link, location.origin);
          if (!target) {
            setError('That is not a Colloquy invite link. Paste the whole link you were sent: it contains /room/ and #code=.');
            return;
          }
          setError(null);
          location.assign(target);
        }}
      >
        <div class="field">
          <label for="invite-paste">Paste the link you were sent</label>
          <div class="copy-row">
            <input
              id="invite-paste"
              name="invite"
              type="text"
              inputMode="url"
              autoComplete="off"
              data-testid="invite-paste"
              value={link}
              aria-invalid={error ? 'true' : undefined}
              aria-describedby={error ? 'invite-paste-error' : undefined}
              onInput={(e) => setLink((e.currentTarget as HTMLInputElement).value)}
            />
            <button type="submit" class="button primary" data-testid="invite-go">
              Join
            </button>
          </div>
        </div>
        {error && (
          <p id="invite-paste-error" class="error" role="alert" data-testid="invite-paste-error">
            {error}
          </p>
        )}
      </form>
    </section>
  );
}
