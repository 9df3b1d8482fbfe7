// Limits a client cannot talk its way past (protocol/README.md#limits): each holds at its cap, gives
// its documented error, changes nothing beyond the cap, and never slows down anyone else.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoom, getJson, wsUpgrade } from '../lib/api.js';
import { startRedis } from '../lib/redis.js';
import { TestClient } from '../lib/ws-client.js';
import { joinFacilitator, joinParticipant, sleep } from '../lib/room.js';
import { startServer, type RunningServer } from '../lib/server.js';

let server: RunningServer;

beforeAll(async () => {
  server = await startServer({ args: ['--max-commands-per-second', '10'] });
});
afterAll(async () => {
  await server?.stop();
});

describe('commands a second, per connection', () => {
  it('a flood gets rate_limited past the burst, changes nothing past it, and another room stays responsive', async () => {
    const room = await createRoom(server.baseUrl, 'Flooded');
    const watcher = await joinFacilitator(server.wsUrl, room);
    const flooder = await joinParticipant(server.wsUrl, room, 'Flood');
    await watcher.client.nextEvent();
    const calm = await createRoom(server.baseUrl, 'Calm');
    const other = await joinParticipant(server.wsUrl, calm, 'Calm');

    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => flooder.client.send({ type: i % 2 ? 'hand_lower' : 'hand_raise' })),
    );
    const seconds = (performance.now() - started) / 1000;
    const pings: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await other.client.send({ type: 'ping' });
      pings.push(performance.now() - t);
    }
    const accepted = answers.filter((a) => a.type === 'reply').length;
    const limited = answers.filter((a) => a.type === 'error' && a.code === 'rate_limited').length;
    console.log(`60 commands in ${(seconds * 1000).toFixed(0)} ms: ${accepted} accepted, ${limited} rate_limited; ` +
      `another room's ping ${Math.max(...pings).toFixed(1)} ms at most`);
    expect(accepted + limited).toBe(60);
    // The burst is twice the rate; the join took one of those 20 tokens.
    expect(accepted).toBeGreaterThanOrEqual(19);
    expect(accepted).toBeLessThanOrEqual(19 + Math.ceil(seconds * 10) + 1);
    expect(Math.max(...pings)).toBeLessThan(250);
    // Exactly the accepted commands changed the room.
    await sleep(200);
    const events = watcher.client.events().filter((e) => e.event.kind === 'hand_raised' || e.event.kind === 'hand_lowered');
    expect(events.length).toBe(accepted);

    // A second later the connection may send again.
    await sleep(1100);
    expect((await flooder.client.send({ type: 'ping' })).type).toBe('reply');
    const again = await flooder.client.send({ type: 'hand_raise' });
    expect(again.type === 'reply' || again.code === 'hand_already_raised').toBe(true);
  });
});

describe('room lifetime', () => {
  it('a room nobody joined is removed after --room-unjoined-seconds, also from the data directory', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'colloquy-lifetime-'));
    try {
      const short = await startServer({ args: ['--room-unjoined-seconds', '1'], dataDir });
      const nobody = await createRoom(short.baseUrl, 'Nobody came');
      const used = await createRoom(short.baseUrl, 'In use');
      const member = await joinParticipant(short.wsUrl, used, 'Ada');
      await sleep(1600);
      const late = await TestClient.connectWelcomed(short.wsUrl, 'late');
      expect(await late.send({ type: 'join', room: nobody.room, code: nobody.join_code, name: 'Late' })).toMatchObject({
        type: 'error', code: 'room_not_found',
      });
      expect((await getJson(short.baseUrl, '/healthz')).json.rooms).toBe(1);
      expect(short.stderr()).toContain(`room ${nobody.room} removed: nobody joined it`);
      member.client.terminate();
      await short.stop();
      // Removed for good: a restart on the same data directory does not bring it back.
      const again = await startServer({ dataDir });
      expect((await getJson(again.baseUrl, '/healthz')).json.rooms).toBe(1);
      await again.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('in scale-out a room lives in Redis a day until someone joins, then --room-idle-seconds after each change', async () => {
    const redis = await startRedis();
    const scaled = await startServer({ args: ['--redis', redis.url, '--room-idle-seconds', '3600'] });
    try {
      const room = await createRoom(scaled.baseUrl, 'Expiring');
      const ttl = async () => Number(await redis.cli('TTL', `colloquy:room:{${room.room}}:meta`));
      expect(await ttl()).toBeGreaterThan(86_000);
      expect(await ttl()).toBeLessThanOrEqual(86_400);
      await joinParticipant(scaled.wsUrl, room, 'Ada');
      expect(await ttl()).toBeGreaterThan(3500);
      expect(await ttl()).toBeLessThanOrEqual(3600);
      expect(Number(await redis.cli('TTL', `colloquy:room:{${room.room}}:log`))).toBeLessThanOrEqual(3600);
    } finally {
      await scaled.stop();
      await redis.stop();
    }
  });
});

