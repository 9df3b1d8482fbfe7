// sessionStorage keys, one set per room. sessionStorage is per tab and ends with the tab, so a
// secret read from a link never outlives the tab that opened it and is never sent to a server
// except inside the WebSocket `join` command.

export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export const storageKeys = {
  /** The member's resume token, from the join result. */
  resume: (room: string) => `colloquy.resume.${room}`,
  /** The facilitator key, read from `#key=…`. */
  key: (room: string) => `colloquy.key.${room}`,
  /** The join code, read from `#code=…`. */
  code: (room: string) => `colloquy.code.${room}`,
  /** The invite URL, kept by the landing page after creating a room (shown to the facilitator). */
  invite: (room: string) => `colloquy.invite.${room}`,
  /** This member's votes for released prompts (1.3): JSON `{member, prompts}`. */
  votes: (room: string) => `colloquy.votes.${room}`,
  /** The climate-check audits this member answered (1.3): JSON `{member, audits}`. */
  audits: (room: string) => `colloquy.audits.${room}`,
};

/** In-memory storage, for tests and for browsers where sessionStorage is unavailable. */
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

let fallback: MemoryStorage | undefined;

/** The tab's sessionStorage, or an in-memory stand-in when it is blocked (privacy modes). */
export function sessionStore(): StorageLike {
  try {
    const s = globalThis.sessionStorage;
    const probe = 'colloquy.probe';
    s.setItem(probe, '1');
    s.removeItem(probe);
    return s;
  } catch {
    fallback ??= new MemoryStorage();
    return fallback;
  }
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
