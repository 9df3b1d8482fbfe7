// The HTTP API: creating a room, checking an invitation before asking for a name.
import type { CreateRoomResponse } from './protocol';

export type CreateRoomOutcome =
  | { ok: true; room: CreateRoomResponse }
  | { ok: false; code: string; message: string; retryAfterMs?: number };

function isCreateRoomResponse(v: unknown): v is CreateRoomResponse {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return ['room', 'title', 'facilitator_key', 'join_code', 'facilitator_url', 'invite_url'].every(
    (k) => typeof o[k] === 'string',
  );
}

/** Creates a room; `token` is the operator's creation token, when the server asks for one. */
export async function createRoom(title: string, fetchFn: typeof fetch = fetch, token?: string): Promise<CreateRoomOutcome> {
  let response: Response;
  const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  try {
    response = await fetchFn('/api/rooms', {
      method: 'POST',
      headers,
      body: JSON.stringify({ title }),
      credentials: 'same-origin',
    });
  } catch {
    return { ok: false, code: 'network', message: 'Could not reach the server.' };
  }
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (response.status === 201 && isCreateRoomResponse(body)) return { ok: true, room: body };
  const error = (body as { error?: { code?: unknown; message?: unknown; retry_after_ms?: unknown } } | null)?.error;
  const code = typeof error?.code === 'string' ? error.code : 'internal';
  const message = typeof error?.message === 'string' ? error.message : `The server answered ${response.status}.`;
  const retry = error?.retry_after_ms;
  return typeof retry === 'number' && retry > 0 ? { ok: false, code, message, retryAfterMs: retry } : { ok: false, code, message };
}

/** What an invitation opens (the join form shows the title), or why it does not. */
export type InviteCheckOutcome =
  | { ok: true; title: string; role: 'facilitator' | 'participant' }
  /** The server's answer: the link is wrong (`bad_credentials`) or the room is gone (`room_not_found`). */
  | { ok: false; refused: true; code: 'bad_credentials' | 'room_not_found'; message: string }
  /** Anything else (network, limits, an older server without the check): the join itself will tell. */
  | { ok: false; refused: false; code: string; message: string };

/**
 * POST /api/rooms/{id}/invite-check with the key or code in the body (never in the URL): whether
 * the invite link works, before the page asks for a name.
 */
export async function checkInvite(
  roomId: string,
  secret: { key: string } | { code: string },
  fetchFn: typeof fetch = fetch,
): Promise<InviteCheckOutcome> {
  let response: Response;
  try {
    response = await fetchFn(`/api/rooms/${encodeURIComponent(roomId)}/invite-check`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(secret),
      credentials: 'same-origin',
    });
  } catch {
    return { ok: false, refused: false, code: 'network', message: 'Could not reach the server.' };
  }
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const o = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (response.status === 200 && typeof o.title === 'string' && (o.role === 'facilitator' || o.role === 'participant')) {
    return { ok: true, title: o.title, role: o.role };
  }
  const error = o.error as { code?: unknown; message?: unknown } | undefined;
  const code = typeof error?.code === 'string' ? error.code : 'internal';
  const message = typeof error?.message === 'string' ? error.message : `The server answered ${response.status}.`;
  if ((response.status === 403 && code === 'bad_credentials') || (response.status === 404 && code === 'room_not_found')) {
    return { ok: false, refused: true, code, message };
  }
  return { ok: false, refused: false, code, message };
}
