// Limits a client cannot talk its way past (protocol/README.md#limits): each holds at its cap, gives
// its documented error, changes nothing beyond the cap, and never slows down anyone else.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoom, getJson, httpRequest, postRoom, wsUpgrade } from '../lib/api.js';
import { startRedis } from '../lib/redis.js';
import { TestClient } from '../lib/ws-client.js';
import { joinFacilitator, joinParticipant, probeSnapshot, sleep } from '../lib/room.js';
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

  it('the last tenth of --max-connections is kept for members of existing rooms; past it only /healthz and /readyz', async () => {
    // 20 places: 18 for anything, 2 in reserve (a tenth).
    const s = await startServer({ args: ['--max-connections', '20'] });
    const held: net.Socket[] = [];
    const port = Number(new URL(s.baseUrl).port);
    const hold = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const socket = net.connect(port, '127.0.0.1');
        await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
        held.push(socket);
      }
      await sleep(100);
    };
    try {
      const room = await createRoom(s.baseUrl, 'Full house');
      const member = await joinParticipant(s.wsUrl, room, 'Ada');
      await hold(17); // with the member: every place below the reserve is taken

      // In the reserve: nobody creates a room, pages still load (and the connection closes after
      // the answer), a new member of the existing room still gets in.
      const create = await postRoom(s.baseUrl, { title: 'One more' });
      expect(create.status).toBe(503);
      expect(create.json).toMatchObject({ error: { code: 'server_full' } });
      const page = await httpRequest(s.baseUrl, { path: '/' });
      expect(page.status).toBe(200);
      expect(String(page.headers['connection'])).toBe('close');
      const late = await joinParticipant(s.wsUrl, room, 'Late');
      expect(late.client.isOpen).toBe(true);
      // A WebSocket in the reserve that does not join is closed within seconds, not 30.
      const idle = await TestClient.connectWelcomed(s.wsUrl, 'idle');
      const t0 = performance.now();
      const closed = await idle.waitClosed(8_000);
      expect(closed.code).toBe(4002);
      const waited = performance.now() - t0;
      console.log(`an unjoined WebSocket in the reserve closed after ${waited.toFixed(0)} ms`);
      expect(waited).toBeLessThan(7_000);

      await hold(1); // now every place is taken (the member, Late and 18 idle sockets)
      const refused = await upgrade(s.baseUrl);
      expect(refused.status).toBe(503);
      expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'server_full' } });
      expect((await getJson(s.baseUrl, '/healthz')).status).toBe(200);
      expect((await getJson(s.baseUrl, '/readyz')).status).toBe(200);
      const t = performance.now();
      expect((await member.client.send({ type: 'ping' })).type).toBe('reply');
      console.log(`at the total cap: /healthz answered, a member's ping ${(performance.now() - t).toFixed(1)} ms`);
      held.pop()!.destroy();
      await sleep(100);
      const again = await joinParticipant(s.wsUrl, room, 'Again');
      expect(again.client.isOpen).toBe(true);
    } finally {
      for (const socket of held) socket.destroy();
      await s.stop();
    }
  });
});

/** Pings another room's member a few times and prints the worst round trip. */
async function responsive(other: TestClient, what: string): Promise<void> {
  const pings: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    expect((await other.send({ type: 'ping' })).type).toBe('reply');
    pings.push(performance.now() - t);
  }
  console.log(`${what}: another room's ping ${Math.max(...pings).toFixed(1)} ms at most`);
  expect(Math.max(...pings)).toBeLessThan(250);
}

const wide = (n: number) => '\u{1F600}'.repeat(n); // 4 bytes a code point: the widest text allowed

