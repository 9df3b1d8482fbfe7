// Where a room's secrets are kept (README "Decisions"): two stores, looked up tab first.
// - `device` is localStorage: shared by the browser's tabs and kept after it closes, so the
//   browser that created a room, or joined it, gets back in as the same member next month.
// - `tab` is sessionStorage: this tab's own copy, so a tab stays the member it is even when
//   another tab of the browser becomes someone else (a rejoin link, "Not you?").
// Either falls back to memory when the browser blocks it (privacy modes): the tab still works.
// Secrets are never sent to a server except in the WebSocket `join` and the invite-check body.

export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export const storageKeys = {
  /** The member's resume token, from the join result (tab and device). */
  resume: (room: string) => `colloquy.resume.${room}`,
  /** Who that token is, JSON `{id, name, role}` from the join result, for "Welcome back" (tab and device). */
  self: (room: string) => `colloquy.self.${room}`,
  /** The facilitator key, read from `#key=…` (tab and device). */
  key: (room: string) => `colloquy.key.${room}`,
  /** The join code, read from `#code=…` (tab and device). */
  code: (room: string) => `colloquy.code.${room}`,
  /** The invite URL, kept by the landing page after creating a room (shown to the facilitator; device). */
  invite: (room: string) => `colloquy.invite.${room}`,
  /** This member's votes for released prompts (1.3): JSON `{member, prompts}` (device). */
  votes: (room: string) => `colloquy.votes.${room}`,
  /** The climate-check audits this member answered (1.3): JSON `{member, audits}` (device). */
  audits: (room: string) => `colloquy.audits.${room}`,
};

/** In-memory storage, for tests and for browsers where web storage is unavailable. */
export class MemoryStorage implements StorageLike {
  private readonly map = new Map<string, string>();
  getItem(key: string): string | null {
    return this.map.has(key) ? this.map.get(key)! : null;
  }
  setItem(key: string, value: string): void {
    this.map.set(key, String(value));
  }
  removeItem(key: string): void {
    this.map.delete(key);
  }
}

const fallbacks = new Map<'localStorage' | 'sessionStorage', MemoryStorage>();

function usable(kind: 'localStorage' | 'sessionStorage'): StorageLike {
  try {
    const s = globalThis[kind];
    const probe = 'colloquy.probe';
    s.setItem(probe, '1');
    s.removeItem(probe);
    return s;
  } catch {
    let fallback = fallbacks.get(kind);
    if (!fallback) fallbacks.set(kind, (fallback = new MemoryStorage()));
    return fallback;
  }
}

/** The tab's sessionStorage, or an in-memory stand-in when it is blocked. */
export function sessionStore(): StorageLike {
  return usable('sessionStorage');
}

/** The browser's localStorage (every tab, kept after closing), or an in-memory stand-in. */
export function deviceStore(): StorageLike {
  return usable('localStorage');
}

/** The two stores of a room's secrets. */
export interface Stores {
  tab: StorageLike;
  device: StorageLike;
}

export function browserStores(): Stores {
  return { tab: sessionStore(), device: deviceStore() };
}

/** Reads storage without throwing. */
export function readItem(storage: StorageLike, key: string): string | null {
  try {
    return storage.getItem(key);
  } catch {
    return null;
  }
}

export function writeItem(storage: StorageLike, key: string, value: string): void {
  try {
    storage.setItem(key, value);
  } catch {
    // Storage full or blocked: the session still works for this page load.
  }
}

export function removeItem(storage: StorageLike, key: string): void {
  try {
    storage.removeItem(key);
  } catch {
    // ignore
  }
}

/** The tab's value, else the device's. */
export function readLayered(stores: Stores, key: string): string | null {
  return readItem(stores.tab, key) ?? readItem(stores.device, key);
}

/** The key or code to join with: what the tab was opened with, else the browser's key, else its code. */
export function storedSecret(stores: Stores, room: string): { key: string } | { code: string } | null {
  for (const store of [stores.tab, stores.device]) {
    const key = readItem(store, storageKeys.key(room));
    if (key) return { key };
    const code = readItem(store, storageKeys.code(room));
    if (code) return { code };
  }
  return null;
}

/** Forgets a key or code the server refused, wherever it is that same value. */
export function forgetSecret(stores: Stores, room: string, secret: { key: string } | { code: string }): void {
  const kind = 'key' in secret ? 'key' : 'code';
  const value = 'key' in secret ? secret.key : secret.code;
  for (const store of [stores.tab, stores.device]) {
    if (readItem(store, storageKeys[kind](room)) === value) removeItem(store, storageKeys[kind](room));
  }
}

/** Who a stored resume token is (for "Welcome back"); null when unknown. */
export interface RememberedSelf {
  id: string;
  name: string;
  role: string;
}

/** The identity this tab would resume as: its own token, else the browser's. */
export function rememberedIdentity(stores: Stores, room: string): { token: string; self: RememberedSelf | null } | null {
  for (const store of [stores.tab, stores.device]) {
    const token = readItem(store, storageKeys.resume(room));
    if (!token) continue;
    return { token, self: parseSelf(readItem(store, storageKeys.self(room))) };
  }
  return null;
}

function parseSelf(raw: string | null): RememberedSelf | null {
  if (!raw) return null;
  try {
    const v = JSON.parse(raw) as Record<string, unknown>;
    return typeof v.id === 'string' && typeof v.name === 'string' && typeof v.role === 'string'
      ? { id: v.id, name: v.name, role: v.role }
      : null;
  } catch {
    return null;
  }
}

/** Keeps a member's token (and who it is) in the tab and for the browser. */
export function rememberIdentity(stores: Stores, room: string, token: string, self: RememberedSelf | null): void {
  for (const store of [stores.tab, stores.device]) {
    writeItem(store, storageKeys.resume(room), token);
    if (self) writeItem(store, storageKeys.self(room), JSON.stringify(self));
    else removeItem(store, storageKeys.self(room));
  }
}

/**
 * Forgets a resume token: the tab's always; the browser's only when it is the same token (another
 * tab may have become someone else since), or when `token` is null (forget whoever it is).
 */
export function forgetIdentity(stores: Stores, room: string, token: string | null): void {
  for (const store of [stores.tab, stores.device]) {
    const stored = readItem(store, storageKeys.resume(room));
    if (store === stores.tab || token === null || stored === token) {
      removeItem(store, storageKeys.resume(room));
      removeItem(store, storageKeys.self(room));
    }
  }
}

/** Forgets everything of a room in both stores (it was closed or is gone). */
export function forgetRoom(stores: Stores, room: string): void {
  for (const store of [stores.tab, stores.device]) {
    for (const key of Object.values(storageKeys)) removeItem(store, key(room));
  }
}
