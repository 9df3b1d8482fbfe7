// WebSocket basics: welcome first, ping, framing limits (protocol/README.md#transport-and-framing).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoom } from '../lib/api.js';
import { joinFacilitator, probeSnapshot } from '../lib/room.js';
import { startServer, type RunningServer } from '../lib/server.js';
import { TestClient } from '../lib/ws-client.js';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('welcome', () => {
  it('is the first frame: protocol 1, server, server_time, max_frame_bytes 65536', async () => {
    const before = Date.now();
    const c = await TestClient.connect(server.wsUrl, 'w');
    const w = await c.welcome();
    const after = Date.now();
    expect(c.received[0]!.frame).toBe(w);
    expect(c.received[0]!.binary).toBe(false);
    expect(w).toMatchObject({ type: 'welcome', protocol: 1, max_frame_bytes: 65536 });
    expect(typeof w.server).toBe('string');
    expect(w.server).toMatch(/^colloquy\//);
    expect(Number.isInteger(w.server_time)).toBe(true);
    expect(w.server_time).toBeGreaterThanOrEqual(before - 1_000);
    expect(w.server_time).toBeLessThanOrEqual(after + 1_000);
    expect(w).not.toHaveProperty('id');
    await c.close();
  });

  it('is sent once, before anything else, even when a command is sent at once', async () => {
    const c = await TestClient.connect(server.wsUrl, 'w2');
    const reply = c.send({ type: 'ping', id: 'early' });
    await c.welcome();
    await reply;
    expect(c.received[0]!.frame.type).toBe('welcome');
    expect(c.received.filter((r) => r.frame.type === 'welcome')).toHaveLength(1);
    await c.close();
  });
});

describe('ping', () => {
  it('replies with the same id and server_time close to the local clock', async () => {
    const c = await TestClient.connectWelcomed(server.wsUrl, 'p');
    const before = Date.now();
    const reply = await c.send({ type: 'ping', id: 'ping-1' });
    const after = Date.now();
    expect(reply).toMatchObject({ type: 'reply', id: 'ping-1' });
    expect(Object.keys(reply.result)).toContain('server_time');
    expect(Number.isInteger(reply.result.server_time)).toBe(true);
    expect(reply.result.server_time).toBeGreaterThanOrEqual(before - 100);
    expect(reply.result.server_time).toBeLessThanOrEqual(after + 100);
    await c.close();
  });

  it('answers many pings in order, each with its own id', async () => {
    const c = await TestClient.connectWelcomed(server.wsUrl, 'pp');
    const ids = Array.from({ length: 20 }, (_, i) => `n${i}`);
    const replies = await Promise.all(ids.map((id) => c.send({ type: 'ping', id })));
    expect(replies.map((r) => r.id)).toEqual(ids);
    const order = c.received.filter((r) => r.frame.type === 'reply').map((r) => r.frame.id);
    expect(order).toEqual(ids);
    await c.close();
  });

  it('works before and after joining a room', async () => {
    const room = await createRoom(server.baseUrl, 'Ping room');
    const fac = await joinFacilitator(server.wsUrl, room);
    await fac.client.ping();
    await fac.client.close();
  });
});

describe('frame size', () => {
  it('accepts a frame of exactly 65,536 bytes (it is read; here it fails as unknown_field)', async () => {
    const c = await TestClient.connectWelcomed(server.wsUrl, 'big-ok');
    const head = '{"type":"ping","id":"edge","pad":"';
    const tail = '"}';
    const frame = head + 'a'.repeat(65_536 - head.length - tail.length) + tail;
    expect(Buffer.byteLength(frame)).toBe(65_536);
    c.sendRaw(frame);
    const err = await c.nextResponse();
    expect(err).toMatchObject({ type: 'error', id: 'edge', code: 'unknown_field' });
    await c.ping();
    expect(c.isOpen).toBe(true);
    await c.close();
  });

  it('closes the connection with 1009 frame_too_large on a frame over 64 KiB; the room is unchanged', async () => {
    const room = await createRoom(server.baseUrl, 'Big frames');
    const fac = await joinFacilitator(server.wsUrl, room);
    const seq = fac.result.snapshot.seq;
    const c = await TestClient.connectWelcomed(server.wsUrl, 'too-big');
    c.sendRaw(JSON.stringify({ type: 'ping', id: 'huge', pad: 'a'.repeat(70_000) }));
    const closed = await c.waitClosed();
    expect(closed).toEqual({ code: 1009, reason: 'frame_too_large' });
    expect(c.received.filter((r) => r.frame.type !== 'welcome')).toEqual([]);
    await fac.client.expectNoFrame(300);
    const { snapshot } = await probeSnapshot(server.wsUrl, room);
    expect(snapshot.seq).toBe(seq + 1);
    expect(snapshot.members).toHaveLength(2);
    // The server keeps serving others.
    await fac.client.ping();
  });

  it('closes a joined member with 1009 too, and the others see only that its connection was lost', async () => {
    const room = await createRoom(server.baseUrl, 'Big frames 2');
    const fac = await joinFacilitator(server.wsUrl, room);
    const c = await TestClient.connectWelcomed(server.wsUrl, 'member-too-big');
    const joined = await c.request({ type: 'join', room: room.room, code: room.join_code, name: 'Ada' });
    await fac.client.nextEvent((e) => e.event.kind === 'member_joined');
    c.sendRaw('x'.repeat(70_000));
    expect(await c.waitClosed()).toEqual({ code: 1009, reason: 'frame_too_large' });
    const lost = await fac.client.nextEvent();
    expect(lost.event).toEqual({ kind: 'member_connection_lost', member_id: joined.member.id });
  });
});
