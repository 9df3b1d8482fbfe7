// Shared pieces of the room's side panels (questions, challenge deck, climate check): the panel
// card with its focusable heading, the command runner that brings focus back to that heading, and
// the text area with a character count.

import type { ComponentChildren, RefObject } from 'preact';
import { useRef } from 'preact/hooks';
import type { CommandOutcome } from '../connection';
import { codePointLength } from '../protocol';
import { ErrorSlot } from './controls';

/** Runs a panel command and hands back its outcome. */
export type Act = (run: () => Promise<CommandOutcome>) => Promise<CommandOutcome>;

/**
 * The panel heading's ref and `act`: runs a command; if the pressed control went away or became
 * disabled (focus fell to the page), keyboard focus comes back to the heading.
 */
export function usePanelAct(): { headingRef: RefObject<HTMLHeadingElement | null>; act: Act } {
  const headingRef = useRef<HTMLHeadingElement>(null);
  function act(run: () => Promise<CommandOutcome>): Promise<CommandOutcome> {
    return run().then((outcome) => {
      setTimeout(() => {
        const active = document.activeElement;
        if (!active || active === document.body || (active as HTMLButtonElement).disabled) headingRef.current?.focus();
      }, 0);
      return outcome;
    });
  }
  return { headingRef, act };
}

/** `<section class="card {name}-panel">` headed by a focusable `<h2 id="{name}-heading">`. */
export function Panel({
  name,
  title,
  headingRef,
  children,
}: {
  name: string;
  title: string;
  headingRef: RefObject<HTMLHeadingElement | null>;
  children: ComponentChildren;
}) {
  return (
    <section class={`card ${name}-panel`} aria-labelledby={`${name}-heading`} data-testid={`${name}-panel`}>
      <h2 id={`${name}-heading`} ref={headingRef} tabIndex={-1}>
        {title}
      </h2>
      <ErrorSlot place={name} />
      {children}
    </section>
  );
}

/**
 * A labelled text area with "n / max characters" below it (in `.ask-meta`, followed by `meta`);
 * `children` come after, inside the field. With `ctrlEnterSubmits`, Ctrl/Cmd+Enter submits the form.
 */
export function CountedTextArea({
  id,
  label,
  name,
  testId,
  rows,
  max,
  value,
  onValue,
  describedBy,
  countId,
  countTestId,
  textRef,
  ctrlEnterSubmits = false,
  meta,
  children,
}: {
  id: string;
  label: string;
  name: string;
  testId: string;
  rows: number;
  max: number;
  value: string;
  onValue: (value: string) => void;
  describedBy: string;
  countId: string;
  /** Also sets data-count on the count. */
  countTestId?: string;
  textRef?: RefObject<HTMLTextAreaElement | null>;
  ctrlEnterSubmits?: boolean;
  meta?: ComponentChildren;
  children?: ComponentChildren;
}) {
  const count = codePointLength(value);
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <textarea
        ref={textRef}
        id={id}
        name={name}
        data-testid={testId}
        rows={rows}
        maxLength={max}
        value={value}
        aria-describedby={describedBy}
        onInput={(e) => onValue((e.currentTarget as HTMLTextAreaElement).value)}
        onKeyDown={(e) => {
          if (ctrlEnterSubmits && e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            (e.currentTarget as HTMLTextAreaElement).form?.requestSubmit();
          }
        }}
      />
      <p class="ask-meta">
        <span id={countId} class="char-count" data-testid={countTestId} data-count={countTestId ? String(count) : undefined}>
          {count} / {max} characters
        </span>
        {meta}
      </p>
      {children}
    </div>
  );
}
