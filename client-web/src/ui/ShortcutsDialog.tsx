// The header's "Shortcuts" button and its dialog: the keys the room answers to, and the setting
// that turns the single-key shortcuts off (remembered in this browser).

import { useEffect, useRef, useState } from 'preact/hooks';
import { SHORTCUTS, onShortcutsChange, setShortcutsEnabled, shortcutsEnabled } from '../shortcuts';
import { CheckField } from './controls';

/** Whether the single-key shortcuts are on, following the setting wherever it is changed. */
export function useShortcutsEnabled(): boolean {
  const [on, setOn] = useState(() => shortcutsEnabled());
  useEffect(() => onShortcutsChange(setOn), []);
  return on;
}

const OTHER_KEYS: readonly [string, string][] = [
  ['Tab, Shift+Tab', 'Move to the next or previous control'],
  ['Enter, Space', 'Press the button that has focus'],
  ['← →, Home, End', 'Move between the activity tabs (Questions, Climate check, …)'],
  ['Ctrl+Enter', 'Send a question you are typing'],
  ['Escape', 'Close a dialog such as this one'],
];

export function ShortcutsButton() {
  const dialogRef = useRef<HTMLDialogElement>(null);
  const openRef = useRef<HTMLButtonElement>(null);
  const on = useShortcutsEnabled();
  return (
    <>
      <button
        ref={openRef}
        type="button"
        class="button small"
        data-testid="shortcuts-open"
        aria-haspopup="dialog"
        onClick={() => dialogRef.current?.showModal()}
      >
        Shortcuts
      </button>
      <dialog
        ref={dialogRef}
        class="invite-dialog shortcuts-dialog"
        aria-labelledby="shortcuts-heading"
        data-testid="shortcuts-panel"
        onClose={() => openRef.current?.focus()}
      >
        <div class="dialog-head">
          <h2 id="shortcuts-heading">Keyboard shortcuts</h2>
          <button type="button" class="button small" data-testid="shortcuts-close" onClick={() => dialogRef.current?.close()}>
            Close
          </button>
        </div>
        <CheckField id="shortcuts-enabled" checked={on} onChange={(v) => setShortcutsEnabled(v)}>
          Use single-key shortcuts
        </CheckField>
        <p class="hint" id="shortcuts-hint">
          {on
            ? 'They work when you are not typing in a field, and never with Ctrl, Alt, Shift or ⌘. Turn them off if they get in the way of your screen reader or voice control. Remembered in this browser.'
            : 'Off: the keys below do nothing. Remembered in this browser.'}
        </p>
        <table class="keys-table" data-testid="shortcuts-list">
          <caption class="visually-hidden">Single-key shortcuts</caption>
          <tbody>
            {SHORTCUTS.map((s) => (
              <tr key={s.key} class={on ? undefined : 'muted'}>
                <th scope="row">
                  <kbd>{s.key.toUpperCase()}</kbd>
                </th>
                <td>{s.text}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <h3 class="keys-heading">Always</h3>
        <table class="keys-table">
          <caption class="visually-hidden">Keys that always work</caption>
          <tbody>
            {OTHER_KEYS.map(([k, text]) => (
              <tr key={k}>
                <th scope="row">
                  <kbd>{k}</kbd>
                </th>
                <td>{text}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </dialog>
    </>
  );
}
