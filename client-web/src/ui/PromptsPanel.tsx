// Anonymous prompts (protocol 1.3): the "Questions" panel. Members ask anonymously; facilitators
// and co-facilitators see the pending questions and release, hold or discard them; everyone sees
// the released questions, votes for them and sees which one was put to whom. All state comes from
// the room view and the connection snapshot; a refused command shows in the room's error area.

import type { ComponentChildren } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { preparePromptText, type CommandOutcome, type Connection } from '../connection';
import { MAX_PROMPT_CHARS, codePointLength, type PendingPrompt, type ReleasedPrompt, type Role } from '../protocol';
import { isFacilitatorRole, type RoomView } from '../room-state';
import { CountedTextArea, Panel, usePanelAct } from './Panel';

/** Shown to the author only, after the server accepted their question. */
export const SENT_TEXT = 'Sent anonymously. It will appear when the facilitator releases questions.';
/** Below this many characters left, the count is announced to screen readers. */
const ANNOUNCE_LEFT_BELOW = 50;

/** An element id made from a prompt id (ids are server-chosen; keep them to safe characters). */
function domId(prefix: string, promptId: string): string {
  return `${prefix}-${promptId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** How a posed prompt is labelled: "Put to the group", "Put to Lin", "Put to Lin (you)". */
export function posedLabel(prompt: ReleasedPrompt, room: RoomView, selfId: string): string | null {
  if (prompt.posed_to === undefined) return null;
  if (prompt.posed_to === null) return 'Put to the group';
  const name = room.members.find((m) => m.id === prompt.posed_to)?.name ?? 'a member';
  return prompt.posed_to === selfId ? `Put to ${name} (you)` : `Put to ${name}`;
}

/** Pending prompts `prompt_release` without ids would release (those not held). */
export function releasableCount(pending: readonly PendingPrompt[]): number {
  return pending.filter((p) => !p.held).length;
}

export function PromptsPanel({
  connection,
  room,
  selfId,
  role,
  pending,
  voted,
}: {
  connection: Connection;
  room: RoomView;
  selfId: string;
  role: Role;
  /** The facilitators' pending list (empty for everyone else). */
  pending: readonly PendingPrompt[];
  /** Ids of released prompts this member voted for. */
  voted: readonly string[];
}) {
  const { headingRef, act } = usePanelAct();
  const facilitator = isFacilitatorRole(role);
  const observer = role === 'observer';

  const ask = observer ? (
    <p class="hint" data-testid="prompts-observer-note">
      You are observing: you can read the questions, but not ask or vote.
    </p>
  ) : (
    <AskForm connection={connection} />
  );
  const released = (
    <ReleasedList
      room={room}
      selfId={selfId}
      facilitator={facilitator}
      observer={observer}
      voted={voted}
      act={act}
      connection={connection}
    />
  );
  // Members ask first; facilitators mostly release and put questions to the group, so for them
  // the waiting and released questions come first and their own form last.
  return (
    <Panel name="prompts" title="Questions" headingRef={headingRef}>
      {facilitator ? (
        <>
          <PendingList pending={pending} act={act} connection={connection} />
          {released}
          {ask}
        </>
      ) : (
        <>
          {ask}
          {released}
        </>
      )}
    </Panel>
  );
}

function AskForm({ connection }: { connection: Connection }) {
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);
  const [sent, setSent] = useState(false);
  const textRef = useRef<HTMLTextAreaElement>(null);
  const count = codePointLength(text);
  const left = MAX_PROMPT_CHARS - count;

  async function submit(e: Event) {
    e.preventDefault();
    if (sending) return;
    setSent(false);
    if (preparePromptText(text) === null) {
      // Not sent: the connection shows why in the error area.
      void connection.submitPrompt(text);
      textRef.current?.focus();
      return;
    }
    setSending(true);
    const outcome = await connection.submitPrompt(text);
    setSending(false);
    if (outcome.ok) {
      setText('');
      setSent(true);
    } else {
      textRef.current?.focus();
    }
  }

  return (
    <form class="ask-form" aria-labelledby="ask-heading" onSubmit={submit}>
      <h3 id="ask-heading">Ask anonymously</h3>
      <p id="ask-privacy" class="privacy-note">
        Your question goes to the group without your name. Nobody can see who asked: not the group, not the facilitator,
        not the server. The facilitator releases questions together, in shuffled order.
      </p>
      <CountedTextArea
        id="prompt-text"
        label="Your question or challenge"
        name="prompt"
        testId="prompt-text"
        rows={3}
        max={MAX_PROMPT_CHARS}
        value={text}
        onValue={(value) => {
          setText(value);
          if (sent) setSent(false);
        }}
        describedBy="ask-privacy prompt-count ask-keys"
        countId="prompt-count"
        countTestId="prompt-count"
        textRef={textRef}
        ctrlEnterSubmits
        meta={
          <span id="ask-keys" class="hint-inline">
            Line breaks are fine. <kbd>Ctrl</kbd>+<kbd>Enter</kbd> sends.
          </span>
        }
      >
        <p class="visually-hidden" aria-live="polite">
          {left <= ANNOUNCE_LEFT_BELOW ? `${left} characters left` : ''}
        </p>
      </CountedTextArea>
      <button type="submit" class="button primary" data-testid="prompt-submit" aria-disabled={sending ? 'true' : undefined}>
        {sending ? 'Sending…' : 'Send anonymously'}
      </button>
      <div class="sent-status" role="status" aria-live="polite">
        {sent && (
          <p class="sent-note" data-testid="prompt-sent">
            {SENT_TEXT}
          </p>
        )}
      </div>
    </form>
  );
}

/** A small button in a prompt's row; screen readers hear the prompt's text as its description. */
function RowButton({
  testId,
  textId,
  pressed,
  disabled,
  voted = false,
  onClick,
  children,
}: {
  testId: string;
  /** Id of the element holding the prompt's text. */
  textId: string;
  /** For toggle-like buttons: sets aria-pressed (left out when undefined). */
  pressed?: boolean;
  disabled?: boolean;
  /** Styled as an upvote already given. */
  voted?: boolean;
  onClick: () => void;
  children: ComponentChildren;
}) {
  return (
    <button
      type="button"
      class={voted ? 'button small voted' : 'button small'}
      data-testid={testId}
      aria-describedby={textId}
      aria-pressed={pressed === undefined ? undefined : pressed ? 'true' : 'false'}
      disabled={disabled}
      onClick={onClick}
    >
      {children}
    </button>
  );
}

function PendingList({
  pending,
  act,
  connection,
}: {
  pending: readonly PendingPrompt[];
  act: (run: () => Promise<CommandOutcome>) => void;
  connection: Connection;
}) {
  const releasable = releasableCount(pending);
  return (
    <section class="prompts-section pending-section" aria-labelledby="pending-heading">
      <h3 id="pending-heading">
        Waiting for release <span class="count">({pending.length})</span>
      </h3>
      {pending.length > 0 && (
        <div class="actions release-actions">
          <button
            type="button"
            class="button"
            data-testid="prompt-release-all"
            disabled={releasable === 0}
            onClick={() => act(() => connection.releasePrompts())}
          >
            Release pending ({releasable})
          </button>
        </div>
      )}
      {pending.length === 0 && <p class="muted empty-note">No questions waiting.</p>}
      <ul class="prompt-list" data-testid="pending-prompts" aria-labelledby="pending-heading">
        {pending.map((p) => {
          const textId = domId('pending-text', p.id);
          return (
            <li
              key={p.id}
              class={p.held ? 'prompt-item held' : 'prompt-item'}
              data-testid="pending-prompt"
              data-prompt-id={p.id}
              data-held={p.held ? 'true' : 'false'}
            >
              <p id={textId} class="prompt-text">
                {p.text}
              </p>
              <div class="prompt-meta">
                {p.held && (
                  <span class="tag held" data-testid="prompt-held">
                    held
                  </span>
                )}
                <span class="row-actions">
                  <RowButton testId="prompt-release-one" textId={textId} onClick={() => act(() => connection.releasePrompts([p.id]))}>
                    Release
                  </RowButton>
                  <RowButton
                    testId="prompt-hold"
                    textId={textId}
                    pressed={p.held}
                    disabled={p.held}
                    onClick={() => act(() => connection.holdPrompt(p.id))}
                  >
                    {p.held ? 'Held' : 'Hold'}
                  </RowButton>
                  <RowButton testId="prompt-discard" textId={textId} onClick={() => act(() => connection.discardPrompt(p.id))}>
                    Discard
                  </RowButton>
                </span>
              </div>
            </li>
          );
        })}
      </ul>
      <p class="hint">
        Only facilitators see this list, with no names and no times. Released questions are shuffled and released
        together, so the moment of release points at nobody. Three waiting questions are released automatically, and
        all of them when the phase timer ends; a held question stays back until you release it.
      </p>
    </section>
  );
}

function ReleasedList({
  room,
  selfId,
  facilitator,
  observer,
  voted,
  act,
  connection,
}: {
  room: RoomView;
  selfId: string;
  facilitator: boolean;
  observer: boolean;
  voted: readonly string[];
  act: (run: () => Promise<CommandOutcome>) => void;
  connection: Connection;
}) {
  const speakerId = room.turn?.member_id ?? null;
  const speaker = speakerId ? room.members.find((m) => m.id === speakerId) : undefined;
  return (
    <section class="prompts-section released-section" aria-labelledby="released-heading">
      <h3 id="released-heading">
        Released questions <span class="count">({room.prompts.length})</span>
      </h3>
      {room.prompts.length === 0 && <p class="muted empty-note">No questions released yet.</p>}
      <ul class="prompt-list" data-testid="released-prompts" aria-labelledby="released-heading">
        {room.prompts.map((p) => {
          const textId = domId('released-text', p.id);
          const label = posedLabel(p, room, selfId);
          const mine = voted.includes(p.id);
          const text = (
            <p id={textId} class="prompt-text">
              {p.text}
            </p>
          );
          return (
            <li
              key={p.id}
              class={label ? 'prompt-item posed' : 'prompt-item'}
              data-testid="released-prompt"
              data-prompt-id={p.id}
              data-votes={String(p.votes)}
              data-posed-to={p.posed_to === undefined ? undefined : (p.posed_to ?? 'group')}
            >
              {label ? (
                <div class="posed-box" data-testid="posed-prompt">
                  <p class="posed-label">{label}</p>
                  {text}
                </div>
              ) : (
                text
              )}
              <div class="prompt-meta">
                <span class="votes" data-testid="prompt-votes">
                  {p.votes === 1 ? '1 vote' : `${p.votes} votes`}
                </span>
                <span class="row-actions">
                  <RowButton
                    testId="prompt-upvote"
                    textId={textId}
                    voted={mine}
                    pressed={mine}
                    disabled={mine || observer}
                    onClick={() => act(() => connection.upvotePrompt(p.id))}
                  >
                    {mine ? 'Voted' : 'Upvote'}
                  </RowButton>
                  {facilitator && (
                    <RowButton testId="prompt-pose" textId={textId} onClick={() => act(() => connection.posePrompt(p.id))}>
                      Put to the group
                    </RowButton>
                  )}
                  {facilitator && speaker && (
                    <RowButton
                      testId="prompt-pose-speaker"
                      textId={textId}
                      onClick={() => act(() => connection.posePrompt(p.id, speaker.id))}
                    >
                      Put to {speaker.name}
                      {speaker.id === selfId ? ' (you)' : ''}
                    </RowButton>
                  )}
                </span>
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
