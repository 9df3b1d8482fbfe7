import { useEffect, useState } from 'preact/hooks';
import { createRoom } from '../api';
import { errorMessage } from '../messages';
import { MAX_TITLE_CHARS, cleanDisplayText } from '../protocol';
import { sessionStore, storageKeys, writeItem } from '../storage';
import { Layout } from './Layout';

export function Landing() {
  const [title, setTitle] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

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
    const outcome = await createRoom(title);
    if (outcome.ok) {
      writeItem(sessionStore(), storageKeys.invite(outcome.room.room), outcome.room.invite_url);
      location.assign(outcome.room.facilitator_url);
      return;
    }
    setBusy(false);
    setError(errorMessage(outcome.code, outcome.message));
  }

  return (
    <Layout>
      <h1>Colloquy</h1>
      <p class="lead">
        Live sessions for leadership learning groups: a facilitator and a group of professionals meeting online
        to learn from each other.
      </p>
      <section class="card" aria-labelledby="start-heading">
        <h2 id="start-heading">Start a session</h2>
        <form onSubmit={onSubmit}>
          <div class="field">
            <label for="create-title">Session title</label>
            <input
              id="create-title"
              name="title"
              type="text"
              data-testid="create-title"
              maxLength={MAX_TITLE_CHARS}
              required
              autoComplete="off"
              value={title}
              aria-describedby="create-title-hint"
              aria-invalid={error ? 'true' : undefined}
              onInput={(e) => setTitle((e.currentTarget as HTMLInputElement).value)}
            />
            <p id="create-title-hint" class="hint">
              For example “Spring cohort, session 3”. Participants will see it.
            </p>
          </div>
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
