// Limits a client cannot talk its way past (protocol/README.md#limits): each holds at its cap, gives
// its documented error, changes nothing beyond the cap, and never slows down anyone else.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoom } from '../lib/api.js';
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
