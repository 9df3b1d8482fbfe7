// The room engine (server/README.md): rooms run side by side, storage never holds up a thread that
// serves sockets, and the ephemeral channel never reaches the log. Real redis-servers, real instances.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoom, getJson, type CreatedRoom } from '../lib/api.js';
import { startRedis, type RunningRedis } from '../lib/redis.js';
import { joinParticipant, sleep, type Member } from '../lib/room.js';
import { startServer, type RunningServer } from '../lib/server.js';

describe('a frozen Redis shard', () => {
  let r1: RunningRedis;
  let r2: RunningRedis;
  let x: RunningServer;
  let y: RunningServer;

  beforeAll(async () => {
    [r1, r2] = await Promise.all([startRedis(), startRedis()]);
    const start = () => startServer({ args: ['--redis', `${r1.url},${r2.url}`] });
    [x, y] = await Promise.all([start(), start()]);
  });
  afterAll(async () => {
    await Promise.all([x?.stop(), y?.stop()]);
    await Promise.all([r1?.stop(), r2?.stop()]);
  });

  /** A room kept on the given shard (rooms are placed by id; create until one lands there). */
  async function roomOn(redis: RunningRedis, title: string): Promise<CreatedRoom> {
    for (let i = 0; i < 64; i++) {
      const room = await createRoom(x.baseUrl, `${title} ${i}`);
      if ((await redis.cli('EXISTS', `colloquy:room:{${room.room}}:meta`)) === '1') return room;
    }
    throw new Error('no room landed on the shard');
  }

  async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
    const start = performance.now();
    const value = await f();
    return [value, performance.now() - start];
  }

  it('stalls only its own rooms: ping, /healthz and /readyz answer at once everywhere, other shards carry on', async () => {
    const frozenRoom = await roomOn(r1, 'Frozen');
    const liveRoom = await roomOn(r2, 'Live');
    const frozenA = await joinParticipant(x.wsUrl, frozenRoom, 'Ada');
    const frozenB = await joinParticipant(y.wsUrl, frozenRoom, 'Bo');
    const liveA = await joinParticipant(x.wsUrl, liveRoom, 'Cy');
    const liveB = await joinParticipant(y.wsUrl, liveRoom, 'Di');

    const freeze = r1.freeze(5000);
    await sleep(100);
    // A change in the frozen room waits for its shard...
    const stalled = frozenA.client.send({ type: 'hand_raise' }, 20_000);
    await sleep(100);

    const pings: number[] = [];
    const health: number[] = [];
    const live: number[] = [];
    const deadline = Date.now() + 3000;
    let round = 0;
    while (Date.now() < deadline) {
      for (const member of [frozenA, frozenB, liveA, liveB]) {
        const [pong, ms] = await timed(() => member.client.send({ type: 'ping' }));
        expect(pong.type).toBe('reply');
        pings.push(ms);
      }
      for (const server of [x, y]) {
        const [h, hms] = await timed(() => getJson(server.baseUrl, '/healthz'));
        expect(h.status).toBe(200);
        const [, rms] = await timed(() => getJson(server.baseUrl, '/readyz'));
        health.push(hms, rms);
      }
      // ...while a room on the other shard carries on, from both instances.
      const member = round++ % 2 ? liveB : liveA;
      const [raised, lms] = await timed(() => member.client.request({ type: 'hand_raise' }));
      expect(raised).toEqual({});
      live.push(lms);
      await member.client.request({ type: 'hand_lower' });
      await sleep(100);
    }
    const max = (v: number[]) => Math.max(...v);
    console.log(`during a 5 s freeze of one shard: ping max ${max(pings).toFixed(1)} ms (${pings.length}), ` +
      `/healthz+/readyz max ${max(health).toFixed(1)} ms, a change on the other shard max ${max(live).toFixed(1)} ms`);
    expect(max(pings)).toBeLessThan(250);
    expect(max(health)).toBeLessThan(250);
    expect(max(live)).toBeLessThan(250);

    // Once the shard is back, the stalled change has an exact outcome that everyone agrees on.
    await freeze;
    const outcome = await stalled;
    if (outcome.type === 'reply') {
      const seen = await frozenB.client.nextEvent((e) => e.event.kind === 'hand_raised', 10_000);
      expect(seen.event.member_id).toBe(frozenA.id);
    } else {
      expect(outcome.code).toBe('unavailable');
      expect(frozenB.client.pending().filter((f) => f.type === "event" && f.event.kind === "hand_raised")).toEqual([]);
      const after = await frozenA.client.request({ type: 'hand_raise' }, 10_000);
      expect(after).toEqual({}); // nothing was changed: the hand was not raised before
    }
  }, 40_000);
});

