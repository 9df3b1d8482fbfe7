// Where the page is: the landing page, a room (by id from the path), or nowhere we know.
// Secrets arrive in the URL fragment (#key=… for the facilitator, #code=… for an invitation);
// they are moved into sessionStorage and removed from the address bar at once.

import { MAX_ROOM_CHARS, MAX_SECRET_CHARS } from './protocol';
import { readItem, removeItem, storageKeys, writeItem, type StorageLike } from './storage';

export type Route = { page: 'landing' } | { page: 'room'; roomId: string } | { page: 'not_found' };

export function parseRoute(pathname: string): Route {
  if (pathname === '/' || pathname === '/index.html' || pathname === '') return { page: 'landing' };
  const m = /^\/room\/([^/]+)\/?$/.exec(pathname);
  if (m) {
    let id: string;
    try {
      id = decodeURIComponent(m[1]!);
    } catch {
      return { page: 'not_found' };
    }
    if (id.length >= 1 && [...id].length <= MAX_ROOM_CHARS) return { page: 'room', roomId: id };
  }
  return { page: 'not_found' };
}

export type FragmentSecret = { kind: 'key' | 'code'; value: string } | null;

/** Reads `#key=…` or `#code=…` (the key wins if both are there). */
export function parseFragment(hash: string): FragmentSecret {
  const text = hash.startsWith('#') ? hash.slice(1) : hash;
  if (!text) return null;
  const params = new URLSearchParams(text);
  for (const kind of ['key', 'code'] as const) {
    const value = params.get(kind);
    if (value && [...value].length <= MAX_SECRET_CHARS) return { kind, value };
  }
  return null;
}

/**
 * Moves a secret from the fragment into storage. A new secret that differs from the one stored
 * replaces it and drops any resume token of the room (it is a different invitation).
 * Returns true when the fragment held something (so the caller removes it from the address bar).
 */
export function storeFragmentSecret(storage: StorageLike, roomId: string, hash: string): boolean {
  const secret = parseFragment(hash);
  if (!secret) return hash.length > 1;
  const other = secret.kind === 'key' ? 'code' : 'key';
  const previous = readItem(storage, storageKeys[secret.kind](roomId));
  if (previous !== secret.value) {
    if (previous !== null || readItem(storage, storageKeys[other](roomId)) !== null) {
      removeItem(storage, storageKeys.resume(roomId));
    }
    writeItem(storage, storageKeys[secret.kind](roomId), secret.value);
  }
  removeItem(storage, storageKeys[other](roomId));
  return true;
}

/** Removes the fragment from the address bar without adding a history entry. */
export function clearFragment(loc: Location = location, hist: History = history): void {
  try {
    hist.replaceState(hist.state, '', loc.pathname + loc.search);
  } catch {
    // Some embedded browsers refuse replaceState; the secret then stays visible, nothing breaks.
  }
}

/**
 * Where a pasted invite (or facilitator) link leads: its address when it is an http(s) link to a
 * room with `#code=…` or `#key=…`, else null. A path alone ("/room/x#code=y") is taken on `origin`.
 */
export function inviteTarget(text: string, origin: string): string | null {
  const t = text.trim();
  if (!t) return null;
  let url: URL;
  try {
    url = new URL(t, origin);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  if (parseRoute(url.pathname).page !== 'room' || parseFragment(url.hash) === null) return null;
  return url.href;
}
