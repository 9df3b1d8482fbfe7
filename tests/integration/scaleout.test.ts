// Several instances sharing rooms through a real redis-server (README: Scale-out).
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoom, httpRequest } from '../lib/api.js';
import { startRedis, type RunningRedis } from '../lib/redis.js';
import { joinFacilitator, joinParticipant, joinWith, sleep } from '../lib/room.js';
import { startServer, type RunningServer } from '../lib/server.js';
import { TestClient } from '../lib/ws-client.js';

let redis: RunningRedis;
let a: RunningServer;
let b: RunningServer;
let c: RunningServer;

beforeAll(async () => {
  redis = await startRedis();
  // These tests change rooms as fast as they can on purpose: no per-connection rate limit here.
  const start = () => startServer({ args: ['--redis', redis.url, '--max-commands-per-second', '100000'] });
  [a, b, c] = await Promise.all([start(), start(), start()]);
});
afterAll(async () => {
  await Promise.all([a, b, c].map((s) => s?.stop()));
  await redis?.stop();
});

describe('rooms shared through Redis', () => {
  it('a room created on A is joined on B and C; every change reaches every instance in one order', async () => {
    const room = await createRoom(a.baseUrl, 'Spring cohort');
    const grace = await joinFacilitator(a.wsUrl, room, 'Grace');
    const ada = await joinParticipant(b.wsUrl, room, 'Ada');
    expect(ada.result.snapshot.members.map((m: { name: string }) => m.name)).toEqual(['Grace', 'Ada']);
    const lin = await joinParticipant(c.wsUrl, room, 'Lin');
    expect(lin.result.snapshot.seq).toBe(4);

    // Grace on A sees both joins made through B and C, in seq order.
    const seen = [await grace.client.nextEvent(), await grace.client.nextEvent()];
    expect(seen.map((e) => [e.seq, e.event.member.name])).toEqual([[3, 'Ada'], [4, 'Lin']]);
    const adaSees = await ada.client.nextEvent();
    expect(adaSees).toEqual(seen[1]);

    // Lin leaves on C: A and B hear it.
    await lin.client.request({ type: 'leave' });
    const left = await grace.client.nextEvent();
    expect(left.event).toEqual({ kind: 'member_left', member_id: lin.id });
    expect(await ada.client.nextEvent()).toEqual(left);
  });

  it('the invite-check on an instance that does not hold the room loads it, answers, and lets it go', async () => {
    const room = await createRoom(a.baseUrl, 'Checked across');
    const check = (server: RunningServer, body: object, id = room.room) =>
      httpRequest(server.baseUrl, {
        method: 'POST',
        path: `/api/rooms/${id}/invite-check`,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    const before = (await httpRequest(b.baseUrl, { path: '/healthz' })).json.rooms;
    const ok = await check(b, { code: room.join_code });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json).toEqual({ room: room.room, title: 'Checked across', role: 'participant' });
    expect((await check(c, { code: room.facilitator_key })).json.error.code).toBe('bad_credentials');
    expect((await check(c, { code: room.join_code }, 'nosuchroom000000')).json.error.code).toBe('room_not_found');
    // B keeps no replica of a room nobody is in there.
    await sleep(100);
    expect((await httpRequest(b.baseUrl, { path: '/healthz' })).json.rooms).toBe(before);
    // And the room is intact: the first join on B makes its first member.
    const grace = await joinFacilitator(b.wsUrl, room, 'Grace');
    expect(grace.result.snapshot.members).toHaveLength(1);
  });

  it('resume moves a member to another instance without a duplicate, replaying what was missed', async () => {
    const room = await createRoom(b.baseUrl, 'Autumn set');
    const grace = await joinFacilitator(a.wsUrl, room, 'Grace');
    const ada = await joinParticipant(b.wsUrl, room, 'Ada');
    const last = ada.result.snapshot.seq;
    ada.client.terminate();
    await grace.client.nextEvent((e) => e.event.kind === 'member_connection_lost');
    await joinParticipant(a.wsUrl, room, 'Kim');

    const back = await TestClient.connectWelcomed(c.wsUrl, 'ada-on-c');
    const result = await back.request({ type: 'join', room: room.room, resume: ada.token, after: last });
    expect(result.member.id).toBe(ada.id);
    expect(result.replay).toEqual({ after: last, events: 3 });
    const kinds = [];
    for (let i = 0; i < 3; i++) kinds.push((await back.nextEvent()).event.kind);
    expect(kinds).toEqual(['member_connection_lost', 'member_joined', 'member_back']);
    const probe = await joinWith(b.wsUrl, { room: room.room, resume: grace.token }, 'grace-probe');
    expect(probe.result.snapshot.members.map((m: { name: string }) => m.name)).toEqual(['Grace', 'Ada', 'Kim']);
  });

  it('conflicting joins through three instances at once: one order, nobody lost', async () => {
    const room = await createRoom(c.baseUrl, 'Busy room');
    const watcher = await joinFacilitator(a.wsUrl, room, 'Grace');
    const servers = [a, b, c, a, b, c, a, b, c];
    const members = await Promise.all(servers.map((s, i) => joinParticipant(s.wsUrl, room, `P${i}`)));
    const ids = new Set(members.map((m) => m.id));
    expect(ids.size).toBe(9);
    const events = [];
    for (let i = 0; i < 9; i++) events.push(await watcher.client.nextEvent());
    expect(events.map((e) => e.seq)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(new Set(events.map((e) => e.event.member.id))).toEqual(ids);
    // The log in Redis has exactly these 11 events.
    expect(await redis.cli('XLEN', `colloquy:room:{${room.room}}:log`)).toBe('11');
  });

  it('the cap of 25 pending prompts holds when members on three instances submit at once', async () => {
    const room = await createRoom(a.baseUrl, 'Prompt rush');
    const grace = await joinFacilitator(a.wsUrl, room, 'Grace');
    // 24 pending (held, so none is released by itself), submitted through A: one place left.
    const fillers = await Promise.all(Array.from({ length: 5 }, (_, i) => joinParticipant(a.wsUrl, room, `F${i}`)));
    for (let n = 0; n < 24; n++) {
      await fillers[Math.floor(n / 5)]!.client.request({ type: 'prompt_submit', text: `Question ${n}?` });
      // The push that lists this prompt (instances may repeat older pushes): hold what is not held.
      const push = await grace.client.nextFrame((f) => f.type === 'prompts_pending' && f.prompts.length === n + 1);
      for (const p of push.prompts.filter((p: { held: boolean }) => !p.held)) {
        await grace.client.request({ type: 'prompt_hold', prompt: p.id });
      }
    }
    const rush = await Promise.all([a, b, c, a, b, c, a, b, c].map((s, i) => joinParticipant(s.wsUrl, room, `R${i}`)));
    const answers = await Promise.all(rush.map((m, i) => m.client.send({ type: 'prompt_submit', text: `Rush ${i}?` })));
    const accepted = answers.filter((x) => x.type === 'reply');
    const refused = answers.filter((x) => x.type === 'error');
    console.log(`9 submissions at once through 3 instances with one place left: ${accepted.length} accepted, ${refused.length} refused`);
    expect(accepted.length).toBe(1);
    for (const x of refused) expect(x).toMatchObject({ code: 'too_many_prompts' });
    expect(await redis.cli('HLEN', `colloquy:room:{${room.room}}:pending`)).toBe('25');
  });

  it('/readyz is ready with Redis up', async () => {
    const r = await fetch(`${a.baseUrl}/readyz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ready' });
  });
});

describe('Redis trouble', () => {
  it('CLIENT KILL TYPE pubsub while events flow: the gap is detected and filled, in order', async () => {
    const room = await createRoom(a.baseUrl, 'Killed subscriber');
    const grace = await joinFacilitator(a.wsUrl, room, 'Grace');
    const ada = await joinParticipant(b.wsUrl, room, 'Ada');
    await grace.client.nextEvent((e) => e.event.kind === 'member_joined');
    // Drop every subscriber connection, then change the room from C at once, before A resubscribes.
    await redis.cli('CLIENT', 'KILL', 'TYPE', 'pubsub');
    const joined = [];
    for (let i = 0; i < 5; i++) joined.push(await joinParticipant(c.wsUrl, room, `Late${i}`));
    // A and B learn all five, without gaps or duplicates, once their subscribers are back.
    for (const watcher of [grace, ada]) {
      const events = [];
      for (let i = 0; i < 5; i++) events.push(await watcher.client.nextEvent(undefined, 10_000));
      expect(events.map((e) => e.seq)).toEqual([4, 5, 6, 7, 8]);
      expect(events.map((e) => e.event.member.name)).toEqual(['Late0', 'Late1', 'Late2', 'Late3', 'Late4']);
    }
  });

  it('DEBUG SLEEP on Redis delays changes but loses none', async () => {
    const room = await createRoom(b.baseUrl, 'Sleepy');
    const grace = await joinFacilitator(a.wsUrl, room, 'Grace');
    const sleep = redis.cli('DEBUG', 'SLEEP', '0.5');
    const joins = [0, 1, 2].map((i) => joinParticipant([a, b, c][i]!.wsUrl, room, `S${i}`));
    await sleep;
    const members = await Promise.all(joins).catch((e) => {
      throw new Error(`${e}\nA:${a.stderr()}\nB:${b.stderr()}\nC:${c.stderr()}`);
    });
    expect(new Set(members.map((m) => m.id)).size).toBe(3);
    const events = [];
    for (let i = 0; i < 3; i++) events.push(await grace.client.nextEvent(undefined, 10_000));
    expect(events.map((e) => e.seq)).toEqual([3, 4, 5]);
  });

  it('restart Redis: service resumes and no acknowledged event is lost', async () => {
    const room = await createRoom(c.baseUrl, 'Restarted');
    const grace = await joinFacilitator(a.wsUrl, room, 'Grace');
    const ada = await joinParticipant(b.wsUrl, room, 'Ada');
    await grace.client.nextEvent();
    await redis.restart();
    // Readiness follows Redis; changes work again through every instance.
    const kim = await joinParticipant(c.wsUrl, room, 'Kim');
    expect(kim.result.snapshot.members.map((m: { name: string }) => m.name)).toEqual(['Grace', 'Ada', 'Kim']);
    const e = await grace.client.nextEvent(undefined, 10_000);
    expect(e.seq).toBe(4);
    expect(e.event.member.name).toBe('Kim');
    // Readiness comes from a probe each second (never a round trip of its own): ready again shortly.
    let ready = 0;
    for (let i = 0; i < 30 && ready !== 200; i++) {
      ready = (await fetch(`${a.baseUrl}/readyz`)).status;
      if (ready !== 200) await sleep(100);
    }
    expect(ready).toBe(200);
    void ada;
  });
});

describe('a lost room log', () => {
  it('is detected by its epoch and never replayed or extended as if whole', async () => {
    const room = await createRoom(a.baseUrl, 'Wiped');
    const grace = await joinFacilitator(a.wsUrl, room, 'Grace');
    // Redis loses everything (restarted without persistence, or flushed by mistake).
    await redis.cli('FLUSHALL');
    const client = await TestClient.connectWelcomed(a.wsUrl, 'after-wipe');
    const error = await client.send({ type: 'join', room: room.room, code: room.join_code, name: 'Ada' });
    expect(error).toMatchObject({ type: 'error', code: 'unavailable' });
    expect(await redis.cli('EXISTS', `colloquy:room:{${room.room}}:log`)).toBe('0');
    // An instance without the replica finds no room at all.
    const elsewhere = await TestClient.connectWelcomed(c.wsUrl, 'elsewhere');
    expect(await elsewhere.send({ type: 'join', room: room.room, code: room.join_code, name: 'Ada' })).toMatchObject({
      code: 'room_not_found',
    });
    void grace;
  });
});

describe('stream length', () => {
  it('snapshots and trimming bound a room stream; late joiners and old positions still get the room right', async () => {
    const room = await createRoom(a.baseUrl, 'Long session');
    const grace = await joinFacilitator(a.wsUrl, room, 'Grace');
    const ada = await joinParticipant(b.wsUrl, room, 'Ada');
    const oldPosition = ada.result.snapshot.seq;
    // Ada leaves and comes back 1,100 times: 2,200 events.
    for (let i = 0; i < 1100; i++) {
      await ada.client.request({ type: 'leave' });
      await ada.client.request({ type: 'join', room: room.room, resume: ada.token });
    }
    const length = Number(await redis.cli('XLEN', `colloquy:room:{${room.room}}:log`));
    expect(length).toBeLessThanOrEqual(2048);
    expect(Number(await redis.cli('HGET', `colloquy:room:{${room.room}}:meta`, 'snapshot_seq'))).toBeGreaterThan(0);

    // A member far behind gets a snapshot, not a replay; the room is whole.
    const far = await TestClient.connectWelcomed(c.wsUrl, 'far-behind');
    const result = await far.request({ type: 'join', room: room.room, resume: grace.token, after: oldPosition });
    expect(result.replay).toBeUndefined();
    // created, Grace, Ada, then 2,200 leave/come-back events; Grace resuming while online adds none.
    expect(result.snapshot.seq).toBe(3 + 2200);
    expect(result.snapshot.members.map((m: { name: string; presence: string }) => [m.name, m.presence])).toEqual([
      ['Grace', 'online'],
      ['Ada', 'online'],
    ]);
  }, 60_000);
});

describe('sharding over two Redis servers', () => {
  it('spreads rooms over both by room id; each room lives whole on one; instances agree on where', async () => {
    const r1 = await startRedis();
    const r2 = await startRedis();
    const list = `${r1.url},${r2.url}`;
    const start = () => startServer({ args: ['--redis', list] });
    const [x, y] = await Promise.all([start(), start()]);
    const rooms = [];
    for (let i = 0; i < 12; i++) rooms.push(await createRoom(i % 2 ? x.baseUrl : y.baseUrl, `Sharded ${i}`));
    // Join each room through the other instance: it finds the room on the same shard.
    for (const [i, room] of rooms.entries()) {
      const m = await joinParticipant((i % 2 ? y : x).wsUrl, room, `P${i}`);
      expect(m.result.snapshot.title).toBe(`Sharded ${i}`);
      m.client.terminate();
    }
    const on = async (r: RunningRedis, room: string) => (await r.cli('EXISTS', `colloquy:room:{${room}}:log`)) === '1';
    let first = 0;
    for (const room of rooms) {
      const [a1, a2] = [await on(r1, room.room), await on(r2, room.room)];
      expect(a1 !== a2, `room ${room.room} is on exactly one shard`).toBe(true);
      if (a1) first++;
    }
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(12);
    await Promise.all([x.stop(), y.stop()]);
    await Promise.all([r1.stop(), r2.stop()]);
  });
});

describe('a slow WebSocket client', () => {
  it('does not hold up the Redis subscriber: others on its instance get every event, Redis never drops the subscriber', async () => {
    const room = await createRoom(a.baseUrl, 'Slow reader');
    const grace = await joinFacilitator(a.wsUrl, room, 'Grace');
    const ada = await joinParticipant(b.wsUrl, room, 'Ada');
    const logBefore = b.stderr().length;
    // A member on instance B whose browser stops reading (a raw WebSocket that never reads again).
    const port = Number(new URL(b.baseUrl).port);
    const raw = net.connect(port, '127.0.0.1');
    await new Promise((r) => raw.once('connect', r));
    raw.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    await sleep(100);
    const join = Buffer.from(JSON.stringify({ type: 'join', id: 'slow', room: room.room, code: room.join_code, name: 'Slow' }));
    const mask = Buffer.from([1, 2, 3, 4]);
    const header = join.length < 126 ? [0x81, 0x80 | join.length] : [0x81, 0x80 | 126, join.length >> 8, join.length & 255];
    raw.write(Buffer.concat([Buffer.from(header), mask, Buffer.from(join.map((byte, i) => byte ^ mask[i % 4]!))]));
    raw.pause();
    await ada.client.nextEvent((e) => e.event.kind === 'member_joined' && e.event.member.name === 'Slow');

    // 1,000 changes made on instance A, as fast as they land.
    const seqBefore = ada.client.events().at(-1)!.seq;
    for (let i = 0; i < 500; i++) {
      await grace.client.request({ type: 'hand_raise' });
      await grace.client.request({ type: 'hand_lower' });
    }
    // Ada, on the same instance as the slow reader, receives all of them, in order.
    const last = await ada.client.nextEvent((e) => e.seq === seqBefore + 1000, 10_000);
    expect(last.event.kind).toBe('hand_lowered');
    const seqs = ada.client.events().map((e) => e.seq).filter((s) => s > seqBefore);
    expect(seqs).toEqual(Array.from({ length: 1000 }, (_, i) => seqBefore + 1 + i));
    // Redis kept every instance's subscriber, with nothing piled up in its output buffer.
    const subscribers = (await redis.cli('CLIENT', 'LIST', 'TYPE', 'pubsub')).split('\n').filter(Boolean);
    expect(subscribers.length, "A and B follow the room").toBeGreaterThanOrEqual(2);
    for (const line of subscribers) expect(Number(/ omem=(\d+)/.exec(line)![1])).toBeLessThan(64 * 1024);
    expect(b.stderr().slice(logBefore)).not.toContain('Redis subscriber lost');
    raw.destroy();
  }, 60_000);
});