describe('members: who holds a place, and removing one (1.5)', () => {
  it('members who left hold no place of --max-members; their records stay, up to 2 per place', async () => {
    const s = await startServer({ args: ['--max-members', '2', '--max-commands-per-second', '100000'] });
    try {
      const room = await createRoom(s.baseUrl, 'Small group');
      const grace = await joinFacilitator(s.wsUrl, room);
      const ada = await joinParticipant(s.wsUrl, room, 'Ada');
      const lin = await TestClient.connectWelcomed(s.wsUrl, 'lin');
      expect(await lin.send({ type: 'join', room: room.room, code: room.join_code, name: 'Lin' })).toMatchObject({ code: 'room_full' });
      await ada.client.request({ type: 'leave' });
      const linJoined = await lin.request({ type: 'join', room: room.room, code: room.join_code, name: 'Lin' });
      expect(linJoined.member.id).toBe('m3');
      await lin.request({ type: 'leave' });
      const kim = await joinParticipant(s.wsUrl, room, 'Kim');
      expect(kim.id).toBe('m4');
      await kim.client.request({ type: 'leave' });
      // Four records (2 per place): nobody new, though only Grace is here.
      const sam = await TestClient.connectWelcomed(s.wsUrl, 'sam');
      expect(await sam.send({ type: 'join', room: room.room, code: room.join_code, name: 'Sam' })).toMatchObject({ code: 'room_full' });
      expect((await grace.client.send({ type: 'ping' })).type).toBe('reply');
    } finally {
      await s.stop();
    }
  });

  it('a facilitator removes a member: 4003 removed, the token stops working, they come back only as someone new', async () => {
    const s = await startServer({ args: ['--max-commands-per-second', '100000'] });
    try {
      const room = await createRoom(s.baseUrl, 'Removal');
      const grace = await joinFacilitator(s.wsUrl, room);
      const ada = await joinParticipant(s.wsUrl, room, 'Ada');
      const lin = await joinParticipant(s.wsUrl, room, 'Lin');
      await ada.client.request({ type: 'hand_raise' });
      expect(await lin.client.send({ type: 'member_remove', member: ada.id })).toMatchObject({ code: 'forbidden' });
      expect(await grace.client.send({ type: 'member_remove', member: grace.id })).toMatchObject({ code: 'cannot_remove' });
      expect(await grace.client.send({ type: 'member_remove', member: 'm99' })).toMatchObject({ code: 'unknown_member' });
      await grace.client.request({ type: 'member_remove', member: ada.id });
      expect((await ada.client.nextEvent((e) => e.event.kind === 'member_removed')).event.member_id).toBe(ada.id);
      expect(await ada.client.closed).toEqual({ code: 4003, reason: 'removed' });
      await lin.client.nextEvent((e) => e.event.kind === 'member_removed');
      expect(lin.client.isOpen).toBe(true);
      const back = await TestClient.connectWelcomed(s.wsUrl, 'ada-back');
      expect(await back.send({ type: 'join', room: room.room, resume: ada.token })).toMatchObject({ code: 'bad_credentials' });
      expect(await grace.client.send({ type: 'member_remove', member: ada.id })).toMatchObject({ code: 'cannot_remove' });
      const again = await back.request({ type: 'join', room: room.room, code: room.join_code, name: 'Ada' });
      expect(again.member.id).toBe('m4');
      const adaThen = again.snapshot.members.find((m: { id: string }) => m.id === ada.id);
      expect(adaThen).toMatchObject({ presence: 'left', hand: false });
    } finally {
      await s.stop();
    }
  });
});

