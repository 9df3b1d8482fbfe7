// kill -9 one of three instances behind a load balancer (HAProxy) while the room changes: its
// members reconnect through the proxy and catch up with `after`, without a gap or a duplicate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoom, type CreatedRoom } from '../lib/api.js';
import { startProxy, type RunningProxy } from '../lib/proxy.js';
import { startRedis, type RunningRedis } from '../lib/redis.js';
import { joinParticipant, sleep } from '../lib/room.js';
import { startServer, type RunningServer } from '../lib/server.js';
import { TestClient, type Frame } from '../lib/ws-client.js';

let redis: RunningRedis;
let servers: RunningServer[];
let proxy: RunningProxy;

beforeAll(async () => {
  redis = await startRedis();
  // These tests change rooms as fast as they can on purpose: no per-connection rate limit here.
  const start = () => startServer({ args: ['--redis', redis.url, '--max-commands-per-second', '100000'] });
  servers = await Promise.all([start(), start(), start()]);
  proxy = await startProxy(servers.map((s) => s.port));
});
afterAll(async () => {
  await proxy?.stop();
  await Promise.all(servers.map((s) => s.stop()));
  await redis?.stop();
});

/** A member as the web client behaves: applies events by seq, reconnects and resumes with `after`. */
class ResumingMember {
  client!: TestClient;
  token = '';
  id = '';
  seq = 0;
  applied: number[] = [];
  duplicates: number[] = [];
  gaps: string[] = [];
  reconnects = 0;
  closes: { code: number; reason: string }[] = [];
  private stopped = false;

  constructor(
    readonly name: string,
    readonly room: CreatedRoom,
  ) {}

  async start(): Promise<void> {
    await this.connect({ code: this.room.join_code, name: this.name });
  }

  private async connect(credentials: Frame): Promise<void> {
    const client = await TestClient.connectWelcomed(proxy.wsUrl, this.name);
    this.client = client;
    const id = `join-${this.reconnects}`;
    // The reply and the events after it are handled in arrival order, as the web client does.
    client.onFrame((f) => {
      if (f.type === 'reply' && f.id === id) {
        this.token = f.result.resume_token;
        this.id = f.result.member.id;
        if (f.result.snapshot) this.seq = f.result.snapshot.seq;
        else if (f.result.replay.after !== this.seq) this.gaps.push(`replay from ${f.result.replay.after}, had ${this.seq}`);
      } else if (f.type === 'event') {
        if (f.seq <= this.seq) this.duplicates.push(f.seq);
        else if (f.seq !== this.seq + 1) this.gaps.push(`${this.seq} -> ${f.seq}`);
        else {
          this.seq = f.seq;
          this.applied.push(f.seq);
        }
      }
    });
    await client.request({ type: 'join', id, room: this.room.room, ...credentials });
    void client.closed.then(async (close) => {
      if (this.stopped) return;
      this.closes.push({ code: close.code, reason: close.reason });
      this.reconnects++;
      // As the web client: retry with a short jittered delay until it is back in.
      for (let attempt = 0; !this.stopped && attempt < 20; attempt++) {
        await sleep(50 + Math.random() * 200);
        try {
          await this.connect({ resume: this.token, after: this.seq });
          return;
        } catch {
          // the instance it reached went away too: try again
        }
      }
    });
  }

  stop(): void {
    this.stopped = true;
    this.client.terminate();
  }
}

/**
 * Waits until every member is connected again (their returns are events too), then until each
 * has reached the room's last seq; asserts that nobody saw a gap or a duplicate on the way.
 */
async function expectAllCaughtUp(members: ResumingMember[], room: CreatedRoom): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (members.some((m) => !m.client.isOpen) && Date.now() < deadline) await sleep(50);
  await sleep(300);
  const last = Number(await redis.cli('HGET', `colloquy:room:{${room.room}}:meta`, 'seq'));
  while (members.some((m) => m.seq < last) && Date.now() < deadline) await sleep(50);
  for (const m of members) {
    expect(m.gaps, `${m.name} gaps`).toEqual([]);
    expect(m.duplicates, `${m.name} duplicates`).toEqual([]);
    expect(m.seq, `${m.name} seq`).toBe(last);
  }
}

describe('an instance dies mid-session', () => {
  it('its members resume through the proxy on the others, gap-free and without duplicates', async () => {
    const room = await createRoom(proxy.baseUrl, 'Failover');
    const members = ['Ada', 'Lin', 'Kim', 'Sam', 'Joy', 'Ravi'].map((n) => new ResumingMember(n, room));
    for (const m of members) await m.start();
    const perInstance = await Promise.all(servers.map(async (s) => (await (await fetch(`${s.baseUrl}/healthz`)).json()).connections));
    expect(perInstance.every((n: number) => n >= 1), `connections per instance ${perInstance}`).toBe(true);

    // Someone keeps changing the room, directly on the first instance, while the second dies.
    const chatter = await joinParticipant(servers[0]!.wsUrl, room, 'Chatter');
    let changes = 0;
    let chatting = true;
    const chat = (async () => {
      while (chatting) {
        await chatter.client.request({ type: 'leave' });
        await chatter.client.request({ type: 'join', room: room.room, resume: chatter.token });
        changes += 2;
        await sleep(20);
      }
    })();
    await sleep(300);
    servers[1]!.signal('SIGKILL');
    await sleep(1500);
    chatting = false;
    await chat;

    await expectAllCaughtUp(members, room);
    for (const m of members) {
      // Contiguous from the first event it applied.
      const first = m.applied[0]!;
      expect(m.applied).toEqual(m.applied.map((_, i) => first + i));
    }
    expect(members.filter((m) => m.reconnects > 0).length, 'members that were on the killed instance').toBeGreaterThanOrEqual(1);
    expect(changes).toBeGreaterThan(10);

    // One member each, no duplicates, in the final room.
    const probe = await TestClient.connectWelcomed(proxy.wsUrl, 'probe');
    const snapshot = (await probe.request({ type: 'join', room: room.room, resume: members[0]!.token })).snapshot;
    expect(snapshot.members.map((m: Frame) => m.name)).toEqual(['Ada', 'Lin', 'Kim', 'Sam', 'Joy', 'Ravi', 'Chatter']);
    for (const m of members) m.stop();
  }, 30_000);
});

describe('an instance drains (SIGTERM)', () => {
  it('closes its WebSockets with 1001, its members resume on the others without loss, and it exits 0', async () => {
    const room = await createRoom(proxy.baseUrl, 'Drain');
    const members = ['Ada', 'Lin', 'Kim', 'Sam', 'Joy', 'Ravi'].map((n) => new ResumingMember(n, room));
    for (const m of members) await m.start();
    const live = servers.filter((s) => s !== servers[1]); // the second one was killed above
    const chatter = await joinParticipant(live[0]!.wsUrl, room, 'Chatter');
    const victim = live[1]!;
    const exited = victim.stop();
    for (let i = 0; i < 10; i++) {
      await chatter.client.request({ type: 'leave' });
      await chatter.client.request({ type: 'join', room: room.room, resume: chatter.token });
    }
    expect((await exited).code).toBe(0);
    await expectAllCaughtUp(members, room);
    expect(members.filter((m) => m.reconnects > 0).length).toBeGreaterThanOrEqual(1);
    expect(members.flatMap((m) => m.closes)).toContainEqual({ code: 1001, reason: 'server_shutdown' });
    for (const m of members) m.stop();
  }, 30_000);
});

