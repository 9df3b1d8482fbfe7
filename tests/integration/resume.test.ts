// Catching up after a dropped connection: `join` with `resume` and `after` (protocol/README.md#join).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoom } from '../lib/api.js';
import { joinFacilitator, joinParticipant, joinWith } from '../lib/room.js';
import { startServer, type RunningServer } from '../lib/server.js';
import { TestClient } from '../lib/ws-client.js';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('resume with after', () => {
  it('replays exactly the missed events, in order, after the reply; no snapshot, no gap, no duplicate', async () => {
    const room = await createRoom(server.baseUrl, 'Spring cohort');
    const grace = await joinFacilitator(server.wsUrl, room, 'Grace');
    const ada = await joinParticipant(server.wsUrl, room, 'Ada');
    const lastApplied = ada.result.snapshot.seq;
    ada.client.terminate(); // the connection drops without a close handshake
    await grace.client.nextEvent((e) => e.event.kind === 'member_connection_lost');
    const lin = await joinParticipant(server.wsUrl, room, 'Lin');
    await lin.client.request({ type: 'leave' });
    await grace.client.nextEvent((e) => e.event.kind === 'member_left');

    const client = await TestClient.connectWelcomed(server.wsUrl, 'ada-back');
    const result = await client.request({ type: 'join', room: room.room, resume: ada.token, after: lastApplied });
    expect(result.snapshot).toBeUndefined();
    expect(result.replay).toEqual({ after: lastApplied, events: 4 });
    expect(result.member.id).toBe(ada.id);
    const replayed = [];
    for (let i = 0; i < 4; i++) replayed.push(await client.nextEvent());
    expect(replayed.map((e) => e.seq)).toEqual([1, 2, 3, 4].map((n) => lastApplied + n));
    expect(replayed.map((e) => e.event.kind)).toEqual(['member_connection_lost', 'member_joined', 'member_left', 'member_back']);
    // On the wire: welcome, the reply, then the replayed events.
    expect(client.received.map((r) => r.frame.type)).toEqual(['welcome', 'reply', 'event', 'event', 'event', 'event']);

    // Everyone agrees on what happened at each seq.
    const back = await grace.client.nextEvent((e) => e.event.kind === 'member_back');
    expect(back).toEqual(replayed[3]);
    await client.expectNoFrame(200);
  });

  it('sends a snapshot when the position is not in this room history', async () => {
    const room = await createRoom(server.baseUrl, 'Autumn set');
    const ada = await joinParticipant(server.wsUrl, room, 'Ada');
    ada.client.terminate();
    await new Promise((r) => setTimeout(r, 100));
    const again = await joinWith(server.wsUrl, { room: room.room, resume: ada.token, after: 1000 }, 'ada-far');
    expect(again.result.replay).toBeUndefined();
    expect(again.result.snapshot.members).toHaveLength(1);
    expect(again.result.snapshot.members[0].presence).toBe('online');
  });

  it('refuses after with a join code, or a non-integer after, and changes nothing', async () => {
    const room = await createRoom(server.baseUrl, 'Winter set');
    const grace = await joinFacilitator(server.wsUrl, room, 'Grace');
    const client = await TestClient.connectWelcomed(server.wsUrl, 'bad-after');
    for (const fields of [
      { code: room.join_code, name: 'Ada', after: 1 },
      { resume: grace.token, after: -1 },
      { resume: grace.token, after: 2.5 },
      { resume: grace.token, after: '2' },
    ]) {
      const error = await client.send({ type: 'join', room: room.room, ...fields });
      expect(error.type, JSON.stringify(fields)).toBe('error');
      expect(error.code, JSON.stringify(fields)).toBe('invalid_field');
    }
    await grace.client.expectNoFrame(200);
  });
});
