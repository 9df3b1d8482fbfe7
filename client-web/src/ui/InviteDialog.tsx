// The header's "Invite" button and its dialog (the invite link to send to the group and, for the
// facilitator, their own links to keep), and every other member's "My link" (their rejoin link
// for another device), each link with a copy button.

import type { ComponentChildren } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { rejoinLink } from '../routing';
import { browserStores, readLayered, storageKeys } from '../storage';

/** The facilitator link of this browser (built from the stored key), or null without one. */
export function facilitatorLink(roomId: string, origin: string = location.origin): string | null {
  const key = readLayered(browserStores(), storageKeys.key(roomId));
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

/** A header button and the modal dialog it opens (test ids `<testId>-open`, `-panel`, `-close`). */
function DialogButton({
  label,
  heading,
  testId,
  children,
}: {
  label: ComponentChildren;
  heading: string;
  testId: string;
  children: ComponentChildren;
}) {
  const dialogRef = useRef<HTMLDialogElement>(null);
  const openRef = useRef<HTMLButtonElement>(null);
  const headingId = `${testId}-heading`;
  return (
    <>
      <button
        ref={openRef}
        type="button"
        class="button small"
        data-testid={`${testId}-open`}
        aria-haspopup="dialog"
        onClick={() => dialogRef.current?.showModal()}
      >
        {label}
      </button>
      <dialog
        ref={dialogRef}
        class="invite-dialog"
        aria-labelledby={headingId}
        data-testid={`${testId}-panel`}
        onClose={() => openRef.current?.focus()}
      >
        <div class="dialog-head">
          <h2 id={headingId}>{heading}</h2>
          <button type="button" class="button small" data-testid={`${testId}-close`} onClick={() => dialogRef.current?.close()}>
            Close
          </button>
        </div>
        {children}
      </dialog>
    </>
  );
}

/** This member's rejoin link with its copy button, or nothing without a token. */
function RejoinField({ roomId, rejoinToken }: { roomId: string; rejoinToken: string | null }) {
  if (!rejoinToken) return null;
  return (
    <CopyField
      id="rejoin-link"
      label="Continue on another device"
      value={rejoinLink(roomId, rejoinToken, location.origin)}
      button="Copy my rejoin link"
      hint="Open it on your phone or another computer to continue there as yourself (this window then lets go). It is yours alone: whoever has it can take your place."
      testIds={{ input: 'rejoin-link', copy: 'copy-rejoin', status: 'copy-rejoin-status' }}
    />
  );
}

/** A participant's (or co-facilitator's, or observer's) own link, for another device. */
export function MyLinkButton({ roomId, rejoinToken }: { roomId: string; rejoinToken: string | null }) {
  if (!rejoinToken) return null;
  return (
    <DialogButton label={<>My link<span class="visually-hidden"> for another device</span></>} heading="Your link" testId="my-link">
      <RejoinField roomId={roomId} rejoinToken={rejoinToken} />
      <p class="hint">This browser remembers you: reopening the invite link here brings you back as yourself.</p>
    </DialogButton>
  );
}

export function InviteButton({ roomId, rejoinToken }: { roomId: string; rejoinToken: string | null }) {
  const stores = browserStores();
  const invite = readLayered(stores, storageKeys.invite(roomId));
  const keep = facilitatorLink(roomId);
  return (
    <DialogButton label="Invite" heading="Invite people" testId="invite">
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
          The invite link is shown in the browser where this session was created.
        </p>
      )}
      {keep && (
        <CopyField
          id="facilitator-link"
          label="Your facilitator link: keep this link"
          value={keep}
          button="Copy my link"
          hint="This browser remembers you. In another browser this link lets you in as a facilitator. Do not share it: whoever has it can run the session."
          testIds={{ input: 'facilitator-link', copy: 'copy-facilitator', status: 'copy-facilitator-status' }}
        />
      )}
      <RejoinField roomId={roomId} rejoinToken={rejoinToken} />
    </DialogButton>
  );
}
