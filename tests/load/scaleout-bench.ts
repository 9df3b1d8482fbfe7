// Benchmark (prints figures; not a pass/fail test): scale-out over a real redis-server.
//   cross-instance delivery latency: a command on instance A until its push arrives on B
//   appends per second in one room, and across 1,000 rooms spread over two instances
// Run: cd tests && npm run bench:scaleout   (COLLOQUY_BENCH_SECONDS, COLLOQUY_BENCH_ROOMS to change)
import { performance } from 'node:perf_hooks';
import { createRoom } from '../lib/api.js';
import { startRedis } from '../lib/redis.js';
import { joinFacilitator, joinParticipant, type Member } from '../lib/room.js';
import { startServer } from '../lib/server.js';

const seconds = Number(process.env.COLLOQUY_BENCH_SECONDS ?? 5);
const roomCount = Number(process.env.COLLOQUY_BENCH_ROOMS ?? 1000);
const latencySamples = Number(process.env.COLLOQUY_BENCH_SAMPLES ?? 2000);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

let refused = 0;

/** Sends until accepted; counts `unavailable` refusals (lost compare-and-append races). */
async function accepted(m: Member, cmd: Record<string, unknown>): Promise<void> {
  for (;;) {
    const f = await m.client.send(cmd);
    if (f.type === 'reply') return;
    if (f.code !== 'unavailable') throw new Error(JSON.stringify(f));
    refused++;
  }
}

/** One leave + resume: two events. */
async function cycle(m: Member, room: string): Promise<void> {
  await accepted(m, { type: 'leave' });
  await accepted(m, { type: 'join', room, resume: m.token });
}

async function main() {
  const redis = await startRedis();
  const start = () => startServer({ args: ['--redis', redis.url, '--log-level', 'warn'] });
  const [a, b] = await Promise.all([start(), start()]);
  try {
    // 1. Cross-instance latency.
    const room = await createRoom(a.baseUrl, 'Latency');
    const actor = await joinParticipant(a.wsUrl, room, 'Actor');
    const watcher = await joinFacilitator(b.wsUrl, room, 'Watcher');
    const samples: number[] = [];
    for (let i = 0; i < latencySamples; i++) {
      const start = performance.now();
      const kind = i % 2 === 0 ? 'member_left' : 'member_back';
      const seen = watcher.client.nextEvent((e) => e.event.kind === kind && e.event.member_id === actor.id);
      if (i % 2 === 0) void actor.client.request({ type: 'leave' });
      else void actor.client.request({ type: 'join', room: room.room, resume: actor.token });
      await seen;
      samples.push(performance.now() - start);
      watcher.client.pending().length = 0;
    }
    samples.sort((x, y) => x - y);
    console.log(`cross-instance delivery (command on A -> push on B), ${samples.length} events:`);
    console.log(`  p50 ${percentile(samples, 50).toFixed(2)} ms   p99 ${percentile(samples, 99).toFixed(2)} ms   max ${samples.at(-1)!.toFixed(2)} ms`);

    // 2. One room: four members on two instances changing it as fast as they can (conflicts included).
    const busy = await createRoom(a.baseUrl, 'Busy');
    const members = await Promise.all([a, b, a, b].map((s, i) => joinParticipant(s.wsUrl, busy, `M${i}`)));
    let events = 0;
    let stop = performance.now() + seconds * 1000;
    await Promise.all(
      members.map(async (m) => {
        while (performance.now() < stop) {
          await cycle(m, busy.room);
          events += 2;
        }
      }),
    );
    console.log(`one room, 4 members on 2 instances: ${(events / seconds).toFixed(0)} appends/s (${refused} commands refused as unavailable and resent)`);
    refused = 0;

    // 3. Many rooms: one member each, alternating instances.
    const many: { m: Member; room: string }[] = [];
    for (let i = 0; i < roomCount; i++) {
      const s = i % 2 === 0 ? a : b;
      const r = await createRoom(s.baseUrl, `Room ${i}`);
      many.push({ m: await joinParticipant(s.wsUrl, r, `P${i}`), room: r.room });
    }
    events = 0;
    stop = performance.now() + seconds * 1000;
    await Promise.all(
      many.map(async ({ m, room: id }) => {
        while (performance.now() < stop) {
          await cycle(m, id);
          events += 2;
        }
      }),
    );
    console.log(`${roomCount} rooms on 2 instances, one member each: ${(events / seconds).toFixed(0)} appends/s in all, ` +
      `${(events / seconds / roomCount).toFixed(1)} per room (${refused} refused and resent)`);
    for (const { m } of many) m.client.terminate();
    for (const m of [...members, actor, watcher]) m.client.terminate();
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    await redis.stop();
  }
}

await main();