describe('the ephemeral channel across instances', () => {
  let redis: RunningRedis;
  let x: RunningServer;
  let y: RunningServer;

  beforeAll(async () => {
    redis = await startRedis();
    const start = () => startServer({ args: ['--redis', redis.url] });
    [x, y] = await Promise.all([start(), start()]);
  });
  afterAll(async () => {
    await Promise.all([x?.stop(), y?.stop()]);
    await redis?.stop();
  });

  it('relays the latest cursor to members on every instance, never to its sender, never into the stream', async () => {
    const room = await createRoom(x.baseUrl, 'Cursors');
    const ada: Member = await joinParticipant(x.wsUrl, room, 'Ada');
    const bo: Member = await joinParticipant(y.wsUrl, room, 'Bo');
    const cy: Member = await joinParticipant(x.wsUrl, room, 'Cy');
    const streamKey = `colloquy:room:{${room.room}}:log`;
    const before = await redis.cli('XLEN', streamKey);
    for (let i = 1; i <= 5; i++) ada.client.sendRaw(JSON.stringify({ type: 'ephemeral', id: `c${i}`, kind: 'cursor', data: { x: i, y: 2 } }));
    const onY = await bo.client.nextFrame((f) => f.type === 'ephemeral' && f.data.x === 5, 5000, 'the latest cursor on instance Y');
    expect(onY).toEqual({ type: 'ephemeral', room: room.room, from: ada.id, kind: 'cursor', data: { x: 5, y: 2 } });
    await cy.client.nextFrame((f) => f.type === 'ephemeral' && f.data.x === 5, 5000, 'the latest cursor on instance X');
    await sleep(200);
    const received = bo.client.pending().filter((f) => f.type === 'ephemeral').length;
    expect(received).toBeLessThanOrEqual(1); // coalesced: not one push per update
    expect(ada.client.pending().filter((f) => f.type === 'ephemeral')).toEqual([]);
    expect(await redis.cli('XLEN', streamKey)).toBe(before);
  });
});

describe('a busy room', () => {
  it('stores the commands that wait for its append together: fewer journal records than commands, every one answered in order', async () => {
    const s = await startServer({ args: ['--fsync', 'always', '--max-commands-per-second', '100000'] });
    try {
      const room = await createRoom(s.baseUrl, 'Busy room');
      const members: Member[] = [];
      for (let i = 0; i < 20; i++) members.push(await joinParticipant(s.wsUrl, room, `M${i}`));
      const records = () =>
        readdirSync(s.dataDir)
          .filter((f) => f.startsWith('journal-'))
          .flatMap((f) => readFileSync(path.join(s.dataDir, f), 'utf8').split('\n'))
          .filter((line) => line.includes(`"${room.room}"`)).length;
      const before = records();
      // Everyone at once, each member's commands sent without waiting: raise, lower, raise, lower...
      const answers = await Promise.all(
        members.map((m) => Promise.all(Array.from({ length: 6 }, (_, k) => m.client.send({ type: k % 2 ? 'hand_lower' : 'hand_raise' })))),
      );
      const commands = 20 * 6;
      for (const list of answers) for (const a of list) expect(a.type, JSON.stringify(a)).toBe('reply');
      const stored = records() - before;
      console.log(`${commands} commands of 20 members at once: ${stored} journal records (each one sync)`);
      expect(stored).toBeLessThan(commands / 2);
      // What was stored is what everyone saw: a late joiner finds no hand raised.
      const late = await joinParticipant(s.wsUrl, room, 'Late');
      expect(late.result.snapshot.floor?.queue ?? []).toEqual([]);
    } finally {
      await s.stop();
    }
  }, 30_000);
});
