// Single-key shortcuts: which presses are shortcuts (never while typing, with a modifier, or when
// turned off) and the remembered setting.
import { describe, expect, it } from 'vitest';
import { SHORTCUTS_STORAGE_KEY, isTypingTarget, onShortcutsChange, setShortcutsEnabled, shortcutFor, shortcutsEnabled, type KeyPress } from './shortcuts';
import { MemoryStorage } from './storage';

const press = (key: string, extra: Partial<KeyPress> = {}): KeyPress => ({
  key,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  shiftKey: false,
  repeat: false,
  defaultPrevented: false,
  ...extra,
});
const body = { tagName: 'BODY' };
const button = { tagName: 'BUTTON' };

describe('shortcutFor', () => {
  it('h, f, p on the page or a button', () => {
    expect(shortcutFor(press('h'), body, true)).toBe('hand');
    expect(shortcutFor(press('f'), button, true)).toBe('finish');
    expect(shortcutFor(press('p'), null, true)).toBe('pass');
    expect(shortcutFor(press('x'), body, true)).toBeNull();
    expect(shortcutFor(press('Enter'), body, true)).toBeNull();
  });

  it('nothing when turned off', () => {
    for (const k of ['h', 'f', 'p']) expect(shortcutFor(press(k), body, false)).toBeNull();
  });

  it('nothing with a modifier, on auto-repeat, or when already handled', () => {
    for (const m of ['ctrlKey', 'metaKey', 'altKey', 'shiftKey', 'repeat', 'defaultPrevented'] as const) {
      expect(shortcutFor(press('h', { [m]: true }), body, true), m).toBeNull();
    }
    expect(shortcutFor(press('H', { shiftKey: true }), body, true)).toBeNull();
  });

  it('nothing while typing: text inputs, textarea, select, contenteditable, text roles; or in a dialog', () => {
    const typing = [
      { tagName: 'INPUT', type: 'text' },
      { tagName: 'INPUT', type: 'search' },
      { tagName: 'INPUT', type: 'number' },
      { tagName: 'INPUT' },
      { tagName: 'TEXTAREA' },
      { tagName: 'SELECT' },
      { tagName: 'DIV', editable: true },
      { tagName: 'DIV', role: 'textbox' },
      { tagName: 'DIV', role: 'combobox' },
    ];
    for (const t of typing) {
      expect(isTypingTarget(t), JSON.stringify(t)).toBe(true);
      expect(shortcutFor(press('h'), t, true), JSON.stringify(t)).toBeNull();
    }
    expect(shortcutFor(press('h'), { tagName: 'BUTTON', inDialog: true }, true)).toBeNull();
    for (const type of ['checkbox', 'radio', 'button', 'submit']) {
      expect(shortcutFor(press('h'), { tagName: 'INPUT', type }, true), type).toBe('hand');
    }
  });
});

describe('the setting', () => {
  it('is on by default, remembered as "off" under colloquy.shortcuts, and tells listeners', () => {
    const storage = new MemoryStorage();
    expect(shortcutsEnabled(storage)).toBe(true);
    const heard: boolean[] = [];
    const off = onShortcutsChange((on) => heard.push(on));
    setShortcutsEnabled(false, storage);
    expect(storage.getItem(SHORTCUTS_STORAGE_KEY)).toBe('off');
    expect(SHORTCUTS_STORAGE_KEY).toMatch(/^colloquy\./);
    expect(shortcutsEnabled(storage)).toBe(false);
    setShortcutsEnabled(true, storage);
    expect(shortcutsEnabled(storage)).toBe(true);
    off();
    setShortcutsEnabled(false, storage);
    expect(heard).toEqual([false, true]);
  });
});
