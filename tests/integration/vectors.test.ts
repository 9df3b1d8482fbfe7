// The shared conformance vectors (protocol/vectors/commands.json) against the live server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadVectors } from '../lib/schemas.js';
import { startServer, type RunningServer } from '../lib/server.js';
import { TestClient } from '../lib/ws-client.js';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

const cases = loadVectors('commands');
const invalid = cases.filter((c) => !c.valid);
const valid = cases.filter((c) => c.valid);

/** Codes that mean the server's decoder rejected a frame the vectors call valid. */
const DECODE_CODES = ['bad_json', 'bad_frame', 'unknown_type', 'missing_field', 'invalid_field', 'unknown_field', 'invalid_name'];

describe('commands.json: invalid frames', () => {
  it('has cases', () => {
    expect(invalid.length).toBeGreaterThan(10);
  });

  it.each(invalid)('$name -> $code (id $id)', async (c) => {
    const client = await TestClient.connectWelcomed(server.wsUrl, 'vector');
    client.sendRaw(c.frame);
    const err = await client.nextResponse();
    expect(err).toMatchObject({ type: 'error', code: c.code });
    expect(err.id).toStrictEqual(c.id);
    await client.ping();
    await client.close();
  });
});

describe('commands.json: valid frames are decoded', () => {
  it.each(valid)('$name ($type) passes the decoder', async (c) => {
    const client = await TestClient.connectWelcomed(server.wsUrl, 'vector');
    client.sendRaw(c.frame);
    const res = await client.nextResponse();
    const id = JSON.parse(c.frame).id;
    expect(res.id).toBe(id);
    if (res.type === 'error') expect(DECODE_CODES, `${c.name}: ${JSON.stringify(res)}`).not.toContain(res.code);
    // What the live server must answer, given that the vector room does not exist and the
    // connection has not joined.
    if (c.type === 'join') expect(res).toMatchObject({ type: 'error', code: 'room_not_found' });
    if (c.type === 'leave') expect(res).toMatchObject({ type: 'error', code: 'not_joined' });
    if (c.type === 'ping') expect(res).toMatchObject({ type: 'reply', result: { server_time: expect.any(Number) } });
    await client.close();
  });
});
