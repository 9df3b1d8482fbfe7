// The room's single-key shortcuts (H, F, P): which key press is one, and the setting that turns
// them off (WCAG 2.1.4), remembered in this browser's localStorage (a preference, not a secret).

import { MemoryStorage, readItem, writeItem, type StorageLike } from './storage';

/** localStorage key of the setting: "off" turns the shortcuts off; anything else (or none) is on. */
export const SHORTCUTS_STORAGE_KEY = 'colloquy.shortcuts';

export type ShortcutAction = 'hand' | 'finish' | 'pass';

/** Every single-key shortcut, as the settings dialog lists it. */
export const SHORTCUTS: readonly { key: string; action: ShortcutAction; text: string }[] = [
  { key: 'h', action: 'hand', text: 'Raise or lower your hand' },
  { key: 'f', action: 'finish', text: 'Finish your turn (or give back the floor)' },
  { key: 'p', action: 'pass', text: 'Pass your turn in a go-round' },
];

/** A key press as far as shortcuts care (a KeyboardEvent fits). */
export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
  repeat: boolean;
  defaultPrevented: boolean;
}

/** Where focus is when the key is pressed (`focusTarget` reads it from an element). */
export interface FocusTarget {
  tagName: string;
  /** An input's type. */
  type?: string;
  editable?: boolean;
  role?: string | null;
  /** Inside an open dialog (its own keys apply there). */
  inDialog?: boolean;
}

const OWN_KEY_ROLES = new Set(['textbox', 'searchbox', 'combobox', 'spinbutton', 'listbox', 'slider', 'menu', 'menubar', 'grid']);
const NON_TEXT_INPUTS = new Set(['checkbox', 'radio', 'button', 'submit', 'reset', 'image', 'file', 'color', 'range']);

/** Whether keys typed at `target` belong to it: a text field, textarea, select or editable content. */
export function isTypingTarget(target: FocusTarget | null): boolean {
  if (!target) return false;
  if (target.editable) return true;
  if (target.role && OWN_KEY_ROLES.has(target.role)) return true;
  const tag = target.tagName.toUpperCase();
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') return !NON_TEXT_INPUTS.has((target.type ?? 'text').toLowerCase());
  return false;
}

/**
 * The shortcut a key press means, or null: never when shortcuts are off, with any modifier (Shift,
 * Ctrl, Alt, Meta), on auto-repeat, when something else handled the key, while typing, or inside
 * a dialog.
 */
export function shortcutFor(press: KeyPress, target: FocusTarget | null, enabled: boolean): ShortcutAction | null {
  if (!enabled || press.defaultPrevented || press.repeat) return null;
  if (press.ctrlKey || press.metaKey || press.altKey || press.shiftKey) return null;
  if (isTypingTarget(target) || target?.inDialog) return null;
  const key = press.key.length === 1 ? press.key.toLowerCase() : '';
  return SHORTCUTS.find((s) => s.key === key)?.action ?? null;
}

/** The FocusTarget of an event's target (a DOM element, or anything else: null). */
export function focusTarget(el: EventTarget | null): FocusTarget | null {
  if (typeof Element === 'undefined' || !(el instanceof Element)) return null;
  const html = el as HTMLElement;
  return {
    tagName: el.tagName,
    type: el.tagName === 'INPUT' ? (el as HTMLInputElement).type : undefined,
    editable: html.isContentEditable === true,
    role: el.getAttribute('role'),
    inDialog: el.closest('dialog[open]') !== null,
  };
}

let fallback: MemoryStorage | undefined;

/** This browser's localStorage, or an in-memory stand-in when it is blocked. */
export function localStore(): StorageLike {
  try {
    const s = globalThis.localStorage;
    if (!s) throw new Error('no localStorage');
    return s;
  } catch {
    fallback ??= new MemoryStorage();
    return fallback;
  }
}

/** Whether the shortcuts are on (the default). */
export function shortcutsEnabled(storage: StorageLike = localStore()): boolean {
  return readItem(storage, SHORTCUTS_STORAGE_KEY) !== 'off';
}

const listeners = new Set<(on: boolean) => void>();

/** Turns the shortcuts on or off, remembers it, and tells every listener of this page. */
export function setShortcutsEnabled(on: boolean, storage: StorageLike = localStore()): void {
  writeItem(storage, SHORTCUTS_STORAGE_KEY, on ? 'on' : 'off');
  for (const fn of [...listeners]) fn(on);
}

/** Calls `fn` when the setting changes (in this page, or in another tab of this browser). */
export function onShortcutsChange(fn: (on: boolean) => void): () => void {
  listeners.add(fn);
  const onStorage = (e: StorageEvent) => {
    if (e.key === SHORTCUTS_STORAGE_KEY) fn(e.newValue !== 'off');
  };
  globalThis.addEventListener?.('storage', onStorage);
  return () => {
    listeners.delete(fn);
    globalThis.removeEventListener?.('storage', onStorage);
  };
}
