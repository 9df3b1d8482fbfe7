// Live rounds over WebSocket (protocol/README.md#live-rounds-since-12): one server, then three
// instances sharing the room through Redis, where each turn's expiry must land exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoom } from '../lib/api.js';
import { startRedis } from '../lib/redis.js';
import { joinFacilitator, joinParticipant, sleep, type Member } from '../lib/room.js';
import { startServer, type RunningServer } from '../lib/server.js';
import { TestClient, type Frame } from '../lib/ws-client.js';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

async function errorOf(m: Member, cmd: Frame): Promise<string> {
  const f = await m.client.send(cmd);
  expect(f.type, JSON.stringify(f)).toBe('error');
  return f.code;
}

describe('go-round on one server', () => {
  it('runs by itself through every member with 1-second turns; everyone sees the same turns', async () => {
    const room = await createRoom(server.baseUrl, 'Check-in');
    const grace = await joinFacilitator(server.wsUrl, room, 'Grace');
    const ada = await joinParticipant(server.wsUrl, room, 'Ada');
    const lin = await joinParticipant(server.wsUrl, room, 'Lin');
    await grace.client.request({ type: 'round_start', order: 'join', turn_seconds: 1 });
    const speakers: string[] = [];
    for (;;) {
      const e = await grace.client.nextEvent((f) => f.event.kind === 'turn_started' || f.event.kind === 'round_ended', 5_000);
      if (e.event.kind === 'round_ended') {
        expect(e.event.reason).toBe('completed');
        break;
      }
      speakers.push(e.event.member_id);
    }
    expect(speakers).toEqual([grace.id, ada.id, lin.id]);
    for (const m of [ada, lin]) await m.client.nextEvent((e) => e.event.kind === 'round_ended', 5_000);
    await sleep(100); // the turn timer's reset follows the end
    // Everyone's copy agrees event by event.
    const since = lin.result.snapshot.seq;
    const seqs = (m: Member) => m.client.events().filter((f) => f.seq > since).map((f) => JSON.stringify(f));
    expect(seqs(grace).length).toBeGreaterThanOrEqual(10);
    expect(seqs(ada)).toEqual(seqs(grace));
    expect(seqs(lin)).toEqual(seqs(grace));
    // Airtime about one second each, measured by the server.
    const probe = await joinParticipant(server.wsUrl, room, 'Probe');
    for (const m of probe.result.snapshot.members.slice(0, 3)) {
      expect(m.airtime_ms).toBeGreaterThanOrEqual(1000);
      expect(m.airtime_ms).toBeLessThan(1600);
    }
  });

  it('finish, pass, permissions and bad input: clear codes, nothing changes', async () => {
    const room = await createRoom(server.baseUrl, 'Reflections');
    const grace = await joinFacilitator(server.wsUrl, room, 'Grace');
    const ada = await joinParticipant(server.wsUrl, room, 'Ada');
    const lin = await joinParticipant(server.wsUrl, room, 'Lin');
    expect(await errorOf(ada, { type: 'round_start', order: 'join', turn_seconds: 60 })).toBe('forbidden');
    expect(await errorOf(grace, { type: 'round_start', order: 'join', turn_seconds: 0 })).toBe('invalid_duration');
    expect(await errorOf(grace, { type: 'round_start', order: 'join', turn_seconds: 14401 })).toBe('invalid_duration');
    expect(await errorOf(grace, { type: 'round_start', order: [ada.id, 'm99'], turn_seconds: 60 })).toBe('unknown_member');
    await grace.client.request({ type: 'round_start', order: [ada.id, lin.id], turn_seconds: 600 });
    expect(await errorOf(grace, { type: 'round_start', order: 'join', turn_seconds: 60 })).toBe('round_in_progress');
    expect(await errorOf(lin, { type: 'round_finish' })).toBe('not_your_turn');
    await ada.client.request({ type: 'round_finish' });
    await lin.client.request({ type: 'round_pass' });
    const ended = await grace.client.nextEvent((e) => e.event.kind === 'round_ended');
    expect(ended.event.reason).toBe('completed');
    const outcomes = grace.client.events().filter((e) => e.event.kind === 'turn_ended').map((e) => e.event.outcome);
    expect(outcomes).toEqual(['spoke', 'passed']);

    await ada.client.request({ type: 'hand_raise' });
    expect(await errorOf(ada, { type: 'hand_raise' })).toBe('hand_already_raised');
    expect(await errorOf(lin, { type: 'hand_lower' })).toBe('hand_not_raised');
    expect(await errorOf(lin, { type: 'floor_give' })).toBe('forbidden');
    await grace.client.request({ type: 'floor_give' });
    const turn = await lin.client.nextEvent((e) => e.event.kind === 'turn_started' && e.event.mode === 'floor');
    expect(turn.event).toEqual({ kind: 'turn_started', member_id: ada.id, mode: 'floor' });
    expect(await errorOf(grace, { type: 'timer', timer: 'phase', action: 'pause' })).toBe('timer_not_running');
    const quiet = await TestClient.connectWelcomed(server.wsUrl, 'not-joined');
    expect((await quiet.send({ type: 'hand_raise' })).code).toBe('not_joined');
  });
});

