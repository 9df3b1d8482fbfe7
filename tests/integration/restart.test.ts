// The embedded default keeps rooms across a restart (data directory: deploy/README.md#data-directory).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRoom } from '../lib/api.js';
import { joinFacilitator, joinParticipant, joinWith } from '../lib/room.js';
import { startServer } from '../lib/server.js';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'colloquy-restart-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('restart with the same data directory', () => {
  it('restores rooms, members, roles and secrets; members come back with their resume tokens', async () => {
    const first = await startServer({ dataDir });
    const room = await createRoom(first.baseUrl, 'Spring cohort');
    const grace = await joinFacilitator(first.wsUrl, room, 'Grace');
    const ada = await joinParticipant(first.wsUrl, room, 'Ada');
    const lin = await joinParticipant(first.wsUrl, room, 'Lin');
    await lin.client.request({ type: 'leave' });
    const seqBefore = (await grace.client.nextEvent((e) => e.event.kind === 'member_left')).seq;
    expect((await first.stop()).code).toBe(0);

    // No secret is written to disk: only hashes.
    const stored = readdirSync(dataDir).map((f) => readFileSync(path.join(dataDir, f), 'utf8')).join('\n');
    for (const secret of [room.facilitator_key, room.join_code, grace.token, ada.token, lin.token]) {
      expect(stored.includes(secret), 'a secret was written to the data directory').toBe(false);
    }

    const second = await startServer({ dataDir });
    const health = JSON.parse((await fetch(`${second.baseUrl}/healthz`).then((r) => r.text())));
    expect(health.rooms).toBe(1);

    const back = await joinWith(second.wsUrl, { room: room.room, resume: ada.token }, 'ada-again');
    expect(back.result.member).toEqual({ id: ada.id, name: 'Ada', role: 'participant' });
    const snapshot = back.result.snapshot;
    expect(snapshot.title).toBe('Spring cohort');
    // Grace was connected when the server stopped: away (the restart recorded it), Ada is back, Lin left.
    expect(snapshot.members.map(({ id, name, role, presence }: Record<string, string>) => ({ id, name, role, presence }))).toEqual([
      { id: grace.id, name: 'Grace', role: 'facilitator', presence: 'away' },
      { id: ada.id, name: 'Ada', role: 'participant', presence: 'online' },
      { id: lin.id, name: 'Lin', role: 'participant', presence: 'left' },
    ]);
    expect(snapshot.seq).toBeGreaterThan(seqBefore);

    const graceBack = await joinWith(second.wsUrl, { room: room.room, resume: grace.token }, 'grace-again');
    expect(graceBack.result.member.role).toBe('facilitator');
    const seen = await back.client.nextEvent((e) => e.event.kind === 'member_back');
    expect(seen.event.member_id).toBe(grace.id);
    expect(seen.seq).toBe(snapshot.seq + 1);

    // The invite code still admits new members, and the facilitator key still makes facilitators.
    const kim = await joinParticipant(second.wsUrl, room, 'Kim');
    expect(kim.result.snapshot.members).toHaveLength(4);
    const cofac = await joinFacilitator(second.wsUrl, room, 'Sam');
    expect(cofac.result.member.role).toBe('facilitator');
    expect((await second.stop()).code).toBe(0);
  });

  it('refuses to start on a data directory another server is using, with a clear message', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'colloquy-locked-'));
    try {
      const first = await startServer({ dataDir: dir });
      await expect(startServer({ dataDir: dir })).rejects.toThrow(/in use by another colloquy process/);
      await first.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps timers as state: one running at the stop is paused with what it had left, and fires once when resumed', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'colloquy-timer-'));
    try {
      const first = await startServer({ dataDir: dir });
      const room = await createRoom(first.baseUrl, 'Timed');
      const grace = await joinFacilitator(first.wsUrl, room, 'Grace');
      await grace.client.request({ type: 'timer', timer: 'phase', action: 'start', seconds: 1 });
      await first.stop();
      await new Promise((r) => setTimeout(r, 1300)); // its deadline passes while the server is down
      const second = await startServer({ dataDir: dir });
      await new Promise((r) => setTimeout(r, 300));
      const back = await joinWith(second.wsUrl, { room: room.room, resume: grace.token }, 'grace-back');
      expect(back.result.snapshot.timers.phase.state).toBe('paused');
      expect(back.result.snapshot.timers.phase.remaining_ms).toBeGreaterThan(0);
      expect(back.result.snapshot.timers.phase.remaining_ms).toBeLessThanOrEqual(1000);
      expect(back.result.snapshot.paused.reason).toBe('restart');
      await back.client.request({ type: 'resume' });
      const expiredAt = (await back.client.nextEvent((e) => e.event.kind === 'timer_expired', 3000)).seq;
      await second.stop();
      const third = await startServer({ dataDir: dir });
      const again = await joinWith(third.wsUrl, { room: room.room, resume: grace.token }, 'grace-again');
      expect(again.result.snapshot.timers.phase.state).toBe('expired');
      expect(again.result.snapshot.paused).toBeNull(); // nothing ran at the second stop: nothing paused
      expect(again.result.snapshot.seq).toBe(expiredAt + 2); // her connection lost and back: no second expiry
      await third.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a restart mid-round (1.6)', () => {
  it('pauses the round: nobody skipped, the outage not credited; the facilitator resumes with the same speaker and time', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'colloquy-midround-'));
    try {
      const first = await startServer({ dataDir: dir });
      const room = await createRoom(first.baseUrl, 'Check-in');
      const grace = await joinFacilitator(first.wsUrl, room, 'Grace');
      const ada = await joinParticipant(first.wsUrl, room, 'Ada');
      const lin = await joinParticipant(first.wsUrl, room, 'Lin');
      await lin.client.request({ type: 'hand_raise' });
      await grace.client.request({ type: 'round_start', order: [ada.id, lin.id], turn_seconds: 600 });
      const started = await grace.client.nextEvent((e) => e.event.kind === 'turn_started');
      await new Promise((r) => setTimeout(r, 1500));
      const stopAt = Date.now();
      expect((await first.stop()).code).toBe(0);
      await new Promise((r) => setTimeout(r, 3000)); // three seconds of outage

      const second = await startServer({ dataDir: dir });
      await new Promise((r) => setTimeout(r, 500)); // long enough for any skip to have happened
      const back = await joinWith(second.wsUrl, { room: room.room, resume: grace.token }, 'grace-back');
      const snap = back.result.snapshot;
      expect(snap.paused.reason).toBe('restart');
      expect(snap.paused.since).toBeGreaterThanOrEqual(stopAt - 100); // the heartbeat written at the stop
      expect(snap.paused.since).toBeLessThan(stopAt + 1000);
      expect(snap.turn.member_id).toBe(ada.id);
      expect(snap.round.remaining).toEqual([ada.id, lin.id]);
      expect(snap.round.outcomes, 'nobody was skipped').toEqual([]);
      expect(snap.floor.queue, 'hands stay raised').toEqual([lin.id]);
      expect(snap.timers.turn.state).toBe('paused');
      const left = snap.timers.turn.remaining_ms;
      const ranBefore = snap.paused.since - started.time;
      expect(left).toBe(600_000 - ranBefore); // counted to the last moment alive, not through the outage
      expect(ranBefore).toBeLessThan(2500);

      const adaBack = await joinWith(second.wsUrl, { room: room.room, resume: ada.token }, 'ada-back');
      await joinWith(second.wsUrl, { room: room.room, resume: lin.token }, 'lin-back'); // everyone is back: resume
      expect(await adaBack.client.send({ type: 'round_finish' })).toMatchObject({ type: 'error', code: 'activity_paused' });
      await back.client.request({ type: 'resume' });
      const resumed = await adaBack.client.nextEvent((e) => e.event.kind === 'activity_resumed');
      const timer = await adaBack.client.nextEvent((e) => e.event.kind === 'timer_set' && e.event.action === 'resume');
      expect(timer.event.state.ends_at).toBe(resumed.time + left); // the same speaker with her remaining time
      await new Promise((r) => setTimeout(r, 1000));
      await adaBack.client.request({ type: 'round_finish' });
      const ended = await adaBack.client.nextEvent((e) => e.event.kind === 'turn_ended');
      expect(ended.event.outcome).toBe('spoke');
      expect(ended.event.ms).toBe(ranBefore + (ended.time - resumed.time)); // the outage is not airtime
      await adaBack.client.nextEvent((e) => e.event.kind === 'turn_started' && e.event.member_id === lin.id);
      expect((await second.stop()).code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
