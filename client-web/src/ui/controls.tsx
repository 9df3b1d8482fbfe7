// Small pieces shared by the stage, the console and the people column: command buttons that say
// why they are off, checkboxes, member names, minute presets for durations, and the error slot
// that shows a refused command next to the controls that sent it.

import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { ConnectionError } from '../connection';
import { errorMessage } from '../messages';
import { formatDuration } from '../room-state';
import { DURATION_PRESETS, parseDuration, type ControlState } from '../stage';

/** A member's name, with "(you)" after one's own. */
export function MemberName({ name, self }: { name: string; self: boolean }) {
  return (
    <>
      {name}
      {self && <span class="you"> (you)</span>}
    </>
  );
}

/**
 * A button that sends a command. With `control` off it is disabled and described by its reason
 * (the reason's element, id `reasonId`, is shown by the caller: several buttons share one).
 */
export function CommandButton({
  testid,
  onClick,
  variant,
  shortcut,
  control,
  reasonId,
  submit = false,
  children,
}: {
  testid: string;
  onClick?: () => void;
  variant?: 'primary' | 'small' | 'danger';
  /** The key of its keyboard shortcut, announced with aria-keyshortcuts. */
  shortcut?: string;
  control?: ControlState;
  reasonId?: string;
  /** A form's submit button (its form's onSubmit acts). */
  submit?: boolean;
  children: ComponentChildren;
}) {
  const off = control !== undefined && !control.enabled;
  return (
    <button
      type={submit ? 'submit' : 'button'}
      class={variant ? `button ${variant}` : 'button'}
      data-testid={testid}
      aria-keyshortcuts={shortcut}
      disabled={off}
      aria-describedby={off && reasonId ? reasonId : undefined}
      onClick={onClick}
    >
      {children}
    </button>
  );
}

/** The reasons of the controls of a group that are off now (distinct, in order), as one line. */
export function Reasons({ id, controls }: { id: string; controls: ControlState[] }) {
  const reasons = [...new Set(controls.filter((c) => !c.enabled && c.reason).map((c) => c.reason!))];
  return (
    <p id={id} class="reason">
      {reasons.join(' ')}
    </p>
  );
}

/** A checkbox labelled by its children; its id is also its data-testid. */
export function CheckField({
  id,
  checked,
  onChange,
  children,
}: {
  id: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
  children: ComponentChildren;
}) {
  return (
    <div class="check-field">
      <input
        id={id}
        type="checkbox"
        data-testid={id}
        checked={checked}
        onChange={(e) => onChange((e.currentTarget as HTMLInputElement).checked)}
      />
      <label for={id}>{children}</label>
    </div>
  );
}

/** A duration chosen as a minute preset or typed ("3", "1:30", "45 s"): what the form holds. */
export interface DurationChoice {
  /** A preset in seconds, 'custom', or 'none' (only when `allowNone`). */
  pick: number | 'custom' | 'none';
  custom: string;
}

/** The seconds a choice stands for: null when none is chosen, NaN when the custom text is not valid. */
export function choiceSeconds(c: DurationChoice): number | null {
  if (c.pick === 'none') return null;
  if (c.pick === 'custom') return parseDuration(c.custom) ?? NaN;
  return c.pick;
}

export function presetChoice(seconds: number | null, allowNone = false): DurationChoice {
  if (seconds === null) return { pick: allowNone ? 'none' : DURATION_PRESETS[1], custom: '' };
  if ((DURATION_PRESETS as readonly number[]).includes(seconds)) return { pick: seconds, custom: '' };
  return { pick: 'custom', custom: seconds % 60 === 0 ? String(seconds / 60) : `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}` };
}

/**
 * Minute presets (1, 2, 3, 5 min) as radio buttons, plus "Other" with a text field; the field's id
 * is `id` (and its data-testid). Typing in the field chooses "Other".
 */
export function DurationField({
  id,
  legend,
  value,
  onChange,
  allowNone = false,
  presets = DURATION_PRESETS,
  noneLabel = 'No limit',
}: {
  id: string;
  legend: string;
  value: DurationChoice;
  onChange: (value: DurationChoice) => void;
  allowNone?: boolean;
  /** The presets offered (seconds); the room's minute presets unless given. */
  presets?: readonly number[];
  /** What the "none" choice says (with `allowNone`). */
  noneLabel?: string;
}) {
  const seconds = choiceSeconds(value);
  const hintId = `${id}-hint`;
  const options: (number | 'none')[] = allowNone ? ['none', ...presets] : [...presets];
  return (
    <fieldset class="duration-field">
      <legend>{legend}</legend>
      <div class="presets">
        {options.map((o) => (
          <label key={String(o)} class="preset">
            <input
              type="radio"
              name={`${id}-pick`}
              data-testid={`${id}-preset-${o}`}
              checked={value.pick === o}
              onChange={() => onChange({ ...value, pick: o })}
            />
            <span>{o === 'none' ? noneLabel : `${o / 60} min`}</span>
          </label>
        ))}
        <label class="preset">
          <input
            type="radio"
            name={`${id}-pick`}
            data-testid={`${id}-preset-custom`}
            checked={value.pick === 'custom'}
            onChange={() => onChange({ ...value, pick: 'custom' })}
          />
          <span>Other</span>
        </label>
      </div>
      <label for={id} class="visually-hidden">
        {legend}: other time
      </label>
      <input
        id={id}
        type="text"
        inputMode="text"
        autoComplete="off"
        class="duration-input"
        data-testid={id}
        placeholder="e.g. 4 or 1:30"
        aria-describedby={hintId}
        aria-invalid={value.pick === 'custom' && Number.isNaN(seconds) && value.custom.trim() !== '' ? 'true' : undefined}
        value={value.custom}
        onInput={(e) => onChange({ pick: 'custom', custom: (e.currentTarget as HTMLInputElement).value })}
      />
      <p id={hintId} class="hint">
        {seconds === null
          ? noneLabel === 'No limit'
            ? 'No time limit.'
            : `${noneLabel}.`
          : Number.isNaN(seconds)
            ? 'Other: minutes (4), minutes and seconds (1:30) or seconds (45 s), up to 4 hours.'
            : formatDuration(seconds * 1000)}
      </p>
    </fieldset>
  );
}

// ---------------------------------------------------------------- errors next to their controls

/** The refused command on show, where it came from (a `data-error-place`), and how to dismiss it. */
export interface ErrorPlaceValue {
  error: ConnectionError | null;
  place: string | null;
  dismiss: () => void;
}

export const ErrorPlaceContext = createContext<ErrorPlaceValue>({ error: null, place: null, dismiss: () => undefined });

/**
 * The error of a refused command, in plain words, when it came from the controls inside the
 * element marked `data-error-place={place}` (or, with `fallback`, from nowhere known).
 */
export function ErrorSlot({ place, fallback = false }: { place: string; fallback?: boolean }) {
  const { error, place: from, dismiss } = useContext(ErrorPlaceContext);
  if (!error || (from !== place && !(fallback && from === null))) return null;
  return (
    <div class="error-row">
      <p class="error" role="alert" data-testid="error-message">
        {errorMessage(error.code, error.message)}
      </p>
      <button type="button" class="button small" data-testid="dismiss-error" onClick={dismiss}>
        Dismiss
      </button>
    </div>
  );
}