describe('protocol rules kept (issue 9)', () => {
  it('floor_give lowers the hand by a hand_lowered event before turn_started; auto-advance too', async () => {
    const room = await createRoom(server.baseUrl, 'Dialogue');
    const grace = await joinFacilitator(server.wsUrl, room, 'Grace');
    const ada = await joinParticipant(server.wsUrl, room, 'Ada');
    const lin = await joinParticipant(server.wsUrl, room, 'Lin');
    const since = lin.result.snapshot.seq;
    await grace.client.request({ type: 'floor_settings', turn_seconds: null, auto_advance: true, quieter_first: false });
    await ada.client.request({ type: 'hand_raise' });
    await lin.client.request({ type: 'hand_raise' });
    await grace.client.request({ type: 'floor_give' });
    await grace.client.nextEvent((e) => e.event.kind === 'turn_started' && e.event.member_id === ada.id);
    await grace.client.request({ type: 'floor_release' }); // auto-advance: Lin
    await grace.client.nextEvent((e) => e.event.kind === 'turn_started' && e.event.member_id === lin.id);
    const kinds = grace.client
      .events()
      .filter((f) => f.seq > since && ['hand_lowered', 'turn_started', 'turn_ended'].includes(f.event.kind))
      .map((f) => `${f.event.kind} ${f.event.member_id}`);
    expect(kinds).toEqual([
      `hand_lowered ${ada.id}`,
      `turn_started ${ada.id}`,
      `turn_ended ${ada.id}`,
      `hand_lowered ${lin.id}`,
      `turn_started ${lin.id}`,
    ]);
    // A client built from the event table alone agrees with a fresh snapshot: no hand raised.
    const raised = new Set<string>();
    for (const f of grace.client.events().filter((x) => x.seq > since)) {
      if (f.event.kind === 'hand_raised') raised.add(f.event.member_id);
      if (f.event.kind === 'hand_lowered') raised.delete(f.event.member_id);
    }
    expect([...raised]).toEqual([]);
    const probe = await joinParticipant(server.wsUrl, room, 'Probe');
    expect(probe.result.snapshot.floor.queue).toEqual([]);
  });

  it('a speaker whose connection drops mid-turn goes to the end when they come back during the round', async () => {
    const room = await createRoom(server.baseUrl, 'Check-in');
    const grace = await joinFacilitator(server.wsUrl, room, 'Grace');
    const ada = await joinParticipant(server.wsUrl, room, 'Ada');
    const lin = await joinParticipant(server.wsUrl, room, 'Lin');
    await grace.client.request({ type: 'round_start', order: [ada.id, lin.id, grace.id], turn_seconds: 600 });
    ada.client.terminate(); // mid-turn
    const skipped = await grace.client.nextEvent((e) => e.event.kind === 'turn_ended' && e.event.member_id === ada.id);
    expect(skipped.event.outcome).toBe('skipped');
    await grace.client.nextEvent((e) => e.event.kind === 'turn_started' && e.event.member_id === lin.id);
    const back = await TestClient.connectWelcomed(server.wsUrl, 'ada-back');
    const rejoined = await back.request({ type: 'join', room: room.room, resume: ada.token });
    expect(rejoined.snapshot.round.remaining).toEqual([lin.id, grace.id, ada.id]);
    const order = await grace.client.nextEvent((e) => e.event.kind === 'round_order_changed');
    expect(order.event.remaining).toEqual([lin.id, grace.id, ada.id]);
    await lin.client.request({ type: 'round_finish' });
    await grace.client.nextEvent((e) => e.event.kind === 'turn_started' && e.event.member_id === grace.id);
    await grace.client.request({ type: 'round_finish' });
    await back.nextEvent((e) => e.event.kind === 'turn_started' && e.event.member_id === ada.id);
    await back.request({ type: 'round_finish' }); // refused unless it is her turn
    expect((await grace.client.nextEvent((e) => e.event.kind === 'round_ended')).event.reason).toBe('completed');
    const turns = grace.client.events().filter((f) => f.event.kind === 'turn_started').map((f) => f.event.member_id);
    expect(turns).toEqual([ada.id, lin.id, grace.id, ada.id]);
  });

  it('an observer gets forbidden before any state check; extends stop at 4 hours', async () => {
    const room = await createRoom(server.baseUrl, 'Watched');
    const grace = await joinFacilitator(server.wsUrl, room, 'Grace');
    const obs = await joinParticipant(server.wsUrl, room, 'Olu');
    await grace.client.request({ type: 'set_role', member: obs.id, role: 'observer' });
    for (const cmd of [{ type: 'hand_lower' }, { type: 'floor_release' }, { type: 'round_finish' }, { type: 'audit_close' }]) {
      expect(await errorOf(obs, cmd), JSON.stringify(cmd)).toBe('forbidden');
    }
    expect(await errorOf(grace, { type: 'audit_close' })).toBe('no_audit');

    await grace.client.request({ type: 'timer', timer: 'phase', action: 'start', seconds: 14400 });
    expect(await errorOf(grace, { type: 'timer', timer: 'phase', action: 'extend', seconds: 1 })).toBe('invalid_duration');
    for (let i = 0; i < 3; i++) {
      expect(await errorOf(grace, { type: 'timer', timer: 'phase', action: 'extend', seconds: 14400 })).toBe('invalid_duration');
    }
    const probe = await joinParticipant(server.wsUrl, room, 'Probe');
    expect(probe.result.snapshot.timers.phase.duration_ms).toBe(14_400_000);
  });
});

