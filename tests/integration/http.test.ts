// HTTP API and static files (protocol/README.md#http-api).
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoom, httpRequest, postRoom, type HttpResult } from '../lib/api.js';
import { joinFacilitator } from '../lib/room.js';
import { check } from '../lib/schemas.js';
import { startServer, staticDir, type RunningServer } from '../lib/server.js';
import { TestClient } from '../lib/ws-client.js';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

const SECRET = /^[A-Za-z0-9_-]{22}$/;

function expectApiError(res: HttpResult, status: number, code: string) {
  expect({ status: res.status, body: res.json }, res.text).toMatchObject({ status, body: { error: { code } } });
  expect(check('http-error', res.json)).toBeNull();
  expect(typeof res.json.error.message).toBe('string');
  expect(String(res.headers['content-type'])).toMatch(/^application\/json/);
}

describe('GET /healthz', () => {
  it('answers 200 with status, version, rooms and connections', async () => {
    const res = await httpRequest(server.baseUrl, { path: '/healthz' });
    expect(res.status).toBe(200);
    expect(String(res.headers['content-type'])).toMatch(/^application\/json/);
    expect(res.json).toMatchObject({ status: 'ok' });
    expect(typeof res.json.version).toBe('string');
    expect(res.json.version.length).toBeGreaterThan(0);
    expect(Number.isInteger(res.json.rooms)).toBe(true);
    expect(Number.isInteger(res.json.connections)).toBe(true);
  });

  it('counts rooms and WebSocket connections', async () => {
    const before = (await httpRequest(server.baseUrl, { path: '/healthz' })).json;
    await createRoom(server.baseUrl, 'Counted');
    const a = await TestClient.connectWelcomed(server.wsUrl, 'a');
    const b = await TestClient.connectWelcomed(server.wsUrl, 'b');
    const during = (await httpRequest(server.baseUrl, { path: '/healthz' })).json;
    expect(during.rooms).toBe(before.rooms + 1);
    expect(during.connections).toBe(before.connections + 2);
    await a.close();
    await b.close();
    // The count drops once the server has seen the closes.
    const deadline = Date.now() + 3_000;
    let after = during;
    while (Date.now() < deadline) {
      after = (await httpRequest(server.baseUrl, { path: '/healthz' })).json;
      if (after.connections === before.connections) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(after.connections).toBe(before.connections);
  });
});

describe('POST /api/rooms', () => {
  it('creates a room: 201 with ids, 22-character base64url secrets and URLs built from Host', async () => {
    const res = await postRoom(server.baseUrl, { title: 'Spring cohort' }, {
      'Content-Type': 'application/json',
      Host: 'colloquy.example:8443',
    });
    expect(res.status, res.text).toBe(201);
    expect(String(res.headers['content-type'])).toMatch(/^application\/json/);
    const body = res.json;
    expect(check('create-room-response', body)).toBeNull();
    expect(body.title).toBe('Spring cohort');
    expect(body.room).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(body.facilitator_key).toMatch(SECRET);
    expect(body.join_code).toMatch(SECRET);
    expect(body.facilitator_key).not.toBe(body.join_code);
    expect(body.facilitator_url).toBe(`http://colloquy.example:8443/room/${body.room}#key=${body.facilitator_key}`);
    expect(body.invite_url).toBe(`http://colloquy.example:8443/room/${body.room}#code=${body.join_code}`);
  });

  it('uses https:// when X-Forwarded-Proto is https', async () => {
    const res = await postRoom(server.baseUrl, { title: 'Behind a proxy' }, {
      'Content-Type': 'application/json',
      Host: 'rooms.example.org',
      'X-Forwarded-Proto': 'https',
    });
    expect(res.status, res.text).toBe(201);
    expect(res.json.facilitator_url).toBe(`https://rooms.example.org/room/${res.json.room}#key=${res.json.facilitator_key}`);
    expect(res.json.invite_url).toBe(`https://rooms.example.org/room/${res.json.room}#code=${res.json.join_code}`);
  });

  it('gives every room its own id and secrets', async () => {
    const a = await createRoom(server.baseUrl, 'A');
    const b = await createRoom(server.baseUrl, 'B');
    expect(a.room).not.toBe(b.room);
    expect(a.facilitator_key).not.toBe(b.facilitator_key);
    expect(a.join_code).not.toBe(b.join_code);
  });

  it('trims the title and accepts 120 characters (and a JSON media type with charset)', async () => {
    const trimmed = await postRoom(server.baseUrl, { title: '  Spring cohort  ' });
    expect(trimmed.status, trimmed.text).toBe(201);
    expect(trimmed.json.title).toBe('Spring cohort');
    const long = 'é'.repeat(120);
    const res = await postRoom(server.baseUrl, { title: long }, { 'Content-Type': 'application/json; charset=utf-8' });
    expect(res.status, res.text).toBe(201);
    expect(res.json.title).toBe(long);
  });

  it('rejects a body that is not JSON: 400 bad_json', async () => {
    expectApiError(await postRoom(server.baseUrl, '{"title": "x",'), 400, 'bad_json');
    expectApiError(await postRoom(server.baseUrl, ''), 400, 'bad_json');
  });

  it('rejects a missing title: 400 missing_field', async () => {
    expectApiError(await postRoom(server.baseUrl, {}), 400, 'missing_field');
  });

  it('rejects an extra field: 400 unknown_field', async () => {
    expectApiError(await postRoom(server.baseUrl, { title: 'x', color: 'red' }), 400, 'unknown_field');
  });

  it.each([
    ['empty', ''],
    ['white space only', '   \t '],
    ['121 characters', 'a'.repeat(121)],
    ['a control character', 'Spring\u0007cohort'],
    ['a newline', 'Spring\ncohort'],
  ])('rejects a title that is %s: 400 invalid_title', async (_what, title) => {
    expectApiError(await postRoom(server.baseUrl, { title }), 400, 'invalid_title');
  });

  it('rejects a body without Content-Type or with another media type: 415 unsupported_media_type', async () => {
    const body = JSON.stringify({ title: 'x' });
    expectApiError(await postRoom(server.baseUrl, body, {}), 415, 'unsupported_media_type');
    expectApiError(await postRoom(server.baseUrl, body, { 'Content-Type': 'text/plain' }), 415, 'unsupported_media_type');
    expectApiError(
      await postRoom(server.baseUrl, 'title=x', { 'Content-Type': 'application/x-www-form-urlencoded' }),
      415,
      'unsupported_media_type',
    );
  });

  it('rejects a body over 64 KiB: 413 payload_too_large', async () => {
    const body = JSON.stringify({ title: 'x', pad: 'a'.repeat(70_000) });
    expectApiError(await postRoom(server.baseUrl, body), 413, 'payload_too_large');
    // The server still answers afterwards.
    expect((await httpRequest(server.baseUrl, { path: '/healthz' })).status).toBe(200);
  });

  it('rejects GET /api/rooms: 405 method_not_allowed', async () => {
    expectApiError(await httpRequest(server.baseUrl, { path: '/api/rooms' }), 405, 'method_not_allowed');
  });

  it('answers an unknown API path with 404 not_found', async () => {
    expectApiError(await httpRequest(server.baseUrl, { path: '/api/x' }), 404, 'not_found');
    expectApiError(await httpRequest(server.baseUrl, { method: 'POST', path: '/api/x', headers: { 'Content-Type': 'application/json' }, body: '{}' }), 404, 'not_found');
  });

  it('changes nothing on a failed create (the room count stays)', async () => {
    const before = (await httpRequest(server.baseUrl, { path: '/healthz' })).json.rooms;
    await postRoom(server.baseUrl, { title: '' });
    await postRoom(server.baseUrl, '{');
    await postRoom(server.baseUrl, { title: 'x', extra: 1 });
    const after = (await httpRequest(server.baseUrl, { path: '/healthz' })).json.rooms;
    expect(after).toBe(before);
  });
});

describe('POST /api/rooms/{id}/invite-check', () => {
  const inviteCheck = (room: string, body: unknown, opts: { method?: string; type?: string } = {}) =>
    httpRequest(server.baseUrl, {
      method: opts.method ?? 'POST',
      path: `/api/rooms/${room}/invite-check`,
      headers: { 'Content-Type': opts.type ?? 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('answers 200 with the room title and the role the link gives, and echoes no secret', async () => {
    const room = await createRoom(server.baseUrl, 'Spring cohort, session 3');
    const asMember = await inviteCheck(room.room, { code: room.join_code });
    expect(asMember.status, asMember.text).toBe(200);
    expect(asMember.json).toEqual({ room: room.room, title: 'Spring cohort, session 3', role: 'participant' });
    expect(asMember.headers['cache-control']).toBe('no-store');
    const asFacilitator = await inviteCheck(room.room, { key: room.facilitator_key });
    expect(asFacilitator.json).toMatchObject({ role: 'facilitator' });
    for (const res of [asMember, asFacilitator]) {
      expect(res.text).not.toContain(room.join_code);
      expect(res.text).not.toContain(room.facilitator_key);
    }
    expect(server.stderr()).not.toContain(room.join_code);
  });

  it('a wrong secret is 403 bad_credentials whichever it is; an unknown or closed room is 404 room_not_found', async () => {
    const room = await createRoom(server.baseUrl, 'Checked');
    const other = await createRoom(server.baseUrl, 'Other');
    for (const body of [
      { code: room.facilitator_key },
      { key: room.join_code },
      { code: other.join_code },
      { code: room.join_code.slice(0, -1) + (room.join_code.endsWith('A') ? 'B' : 'A') },
    ]) {
      expectApiError(await inviteCheck(room.room, body), 403, 'bad_credentials');
    }
    expectApiError(await inviteCheck('nosuchroom000000', { code: room.join_code }), 404, 'room_not_found');

    const grace = await joinFacilitator(server.wsUrl, room);
    await grace.client.request({ type: 'room_close' });
    expect(await grace.client.closed).toEqual({ code: 4004, reason: 'room_closed' });
    expectApiError(await inviteCheck(room.room, { code: room.join_code }), 404, 'room_not_found');
  });

  it('checks changes nothing: the room has no member afterwards and a join still makes the first', async () => {
    const room = await createRoom(server.baseUrl, 'Unchanged');
    for (let i = 0; i < 3; i++) await inviteCheck(room.room, { code: room.join_code });
    const grace = await joinFacilitator(server.wsUrl, room);
    expect(grace.result.snapshot.members).toHaveLength(1);
    expect(grace.result.snapshot.seq).toBe(2);
    await grace.client.close();
  });

  it('refuses bad requests with their code and never answers GET', async () => {
    const room = await createRoom(server.baseUrl, 'Strict');
    expectApiError(await inviteCheck(room.room, '{'), 400, 'bad_json');
    expectApiError(await inviteCheck(room.room, {}), 400, 'missing_field');
    expectApiError(await inviteCheck(room.room, { code: room.join_code, key: room.facilitator_key }), 400, 'invalid_field');
    expectApiError(await inviteCheck(room.room, { code: room.join_code, name: 'Ada' }), 400, 'unknown_field');
    expectApiError(await inviteCheck(room.room, { code: '' }), 400, 'invalid_field');
    expectApiError(await inviteCheck(room.room, { code: 'c'.repeat(129) }), 400, 'invalid_field');
    expectApiError(await inviteCheck(room.room, { code: room.join_code }, { type: 'text/plain' }), 415, 'unsupported_media_type');
    const get = await httpRequest(server.baseUrl, { path: `/api/rooms/${room.room}/invite-check?code=${room.join_code}` });
    expectApiError(get, 405, 'method_not_allowed');
    expect(get.headers.allow).toBe('POST');
  });

  it('counts toward the per-address HTTP rate limit like any request', async () => {
    const limited = await startServer({ args: ['--max-http-requests-per-second', '1'] });
    try {
      // The burst is twice the rate: two requests pass, the third within the second is refused.
      const room = await createRoom(limited.baseUrl, 'Limited');
      const check = () =>
        httpRequest(limited.baseUrl, {
          method: 'POST',
          path: `/api/rooms/${room.room}/invite-check`,
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ code: room.join_code }),
        });
      const results = [await check(), await check()];
      expect(results.map((r) => r.status)).toContain(429);
      const refused = results.find((r) => r.status === 429)!;
      expectApiError(refused, 429, 'rate_limited');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    } finally {
      await limited.stop();
    }
  });
});

describe('--max-rooms', () => {
  it('answers 503 server_full once the server holds its maximum of rooms', async () => {
    const small = await startServer({ args: ['--max-rooms', '1'] });
    try {
      expect((await postRoom(small.baseUrl, { title: 'first' })).status).toBe(201);
      expectApiError(await postRoom(small.baseUrl, { title: 'second' }), 503, 'server_full');
    } finally {
      await small.stop();
    }
  });
});

describe('static files (the built web client)', () => {
  it('the client build exists (client-web/dist or COLLOQUY_STATIC_DIR)', () => {
    expect(existsSync(path.join(staticDir, 'index.html')), `${staticDir}/index.html`).toBe(true);
  });

  it.each(['/', '/room/abc'])('GET %s serves the page as text/html with CSP and nosniff', async (p) => {
    const res = await httpRequest(server.baseUrl, { path: p });
    expect(res.status).toBe(200);
    expect(String(res.headers['content-type'])).toMatch(/^text\/html/);
    expect(res.headers['content-security-policy'], 'Content-Security-Policy header').toBeTruthy();
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.text).toMatch(/<html/i);
  });

  it('serves /room/<id> the same page as /', async () => {
    const root = await httpRequest(server.baseUrl, { path: '/' });
    const room = await httpRequest(server.baseUrl, { path: '/room/k3j5q2m7x4c8a9bd' });
    expect(room.status).toBe(200);
    expect(room.text).toBe(root.text);
  });

  it('serves a built asset with its content type', async () => {
    const assets = path.join(staticDir, 'assets');
    const js = existsSync(assets) ? readdirSync(assets).find((f) => f.endsWith('.js')) : undefined;
    expect(js, `a .js file in ${assets}`).toBeTruthy();
    const res = await httpRequest(server.baseUrl, { path: `/assets/${js}` });
    expect(res.status).toBe(200);
    expect(String(res.headers['content-type'])).toMatch(/^(text|application)\/javascript/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it.each([
    '/..%2f..%2fetc/passwd',
    '/assets/../../README.md',
    '/../../etc/passwd',
    '/assets/..%2f..%2f..%2fREADME.md',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/assets/%2e%2e%2f%2e%2e%2fCMakeLists.txt',
  ])('does not escape the static root: GET %s -> 404', async (p) => {
    const res = await httpRequest(server.baseUrl, { path: p });
    expect(res.status).toBe(404);
    expect(res.text).not.toMatch(/root:.*:0:0:/);
    expect(res.text).not.toMatch(/# Colloquy|cmake_minimum_required/);
  });

  it('answers an unknown path with 404', async () => {
    expect((await httpRequest(server.baseUrl, { path: '/nope' })).status).toBe(404);
    expect((await httpRequest(server.baseUrl, { path: '/assets/nope.js' })).status).toBe(404);
  });

  const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

  it.each(['/nope', '/rooms/abc', '/assets/nope.html', '/../../etc/passwd'])(
    'a browser asking for an unknown page %s gets the client page (its "Page not found") with 404',
    async (p) => {
      const page = await httpRequest(server.baseUrl, { path: '/' });
      const res = await httpRequest(server.baseUrl, { path: p, headers: { Accept: BROWSER_ACCEPT } });
      expect(res.status).toBe(404);
      expect(String(res.headers['content-type'])).toMatch(/^text\/html/);
      expect(res.headers['content-security-policy']).toBe(page.headers['content-security-policy']);
      expect(res.text).toBe(page.text);
      const head = await httpRequest(server.baseUrl, { method: 'HEAD', path: p, headers: { Accept: BROWSER_ACCEPT } });
      expect(head.status).toBe(404);
      expect(head.text).toBe('');
    },
  );

  it('other clients, and every unknown /api/ path, keep the JSON 404', async () => {
    for (const accept of [undefined, '*/*', 'application/json']) {
      const res = await httpRequest(server.baseUrl, { path: '/nope', headers: accept ? { Accept: accept } : {} });
      expectApiError(res, 404, 'not_found');
    }
    expectApiError(await httpRequest(server.baseUrl, { path: '/api/nope', headers: { Accept: BROWSER_ACCEPT } }), 404, 'not_found');
    expectApiError(await httpRequest(server.baseUrl, { path: '/api/rooms/x/nope', headers: { Accept: BROWSER_ACCEPT } }), 404, 'not_found');
  });
});
