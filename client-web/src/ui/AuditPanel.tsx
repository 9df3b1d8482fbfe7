// Climate-for-learning audit (protocol 1.3): the "Climate check" panel. Facilitators and
// co-facilitators open an audit (with k) and close it; members answer six statements 1..5 and may
// add a comment, anonymously; once closed, everyone sees the aggregate results (or, below k
// answers, only how many answered). State comes from the room view and the connection snapshot;
// a refused command shows in the room's error area.

import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { AUDIT_CHOICES, closeAuditWarning, formatAnswers, formatMean, notEnoughText, summarize, unanswered } from '../audit';
import type { Connection } from '../connection';
import {
  DEFAULT_AUDIT_K,
  MAX_AUDIT_COMMENT_CHARS,
  MAX_AUDIT_K,
  MIN_AUDIT_K,
  type AuditItem,
  type AuditState,
  type Role,
} from '../protocol';
import { isFacilitatorRole, type RoomView } from '../room-state';
import { CountedTextArea, Panel, usePanelAct, type Act } from './Panel';

/** Shown after this member's answer was accepted (and after a reload, from sessionStorage). */
export const THANKS_TEXT = 'Thank you — your answer is recorded anonymously.';

/** An element id made from a server-chosen id (kept to safe characters). */
function domId(prefix: string, id: string): string {
  return `${prefix}-${id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

export function AuditPanel({
  connection,
  room,
  role,
  answered,
}: {
  connection: Connection;
  room: RoomView;
  role: Role;
  /** Ids of the audits this member has answered. */
  answered: readonly string[];
}) {
  const { headingRef, act } = usePanelAct();
  const facilitator = isFacilitatorRole(role);
  const observer = role === 'observer';
  const audit = room.audit;
  // The check this person just closed: its results come into view (and take focus) when shown.
  const [closedHere, setClosedHere] = useState<string | null>(null);
  const results = audit && !audit.open ? <AuditResultsView audit={audit} reveal={closedHere === audit.id} /> : null;
  const controls = facilitator ? <AuditControls audit={audit} connection={connection} act={act} onClosed={setClosedHere} /> : null;

  return (
    <Panel name="audit" title="Climate check" headingRef={headingRef}>
      {/* Open: a facilitator's Close comes first. Closed: the results first, then (for
          facilitators) the form for a new check. */}
      {audit?.open && controls}
      <p class="hint audit-intro">
        A short anonymous survey: how safe does this group feel for honest challenge? Answers are counted without names;
        results appear only in aggregate, once the check is closed.
      </p>
      {results}
      {!audit?.open && controls}
      {!audit && !facilitator && (
        <p class="muted empty-note" data-testid="audit-none">
          No climate check yet.
        </p>
      )}
      {audit?.open && observer && (
        <p class="hint" data-testid="audit-observer-note">
          You are observing: you will see the results when the check closes, but you do not answer.
        </p>
      )}
      {audit?.open && !observer && (
        <div class="audit-answer-area">
          {answered.includes(audit.id) ? null : <AuditForm key={audit.id} audit={audit} connection={connection} act={act} />}
          <div class="sent-status" role="status" aria-live="polite">
            {answered.includes(audit.id) && (
              <p class="sent-note" data-testid="audit-thanks">
                {THANKS_TEXT}
              </p>
            )}
          </div>
        </div>
      )}
    </Panel>
  );
}

function AuditControls({
  audit,
  connection,
  act,
  onClosed,
}: {
  audit: AuditState | null;
  connection: Connection;
  act: Act;
  /** Called with the audit's id once this facilitator's close was accepted. */
  onClosed: (auditId: string) => void;
}) {
  const [k, setK] = useState(String(DEFAULT_AUDIT_K));
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState<{ text: string; deletes: boolean } | null>(null);
  const warningRef = useRef<HTMLParagraphElement>(null);
  // Layout effect: the warning takes focus in the same frame it appears (a deferred effect
  // left a moment in which a key press still went to the Close button).
  useLayoutEffect(() => {
    if (confirming) warningRef.current?.focus();
  }, [confirming]);
  const n = Number(k);
  const kValid = k.trim() !== '' && Number.isInteger(n) && n >= MIN_AUDIT_K && n <= MAX_AUDIT_K;

  if (audit?.open) {
    // Closing asks the server first how many have answered, and says what closing will do
    // (below k the answers are deleted unseen); only then does a second press close it.
    async function askToClose() {
      if (busy) return;
      setBusy(true);
      const status = await connection.auditStatus();
      setBusy(false);
      if (!status.ok) {
        // The room's error area shows why (as for any refused command); closing still works.
        setConfirming({ text: 'Could not find out how many have answered. Closing now deletes the answers unseen if fewer than ' + audit!.k + ' answered.', deletes: true });
        return;
      }
      setConfirming({ text: closeAuditWarning(status.responses, status.k), deletes: status.responses < status.k });
    }
    return (
      <div class="audit-controls">
        <p class="hint">
          The check is open. Members' answers are counted without names. Results are shown only if at least {audit.k}{' '}
          members answered; before closing you see how many did.
        </p>
        {confirming ? (
          <div class="audit-confirm" role="group" aria-labelledby="audit-confirm-text">
            <p id="audit-confirm-text" data-testid="audit-close-warning" ref={warningRef} tabIndex={-1}>
              {confirming.text}
            </p>
            <div class="actions">
              <button
                type="button"
                class={confirming.deletes ? 'button danger' : 'button'}
                data-testid="audit-close-confirm"
                aria-disabled={busy ? 'true' : undefined}
                onClick={() => {
                  if (busy) return;
                  setBusy(true);
                  const id = audit!.id;
                  void act(() => connection.closeAudit()).then((outcome) => {
                    setBusy(false);
                    setConfirming(null);
                    if (outcome.ok) onClosed(id);
                  });
                }}
              >
                {confirming.deletes ? 'Close and delete the answers' : 'Close and show results'}
              </button>
              <button type="button" class="button" data-testid="audit-close-cancel" onClick={() => setConfirming(null)}>
                Keep it open
              </button>
            </div>
          </div>
        ) : (
          <div class="actions">
            <button
              type="button"
              class="button"
              data-testid="audit-close"
              aria-disabled={busy ? 'true' : undefined}
              onClick={() => void askToClose()}
            >
              Close the check…
            </button>
          </div>
        )}
      </div>
    );
  }

  function submit(e: Event) {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    void act(() => connection.openAudit(n)).then(() => setBusy(false));
  }

  return (
    <form class="audit-controls audit-open-form" onSubmit={submit} noValidate>
      <div class="field">
        <label class="audit-k-label">
          Show results only if at least{' '}
          <input
            type="number"
            class="audit-k-input"
            data-testid="audit-k"
            name="k"
            inputMode="numeric"
            min={MIN_AUDIT_K}
            max={MAX_AUDIT_K}
            step={1}
            value={k}
            aria-invalid={kValid ? undefined : 'true'}
            aria-describedby="audit-k-hint"
            onInput={(e) => setK((e.currentTarget as HTMLInputElement).value)}
          />{' '}
          members answer
        </label>
        <p id="audit-k-hint" class="hint">
          {MIN_AUDIT_K} to {MAX_AUDIT_K}. With fewer answers, nothing is shown and the answers are deleted unseen.
        </p>
      </div>
      <button type="submit" class="button primary" data-testid="audit-open" aria-disabled={busy ? 'true' : undefined}>
        {audit ? 'Open a new climate check' : 'Open climate check'}
      </button>
    </form>
  );
}

function AuditForm({
  audit,
  connection,
  act,
}: {
  audit: AuditState;
  connection: Connection;
  act: Act;
}) {
  const [answers, setAnswers] = useState<Record<string, number>>({});
  const [comment, setComment] = useState('');
  const [missing, setMissing] = useState<string[]>([]);
  const [sending, setSending] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);

  function choose(item: string, n: number) {
    setAnswers((a) => ({ ...a, [item]: n }));
    setMissing((m) => m.filter((id) => id !== item));
  }

  async function submit(e: Event) {
    e.preventDefault();
    if (sending) return;
    const left = unanswered(audit, answers);
    setMissing(left);
    if (left.length > 0) {
      // Focus the first radio of the first statement without an answer.
      const first = formRef.current?.querySelector<HTMLInputElement>(`input[name="${domId('audit-answer', left[0]!)}"]`);
      first?.focus();
      return;
    }
    setSending(true);
    const outcome = await act(() => connection.answerAudit(answers, comment));
    setSending(false);
    if (!outcome.ok && outcome.code === 'invalid_text') formRef.current?.querySelector<HTMLTextAreaElement>('textarea')?.focus();
  }

  return (
    <form ref={formRef} class="audit-form" data-testid="audit-form" aria-labelledby="audit-form-heading" onSubmit={submit} noValidate>
      <h3 id="audit-form-heading">Your answer</h3>
      <p id="audit-privacy" class="privacy-note">
        Your answers are anonymous: they are added to counts per statement, without your name, and nobody sees single
        answers. Results appear only in aggregate, and only if at least {audit.k} members answer. You can answer once.
      </p>
      {audit.items.map((item) => (
        <AuditQuestion key={item.id} item={item} value={answers[item.id]} missing={missing.includes(item.id)} onChoose={choose} />
      ))}
      <CountedTextArea
        id="audit-comment-input"
        label="Comment (optional)"
        name="comment"
        testId="audit-comment"
        rows={3}
        max={MAX_AUDIT_COMMENT_CHARS}
        value={comment}
        onValue={setComment}
        describedBy="audit-comment-count"
        countId="audit-comment-count"
      />
      {missing.length > 0 && (
        <p class="error" role="alert" data-testid="audit-form-error">
          Please choose an answer for every statement ({missing.length === 1 ? '1 left' : `${missing.length} left`}).
        </p>
      )}
      <button type="submit" class="button primary" data-testid="audit-submit" aria-disabled={sending ? 'true' : undefined}>
        {sending ? 'Sending…' : 'Send anonymously'}
      </button>
    </form>
  );
}

function AuditQuestion({
  item,
  value,
  missing,
  onChoose,
}: {
  item: AuditItem;
  value: number | undefined;
  missing: boolean;
  onChoose: (item: string, n: number) => void;
}) {
  const name = domId('audit-answer', item.id);
  const missingId = domId('audit-missing', item.id);
  return (
    <fieldset
      class={missing ? 'audit-question missing' : 'audit-question'}
      data-testid="audit-question"
      data-item-id={item.id}
      aria-describedby={missing ? missingId : undefined}
    >
      <legend>{item.text}</legend>
      <div class="audit-scale">
        {AUDIT_CHOICES.map((label, i) => {
          const n = i + 1;
          const inputId = `${name}-${n}`;
          return (
            <label key={n} class={value === n ? 'audit-choice checked' : 'audit-choice'} for={inputId}>
              <input
                type="radio"
                id={inputId}
                name={name}
                value={String(n)}
                checked={value === n}
                data-testid={`audit-choice-${item.id}-${n}`}
                onChange={() => onChoose(item.id, n)}
              />
              <span>{label}</span>
            </label>
          );
        })}
      </div>
      {missing && (
        <p id={missingId} class="audit-missing">
          Choose an answer for this statement.
        </p>
      )}
    </fieldset>
  );
}

/**
 * Scrolls `el` to the top of the window, below the stage where the stage stays on screen (phones:
 * sticky), so that what just appeared is in view without scrolling for it.
 */
function revealBelowStage(el: HTMLElement): void {
  el.scrollIntoView({ block: 'start' });
  const stage = document.querySelector('.stage-col');
  if (stage && getComputedStyle(stage).position === 'sticky') {
    const overlap = stage.getBoundingClientRect().bottom - el.getBoundingClientRect().top;
    if (overlap > 0) window.scrollBy(0, -(overlap + 8));
  }
}

function AuditResultsView({ audit, reveal }: { audit: AuditState; reveal: boolean }) {
  const responses = audit.responses ?? 0;
  const results = audit.results ?? null;
  const sectionRef = useRef<HTMLElement>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (!reveal) return;
    // After the panel's own focus fix-up (a timeout of 0 once the close was accepted).
    const t = setTimeout(() => {
      headingRef.current?.focus({ preventScroll: true });
      if (sectionRef.current) revealBelowStage(sectionRef.current);
    }, 0);
    return () => clearTimeout(t);
  }, [reveal, audit.id]);
  return (
    <section
      ref={sectionRef}
      class="audit-results"
      data-testid="audit-results"
      data-responses={String(responses)}
      data-k={String(audit.k)}
      aria-labelledby="audit-results-heading"
    >
      <h3 id="audit-results-heading" ref={headingRef} tabIndex={-1} data-testid="audit-results-heading">
        Results
      </h3>
      <p class="audit-responses" data-testid="audit-responses" data-value={String(responses)}>
        {formatAnswers(responses)} in total (results are shown from {audit.k}).
      </p>
      {results === null ? (
        <p class="audit-not-enough" data-testid="audit-not-enough">
          {notEnoughText(responses, audit.k)}
        </p>
      ) : (
        <>
          <ol class="audit-result-list">
            {summarize(audit.items, results).map((s) => {
              const textId = domId('audit-result-text', s.id);
              const mean = formatMean(s.mean);
              return (
                <li key={s.id} class="audit-result-item" data-testid="audit-result-item" data-item-id={s.id} data-mean={mean}>
                  <p id={textId} class="audit-result-text">
                    {s.text}
                  </p>
                  <p class="audit-mean" data-testid="audit-mean">
                    Mean <strong>{mean}</strong> of 5 <span class="muted">({formatAnswers(s.total)})</span>
                  </p>
                  <ul class="audit-bars" aria-label={`Answers to: ${s.text}`}>
                    {s.counts.map((c, i) => {
                      const labelId = `${textId}-${i + 1}`;
                      return (
                        <li key={i} class="audit-bar">
                          <span id={labelId} class="audit-bar-label">
                            {AUDIT_CHOICES[i]}
                          </span>
                          <meter
                            class="audit-meter"
                            min={0}
                            max={Math.max(1, s.total)}
                            value={c}
                            aria-labelledby={labelId}
                          >
                            {c}
                          </meter>
                          <span class="audit-bar-count" data-testid="audit-count" data-value={String(c)}>
                            {c}
                          </span>
                        </li>
                      );
                    })}
                  </ul>
                </li>
              );
            })}
          </ol>
          <h4 class="audit-comments-heading">
            Comments <span class="count">({results.comments.length})</span>
          </h4>
          {results.comments.length === 0 ? (
            <p class="muted empty-note">No comments.</p>
          ) : (
            <ul class="audit-comments" data-testid="audit-comments">
              {results.comments.map((c, i) => (
                <li key={i} class="audit-comment-item" data-testid="audit-comment-item">
                  {c}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}
