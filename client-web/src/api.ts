// The HTTP API: creating a room.
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