describe('go-round across three instances', () => {
  it('each turn expires exactly once and every member, on its own instance, sees the same speaker', async () => {
    const redis = await startRedis();
    const start = () => startServer({ args: ['--redis', redis.url] });
    const instances = await Promise.all([start(), start(), start()]);
    const room = await createRoom(instances[0]!.baseUrl, 'Three instances');
    const grace = await joinFacilitator(instances[0]!.wsUrl, room, 'Grace');
    const ada = await joinParticipant(instances[1]!.wsUrl, room, 'Ada');
    const lin = await joinParticipant(instances[2]!.wsUrl, room, 'Lin');
    await sleep(200); // all three instances follow the room
    await grace.client.request({ type: 'round_start', order: 'join', turn_seconds: 1 });
    await grace.client.nextEvent((e) => e.event.kind === 'round_ended', 10_000);
    await sleep(300);
    for (const m of [grace, ada, lin]) {
      const kinds = m.client.events().map((e) => e.event.kind);
      expect(kinds.filter((k) => k === 'timer_expired'), `${m.client.label} expiries`).toHaveLength(3);
      expect(kinds.filter((k) => k === 'turn_started')).toHaveLength(3);
      expect(kinds.filter((k) => k === 'round_ended')).toHaveLength(1);
    }
    const seqs = (m: Member) => m.client.events().filter((e) => e.seq > ada.result.snapshot.seq + 1).map((e) => JSON.stringify(e));
    expect(seqs(ada)).toEqual(seqs(grace));
    expect(seqs(lin)).toEqual(seqs(grace));
    // The log holds one expiry per turn.
    const entries = await redis.cli('XRANGE', `colloquy:room:{${room.room}}:log`, '-', '+');
    expect(entries.split('\n').filter((l) => l.includes('timer_expired'))).toHaveLength(3);
    await Promise.all(instances.map((s) => s.stop()));
    await redis.stop();
  }, 30_000);
});