describe('connections that never join', () => {
  it('are closed with 4002 join_timeout after --join-timeout-seconds; members who joined stay', async () => {
    const s = await startServer({ args: ['--join-timeout-seconds', '1'] });
    try {
      const room = await createRoom(s.baseUrl, 'Waiting room');
      const idle = await Promise.all(Array.from({ length: 20 }, (_, i) => TestClient.connectWelcomed(s.wsUrl, `idle-${i}`)));
      const member = await joinParticipant(s.wsUrl, room, 'Ada');
      const closes = await Promise.all(idle.map((c) => c.closed));
      for (const close of closes) expect(close).toEqual({ code: 4002, reason: 'join_timeout' });
      await sleep(500);
      expect(member.client.isOpen).toBe(true);
      expect((await member.client.send({ type: 'ping' })).type).toBe('reply');
      expect((await getJson(s.baseUrl, '/healthz')).json.connections).toBe(1);
    } finally {
      await s.stop();
    }
  });
});

/** A browser-like WebSocket upgrade from the server's own loopback origin. */
function upgrade(baseUrl: string) {
  const port = Number(new URL(baseUrl).port);
  return wsUpgrade(port, { Origin: `http://127.0.0.1:${port}` });
}

describe('connections per address and in all', () => {
  it('past --max-connections-per-address a WebSocket gets 429 too_many_connections; /healthz and others are untouched', async () => {
    const s = await startServer({ args: ['--max-connections-per-address', '3'] });
    try {
      const room = await createRoom(s.baseUrl, 'Crowded');
      const members = await Promise.all([0, 1, 2].map((i) => joinParticipant(s.wsUrl, room, `M${i}`)));
      const refused = await upgrade(s.baseUrl);
      expect(refused.status).toBe(429);
      expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'too_many_connections' } });
      expect((await getJson(s.baseUrl, '/healthz')).status).toBe(200);
      const t = performance.now();
      expect((await members[0]!.client.send({ type: 'ping' })).type).toBe('reply');
      console.log(`a member's ping at the per-address cap: ${(performance.now() - t).toFixed(1)} ms`);
      // A place freed is a place again.
      members[2]!.client.terminate();
      await members[2]!.client.closed;
      await sleep(100);
      const again = await upgrade(s.baseUrl);
      expect(again.status).toBe(101);
      again.socket?.destroy();
    } finally {
      await s.stop();
    }
  });

  it('past --max-connections only /healthz and /readyz are answered; a freed place admits members again', async () => {
    const s = await startServer({ args: ['--max-connections', '16'] });
    const held: net.Socket[] = [];
    try {
      const room = await createRoom(s.baseUrl, 'Full house');
      const member = await joinParticipant(s.wsUrl, room, 'Ada');
      // 15 idle sockets take the remaining places (the member holds one).
      for (let i = 0; i < 15; i++) {
        const socket = net.connect(Number(new URL(s.baseUrl).port), '127.0.0.1');
        await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
        held.push(socket);
      }
      await sleep(100);
      const refused = await upgrade(s.baseUrl);
      expect(refused.status).toBe(503);
      expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'server_full' } });
      const health = await getJson(s.baseUrl, '/healthz');
      expect(health.status).toBe(200);
      expect((await getJson(s.baseUrl, '/readyz')).status).toBe(200);
      const t = performance.now();
      expect((await member.client.send({ type: 'ping' })).type).toBe('reply');
      console.log(`at the total cap: /healthz answered, a member's ping ${(performance.now() - t).toFixed(1)} ms`);
      held.pop()!.destroy();
      await sleep(100);
      const late = await joinParticipant(s.wsUrl, room, 'Late');
      expect(late.client.isOpen).toBe(true);
    } finally {
      for (const socket of held) socket.destroy();
      await s.stop();
    }
  });
});
