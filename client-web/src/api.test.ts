import { describe, expect, it } from 'vitest';
import { createRoom } from './api';

// The browser's fetch, answered as the server answers (see tests/integration/limits.test.ts for the real one).
function answering(status: number, body: unknown, seen: RequestInit[] = []): typeof fetch {
  return (async (_url: RequestInfo | URL, init?: RequestInit) => {
    seen.push(init ?? {});
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