describe('closing a room for good (1.5)', () => {
  for (const mode of ['embedded', 'redis'] as const) {
    it(`${mode}: room_close disconnects everyone with 4004 and removes the room like the sweeper; room_not_found afterwards`, async () => {
      const redis = mode === 'redis' ? await startRedis() : null;
      const dataDir = mkdtempSync(path.join(os.tmpdir(), 'colloquy-close-'));
      const args = redis ? ['--redis', redis.url] : [];
      let s = await startServer({ args, dataDir });
      try {
        const room = await createRoom(s.baseUrl, 'Closing');
        const calm = await createRoom(s.baseUrl, 'Calm');
        const other = await joinParticipant(s.wsUrl, calm, 'Calm');
        const grace = await joinFacilitator(s.wsUrl, room);
        const ada = await joinParticipant(s.wsUrl, room, 'Ada');
        await grace.client.request({ type: 'deck_add', text: 'Our own card' });
        await ada.client.request({ type: 'prompt_submit', text: 'Who decides?' });
        await grace.client.request({ type: 'prompt_submit', text: 'Held back?' });
        expect(await ada.client.send({ type: 'room_close' })).toMatchObject({ code: 'forbidden' });
        await grace.client.request({ type: 'room_close' });
        for (const m of [grace, ada]) {
          await m.client.nextEvent((e) => e.event.kind === 'room_closed');
          expect(await m.client.closed).toEqual({ code: 4004, reason: 'room_closed' });
        }
        await responsive(other.client, `${mode}: after a room was closed`);
        const late = await TestClient.connectWelcomed(s.wsUrl, 'late');
        expect(await late.send({ type: 'join', room: room.room, resume: ada.token })).toMatchObject({ code: 'room_not_found' });
        expect(await late.send({ type: 'join', room: room.room, code: room.join_code, name: 'Late' })).toMatchObject({ code: 'room_not_found' });
        expect(s.stderr()).toContain(`room ${room.room} removed: closed by the facilitator`);
        if (redis) {
          await sleep(200);
          // The room's log, snapshot and pending prompts are deleted (votes and audit answers expire by their TTL).
          const keys = ['meta', 'log', 'pending', 'cancelled'].map((k) => `colloquy:room:{${room.room}}:${k}`);
          expect(Number(await redis.cli('EXISTS', ...keys))).toBe(0);
        } else {
          expect((await getJson(s.baseUrl, '/healthz')).json.rooms).toBe(1);
        }
        other.client.terminate();
        late.terminate();
        await s.stop();
        // Gone for good: a restart (on the same data directory, or the same Redis) does not bring it back.
        s = await startServer({ args, dataDir });
        const after = await TestClient.connectWelcomed(s.wsUrl, 'after');
        expect(await after.send({ type: 'join', room: room.room, code: room.join_code, name: 'After' })).toMatchObject({ code: 'room_not_found' });
        expect((await after.request({ type: 'join', room: calm.room, code: calm.join_code, name: 'Still here' })).member.id).toBe('m2');
      } finally {
        await s.stop();
        await redis?.stop();
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  }
});

describe('caps on what a room holds (1.5)', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer({ args: ['--max-commands-per-second', '100000'] });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('the deck stops at 200 cards with deck_full, nothing changed, and another room stays responsive', async () => {
    const room = await createRoom(s.baseUrl, 'Big deck');
    const grace = await joinFacilitator(s.wsUrl, room);
    const other = await joinParticipant(s.wsUrl, await createRoom(s.baseUrl, 'Calm'), 'Calm');
    const builtIn = grace.result.snapshot.deck.cards.length;
    const answers = await Promise.all(
      Array.from({ length: 200 - builtIn + 5 }, (_, i) => grace.client.send({ type: 'deck_add', text: `Card ${i}` })),
    );
    await responsive(other.client, 'while 193 cards were added to another room');
    expect(answers.filter((a) => a.type === 'reply').length).toBe(200 - builtIn);
    expect(answers.filter((a) => a.code === 'deck_full').length).toBe(5);
    const { snapshot } = await probeSnapshot(s.wsUrl, room);
    expect(snapshot.deck.cards.length).toBe(200);
    expect(snapshot.deck.cards.some((c: { text: string }) => c.text === `Card ${200 - builtIn}`)).toBe(false);
  });

  it('pending prompts stop at 25 with too_many_prompts; the 25 still fit one frame', async () => {
    const room = await createRoom(s.baseUrl, 'Many prompts');
    const grace = await joinFacilitator(s.wsUrl, room);
    const members = await Promise.all(Array.from({ length: 6 }, (_, i) => joinParticipant(s.wsUrl, room, `P${i}`)));
    let held = 0;
    for (const m of members) {
      for (let k = 0; k < 5 && held < 25; k++) {
        await m.client.request({ type: 'prompt_submit', text: wide(500) });
        const push = await grace.client.nextFrame((f) => f.type === 'prompts_pending' && f.prompts.some((p: { held: boolean }) => !p.held));
        const fresh = push.prompts.find((p: { held: boolean }) => !p.held);
        await grace.client.request({ type: 'prompt_hold', prompt: fresh.id });
        held++;
      }
    }
    const full = await members[5]!.client.send({ type: 'prompt_submit', text: 'One more?' });
    expect(full).toMatchObject({ type: 'error', code: 'too_many_prompts' });
    await sleep(100);
    const last = grace.client.pending().filter((f) => f.type === 'prompts_pending').pop()!;
    expect(last.prompts.length).toBe(25);
    console.log(`25 pending prompts of 500 wide characters: a prompts_pending push of ${JSON.stringify(last).length} characters`);
  });

  it('released prompts stop at 200 with too_many_prompts: the batch is refused whole and stays pending', async () => {
    const room = await createRoom(s.baseUrl, 'Many released');
    const grace = await joinFacilitator(s.wsUrl, room);
    const other = await joinParticipant(s.wsUrl, await createRoom(s.baseUrl, 'Next door'), 'Lin');
    // 5 prompts a minute each: 45 members, 5 at a time, fill 9 batches of 25.
    const members = await Promise.all(Array.from({ length: 45 }, (_, i) => joinParticipant(s.wsUrl, room, `R${i}`)));
    let n = 0;
    const pings: number[] = [];
    for (let batch = 0; batch < 9; batch++) {
      await Promise.all(members.slice(batch * 5, batch * 5 + 5).map(async (m) => {
        for (let k = 0; k < 5; k++) await m.client.request({ type: 'prompt_submit', text: `Question ${n++}?` });
      }));
      const answer = await grace.client.send({ type: 'prompt_release' });
      if (batch < 8) expect(answer.type, `batch ${batch}`).toBe('reply');
      else expect(answer).toMatchObject({ type: 'error', code: 'too_many_prompts' });
      const t = performance.now();
      await other.client.send({ type: 'ping' });
      pings.push(performance.now() - t);
    }
    const probe = await probeSnapshot(s.wsUrl, room, 'Counter');
    expect(probe.snapshot.prompts).toHaveLength(200);
    await sleep(100);
    const pending = grace.client.pending().filter((f) => f.type === 'prompts_pending').pop()!;
    expect(pending.prompts.length).toBe(25);
    console.log(`200 released prompts, the ninth batch of 25 refused and kept pending; another room's ping ${Math.max(...pings).toFixed(1)} ms at most`);
  });

  it('an audit takes 8 KiB of comments; past it audit_full records nothing, an answer without comment still counts', async () => {
    const room = await createRoom(s.baseUrl, 'Audit');
    const grace = await joinFacilitator(s.wsUrl, room);
    const opened = await grace.client.request({ type: 'audit_open', k: 3 });
    expect(opened).toEqual({});
    const audit = (await grace.client.nextEvent((e) => e.event.kind === 'audit_opened')).event.audit;
    const answers = Object.fromEntries(audit.items.map((i: { id: string }) => [i.id, 4]));
    const members = await Promise.all(Array.from({ length: 5 }, (_, i) => joinParticipant(s.wsUrl, room, `A${i}`)));
    const outcomes = [];
    for (const m of members) outcomes.push(await m.client.send({ type: 'audit_answer', answers, comment: wide(500) }));
    expect(outcomes.filter((o) => o.type === 'reply').length).toBe(4); // 4 × 2,003 bytes fit 8,192
    expect(outcomes[4]).toMatchObject({ code: 'audit_full' });
    await members[4]!.client.request({ type: 'audit_answer', answers });
    await grace.client.request({ type: 'audit_close' });
    const closed = (await grace.client.nextEvent((e) => e.event.kind === 'audit_closed')).event;
    expect(closed.responses).toBe(5);
    expect(closed.results.comments.length).toBe(4);
  });

  it('past --max-room-state-bytes a change gets room_state_full, nothing changed', async () => {
    const small = await startServer({ args: ['--max-room-state-bytes', '16384', '--max-commands-per-second', '100000'] });
    try {
      const room = await createRoom(small.baseUrl, 'Small state');
      const grace = await joinFacilitator(small.wsUrl, room);
      const ada = await joinParticipant(small.wsUrl, room, 'Ada');
      const other = await joinParticipant(small.wsUrl, await createRoom(small.baseUrl, 'Calm'), 'Calm');
      const answers = [];
      for (let i = 0; i < 12; i++) answers.push(await grace.client.send({ type: 'deck_add', text: wide(500) }));
      const accepted = answers.filter((a) => a.type === 'reply').length;
      expect(accepted).toBeGreaterThan(2);
      expect(answers.slice(accepted).every((a) => a.code === 'room_state_full')).toBe(true);
      // Ada's resume (no new record, so it always fits) gets the snapshot.
      const late = await TestClient.connectWelcomed(small.wsUrl, 'late');
      const { snapshot } = await late.request({ type: 'join', room: room.room, resume: ada.token });
      expect(snapshot.deck.cards.length).toBe(12 + accepted);
      console.log(`--max-room-state-bytes 16384: ${accepted} cards of 500 wide characters accepted; snapshot ${JSON.stringify(snapshot).length} characters`);
      await responsive(other.client, 'with a room at its byte limit');
    } finally {
      await small.stop();
    }
  });
});

describe('per client address: room creation and HTTP requests', () => {
  it('rooms created an hour are limited per address, with Retry-After; a forged X-Forwarded-For does not help, a trusted proxy\'s does', async () => {
    const direct = await startServer({ args: ['--room-creations-per-hour', '3'] });
    const proxied = await startServer({ args: ['--room-creations-per-hour', '3', '--trusted-proxy', '127.0.0.1'] });
    try {
      const json = { 'Content-Type': 'application/json' };
      for (let i = 0; i < 3; i++) expect((await postRoom(direct.baseUrl, { title: `R${i}` }, json)).status).toBe(201);
      const refused = await postRoom(direct.baseUrl, { title: 'One more' }, json);
      expect(refused.status).toBe(429);
      expect(refused.json).toMatchObject({ error: { code: 'rate_limited' } });
      // Three an hour: the next one in 20 minutes, less the moments the first three took.
      expect(refused.json.error.retry_after_ms).toBeGreaterThan(1_190_000);
      expect(refused.json.error.retry_after_ms).toBeLessThanOrEqual(1_200_000);
      expect(refused.headers['retry-after']).toBe('1200');
      // Not behind a trusted proxy: the header is the client's own words, and ignored.
      const forged = await postRoom(direct.baseUrl, { title: 'Forged' }, { ...json, 'X-Forwarded-For': '203.0.113.77' });
      expect(forged.status).toBe(429);
      expect((await getJson(direct.baseUrl, '/healthz')).json.rooms).toBe(3);
      const t = performance.now();
      const room = await createRoom(proxied.baseUrl, 'Through the proxy', { headers: { 'X-Forwarded-For': '203.0.113.1' } });
      const member = await joinParticipant(proxied.wsUrl, room, 'Ada');
      expect((await member.client.send({ type: 'ping' })).type).toBe('reply');
      console.log(`creation limited at 3 an hour; a member elsewhere: joined and pinged in ${(performance.now() - t).toFixed(1)} ms`);
      for (let i = 0; i < 2; i++) {
        expect((await postRoom(proxied.baseUrl, { title: 'A' }, { ...json, 'X-Forwarded-For': '203.0.113.1' })).status).toBe(201);
      }
      expect((await postRoom(proxied.baseUrl, { title: 'A' }, { ...json, 'X-Forwarded-For': '203.0.113.1' })).status).toBe(429);
      // Behind the trusted proxy each client is counted apart; the rightmost entry is the one the proxy wrote.
      expect((await postRoom(proxied.baseUrl, { title: 'B' }, { ...json, 'X-Forwarded-For': '203.0.113.1, 203.0.113.2' })).status).toBe(201);
    } finally {
      await direct.stop();
      await proxied.stop();
    }
  });

  it('with a creation token only its bearer creates rooms; others get 401 create_token_required and nothing is created', async () => {
    const token = 'staff-token-for-the-tests-1234';
    const s = await startServer({ env: { COLLOQUY_CREATE_TOKEN: token } });
    try {
      const json = { 'Content-Type': 'application/json' };
      const anonymous = await postRoom(s.baseUrl, { title: 'No token' }, json);
      expect(anonymous.status).toBe(401);
      expect(anonymous.json).toMatchObject({ error: { code: 'create_token_required' } });
      expect((await postRoom(s.baseUrl, { title: 'Wrong' }, { ...json, Authorization: `Bearer ${token}x` })).status).toBe(401);
      expect((await getJson(s.baseUrl, '/healthz')).json.rooms).toBe(0);
      const staff = await postRoom(s.baseUrl, { title: 'Staff' }, { ...json, Authorization: `Bearer ${token}` });
      expect(staff.status).toBe(201);
      expect(s.stderr()).not.toContain(token);
    } finally {
      await s.stop();
    }
  });

  it('HTTP requests a second are limited per address with Retry-After; /healthz and /readyz never are; joined members carry on', async () => {
    const s = await startServer({ args: ['--max-http-requests-per-second', '5'] });
    try {
      const room = await createRoom(s.baseUrl, 'Busy');
      const member = await joinParticipant(s.wsUrl, room, 'Ada');
      const answers = await Promise.all(Array.from({ length: 30 }, () => httpRequest(s.baseUrl, { method: 'GET', path: '/' })));
      const limited = answers.filter((a) => a.status === 429);
      console.log(`30 page requests at 5 a second (bursts of 10): ${answers.length - limited.length} served, ${limited.length} got 429`);
      expect(answers.length - limited.length).toBeGreaterThanOrEqual(8);
      expect(answers.length - limited.length).toBeLessThanOrEqual(12);
      expect(limited[0]!.json).toMatchObject({ error: { code: 'rate_limited' } });
      expect(Number(limited[0]!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      const probes = await Promise.all(Array.from({ length: 40 }, (_, i) => getJson(s.baseUrl, i % 2 ? '/healthz' : '/readyz')));
      for (const p of probes) expect(p.status).toBe(200);
      const t = performance.now();
      expect((await member.client.send({ type: 'ping' })).type).toBe('reply');
      console.log(`a member's ping meanwhile: ${(performance.now() - t).toFixed(1)} ms`);
      await sleep(1100);
      expect((await httpRequest(s.baseUrl, { method: 'GET', path: '/' })).status).toBe(200);
    } finally {
      await s.stop();
    }
  });
});

describe('--max-rooms in scale-out', () => {
  it('holds for the whole service: rooms created on either instance count, and a removed room frees its place', async () => {
    const redis = await startRedis();
    const args = ['--redis', redis.url, '--max-rooms', '5', '--room-unjoined-seconds', '2'];
    const a = await startServer({ args });
    const b = await startServer({ args });
    try {
      for (let i = 0; i < 3; i++) await createRoom(a.baseUrl, `A${i}`);
      for (let i = 0; i < 2; i++) await createRoom(b.baseUrl, `B${i}`);
      const json = { 'Content-Type': 'application/json' };
      for (const s of [a, b]) {
        const refused = await postRoom(s.baseUrl, { title: 'Sixth' }, json);
        expect(refused.status).toBe(503);
        expect(refused.json).toMatchObject({ error: { code: 'server_full' } });
      }
      expect(Number(await redis.cli('ZCARD', 'colloquy:rooms'))).toBe(5);
      // Nobody joined them: after --room-unjoined-seconds their keys expire and the places come back.
      await sleep(3100);
      expect((await postRoom(b.baseUrl, { title: 'Later' }, json)).status).toBe(201);
    } finally {
      await a.stop();
      await b.stop();
      await redis.stop();
    }
  });
});

describe('resuming past the send limit', () => {
  it('a member away during more changes than the send queue holds gets a snapshot, not a 4001 loop; another room stays responsive', async () => {
    const s = await startServer({ args: ['--max-send-queue-bytes', '131072', '--max-commands-per-second', '100000', '--fsync', 'everysec'] });
    try {
      const room = await createRoom(s.baseUrl, 'Busy deck');
      const grace = await joinFacilitator(s.wsUrl, room);
      const ada = await joinParticipant(s.wsUrl, room, 'Ada');
      const other = await joinParticipant(s.wsUrl, await createRoom(s.baseUrl, 'Elsewhere'), 'Lin');
      const after = ada.result.snapshot.seq;
      ada.client.terminate();
      await grace.client.nextEvent((e) => e.event.kind === 'member_connection_lost');
      // 150 cards of the widest text added and removed: about 600 KB of events, over four times the queue.
      const pings: number[] = [];
      for (let i = 0; i < 150; i++) {
        const added = await grace.client.request({ type: 'deck_add', text: wide(500) });
        const card = added.card?.id ?? (await grace.client.nextEvent((e) => e.event.kind === 'deck_card_added')).event.card.id;
        await grace.client.request({ type: 'deck_remove', card });
        if (i % 30 === 0) {
          const t = performance.now();
          await other.client.send({ type: 'ping' });
          pings.push(performance.now() - t);
        }
      }
      for (let attempt = 0; attempt < 3; attempt++) {
        const back = await TestClient.connectWelcomed(s.wsUrl, `ada-back-${attempt}`);
        const result = await back.request({ type: 'join', room: room.room, resume: ada.token, after });
        expect(result.replay).toBeUndefined();
        expect(result.snapshot.members.find((m: { id: string }) => m.id === ada.id)).toMatchObject({ presence: 'online' });
        await back.expectNoFrame(300);
        expect(back.isOpen).toBe(true);
        expect((await back.send({ type: 'ping' })).type).toBe('reply');
        back.terminate();
        await grace.client.nextEvent((e) => e.event.kind === 'member_connection_lost');
      }
      console.log(`resume after ~600 KB of missed events with a 128 KiB send queue: a snapshot each time; another room's ping ${Math.max(...pings).toFixed(1)} ms at most`);
      expect(s.stderr()).not.toContain('slow_consumer');
    } finally {
      await s.stop();
    }
  }, 60_000);
});
