// Where the page is: the landing page, a room (by id from the path), or nowhere we know.
// Secrets arrive in the URL fragment (#key=… for the facilitator, #code=… for an invitation,
// #resume=… for a member's own rejoin link); they are moved into storage and removed from the
// address bar at once.

import { MAX_ROOM_CHARS, MAX_SECRET_CHARS } from './protocol';
import { readLayered, rememberIdentity, removeItem, storageKeys, writeItem, type Stores } from './storage';

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

export type FragmentKind = 'resume' | 'key' | 'code';
export type FragmentSecret = { kind: FragmentKind; value: string } | null;

/**
 * Reads `#resume=…` (a member's personal rejoin link), `#key=…` (facilitator link) or `#code=…`
 * (invite link); with several, the first of that order wins.
 */
export function parseFragment(hash: string): FragmentSecret {
  const text = hash.startsWith('#') ? hash.slice(1) : hash;
  if (!text) return null;
  const params = new URLSearchParams(text);
  for (const kind of ['resume', 'key', 'code'] as const) {
    const value = params.get(kind);
    if (value && [...value].length <= MAX_SECRET_CHARS) return { kind, value };
  }
  return null;
}

/**
 * Moves a secret from the fragment into storage (storage.ts). A key or code goes to the tab (the
 * tab joins with what it was opened with: the other kind is dropped from the tab) and to the
 * browser (both kinds kept there). A rejoin link's token becomes the tab's and the browser's
 * identity for the room. No stored identity is dropped: the room page asks "Not you?".
 * Returns the kind taken, or null when the fragment held no secret.
 */
export function storeFragmentSecret(stores: Stores, roomId: string, hash: string): FragmentKind | null {
  const secret = parseFragment(hash);
  if (!secret) return null;
  if (secret.kind === 'resume') {
    if (readLayered(stores, storageKeys.resume(roomId)) !== secret.value) rememberIdentity(stores, roomId, secret.value, null);
    return 'resume';
  }
  const other = secret.kind === 'key' ? 'code' : 'key';
  writeItem(stores.tab, storageKeys[secret.kind](roomId), secret.value);
  removeItem(stores.tab, storageKeys[other](roomId));
  writeItem(stores.device, storageKeys[secret.kind](roomId), secret.value);
  return secret.kind;
}

/** The personal rejoin link of a member: opening it elsewhere continues as that member there. */
export function rejoinLink(roomId: string, token: string, origin: string): string {
  return `${origin}/room/${encodeURIComponent(roomId)}#resume=${encodeURIComponent(token)}`;
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
 * Where a pasted invite (or facilitator, or rejoin) link leads: its address when it is an http(s)
 * link to a room with `#code=…`, `#key=…` or `#resume=…`, else null. A path alone ("/room/x#code=y") is taken on `origin`.
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
