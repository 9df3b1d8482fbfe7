import { describe, expect, it } from 'vitest';
import { checkInvite, createRoom } from './api';

// The browser's fetch, answered as the server answers (see tests/integration/limits.test.ts for the real one).
function answering(status: number, body: unknown, seen: RequestInit[] = [], urls: string[] = []): typeof fetch {
  return (async (url: RequestInfo | URL, init?: RequestInit) => {
    seen.push(init ?? {});
    urls.push(String(url));
    return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  }) as typeof fetch;
}

describe('createRoom', () => {
  it('sends the creation token as a bearer token only when there is one', async () => {
    const seen: RequestInit[] = [];
    const refused = answering(401, { error: { code: 'create_token_required', message: 'staff only' } }, seen);
    expect(await createRoom('Spring cohort', refused)).toEqual({ ok: false, code: 'create_token_required', message: 'staff only' });
    await createRoom('Spring cohort', refused, 'staff-token-0123456789');
    expect((seen[0]!.headers as Record<string, string>).Authorization).toBeUndefined();
    expect((seen[1]!.headers as Record<string, string>).Authorization).toBe('Bearer staff-token-0123456789');
  });

  it('says when the server will take another room', async () => {
    const outcome = await createRoom('T', answering(429, { error: { code: 'rate_limited', message: 'later', retry_after_ms: 120000 } }));
    expect(outcome).toEqual({ ok: false, code: 'rate_limited', message: 'later', retryAfterMs: 120000 });
  });
});

describe('checkInvite', () => {
  it('posts the secret in the body, never in the address, and reads the title and role', async () => {
    const seen: RequestInit[] = [];
    const urls: string[] = [];
    const ok = answering(200, { room: 'r1', title: 'Spring cohort', role: 'participant' }, seen, urls);
    expect(await checkInvite('r1', { code: 's3cret-code' }, ok)).toEqual({ ok: true, title: 'Spring cohort', role: 'participant' });
    expect(urls).toEqual(['/api/rooms/r1/invite-check']);
    expect(seen[0]!.method).toBe('POST');
    expect(JSON.parse(seen[0]!.body as string)).toEqual({ code: 's3cret-code' });
  });

  it('tells a refusal (wrong link, no room) from an answer that is none (limits, network, an older server)', async () => {
    expect(await checkInvite('r1', { code: 'x' }, answering(403, { error: { code: 'bad_credentials', message: 'no' } }))).toMatchObject({
      ok: false,
      refused: true,
      code: 'bad_credentials',
    });
    expect(await checkInvite('r1', { key: 'x' }, answering(404, { error: { code: 'room_not_found', message: 'no' } }))).toMatchObject({
      ok: false,
      refused: true,
      code: 'room_not_found',
    });
    for (const [status, body] of [
      [429, { error: { code: 'rate_limited', message: 'later' } }],
      [404, { error: { code: 'not_found', message: 'no such API path' } }],
      [503, { error: { code: 'unavailable', message: 'redis' } }],
      [200, { title: 7 }],
    ] as const) {
      expect(await checkInvite('r1', { code: 'x' }, answering(status, body)), `${status}`).toMatchObject({ ok: false, refused: false });
    }
    const offline = (async () => {
      throw new TypeError('Failed to fetch');
    }) as typeof fetch;
    expect(await checkInvite('r1', { code: 'x' }, offline)).toMatchObject({ ok: false, refused: false, code: 'network' });
  });
});
