// The header's "Invite" button and its dialog: the invite link to send to the group and, for the
// facilitator, their own link to keep (it lets them back in), each with a copy button.

import { useRef, useState } from 'preact/hooks';
import { readItem, sessionStore, storageKeys } from '../storage';

/** The facilitator link of this tab (built from the stored key), or null without one. */
export function facilitatorLink(roomId: string, origin: string = location.origin): string | null {
  const key = readItem(sessionStore(), storageKeys.key(roomId));
  return key ? `${origin}/room/${encodeURIComponent(roomId)}#key=${encodeURIComponent(key)}` : null;
}

/** A read-only link with a copy button and its "Copied" status (test ids from `testIds`). */
function CopyField({
  id,
  label,
  value,
  button,
  hint,
  testIds,
}: {
  id: string;
  label: string;
  value: string;
  button: string;
  hint: string;
  testIds: { input: string; copy: string; status: string };
}) {
  const inputRef = useRef<HTMLInputElement>(null);
  const [status, setStatus] = useState('');

  async function copy() {
    setStatus('');
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(value);
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
    <div class="field">
      <label for={id}>{label}</label>
      <p id={`${id}-hint`} class="hint">
        {hint}
      </p>
      <div class="copy-row">
        <input
          ref={inputRef}
          id={id}
          type="text"
          readOnly
          value={value}
          data-testid={testIds.input}
          aria-describedby={`${id}-hint`}
          onFocus={(e) => (e.currentTarget as HTMLInputElement).select()}
        />
        <button type="button" class="button primary" data-testid={testIds.copy} onClick={copy}>
          {button}
        </button>
      </div>
      <p class="status-line" role="status" aria-live="polite" data-testid={testIds.status}>
        {status}
      </p>
    </div>
  );
}

export function InviteButton({ roomId }: { roomId: string }) {
  const dialogRef = useRef<HTMLDialogElement>(null);
  const openRef = useRef<HTMLButtonElement>(null);
  const invite = readItem(sessionStore(), storageKeys.invite(roomId));
  const keep = facilitatorLink(roomId);

  const close = () => {
    dialogRef.current?.close();
  };
  return (
    <>
      <button
        ref={openRef}
        type="button"
        class="button small"
        data-testid="invite-open"
        aria-haspopup="dialog"
        onClick={() => dialogRef.current?.showModal()}
      >
        Invite
      </button>
      <dialog
        ref={dialogRef}
        class="invite-dialog"
        aria-labelledby="invite-heading"
        data-testid="invite-panel"
        onClose={() => openRef.current?.focus()}
      >
        <div class="dialog-head">
          <h2 id="invite-heading">Invite people</h2>
          <button type="button" class="button small" data-testid="invite-close" onClick={close}>
            Close
          </button>
        </div>
        {invite ? (
          <CopyField
            id="invite-link"
            label="Invite link"
            value={invite}
            button="Copy invite link"
            hint="Send this link to the group. Anyone with it can join this session."
            testIds={{ input: 'invite-link', copy: 'copy-invite', status: 'copy-status' }}
          />
        ) : (
          <p class="hint" data-testid="invite-missing">
            The invite link is shown in the browser tab where this session was created.
          </p>
        )}
        {keep && (
          <CopyField
            id="facilitator-link"
            label="Your facilitator link: keep this link"
            value={keep}
            button="Copy my link"
            hint="It lets you back in as the facilitator if you close this tab. Do not share it: whoever has it can run the session."
            testIds={{ input: 'facilitator-link', copy: 'copy-facilitator', status: 'copy-facilitator-status' }}
          />
        )}
      </dialog>
    </>
  );
}
