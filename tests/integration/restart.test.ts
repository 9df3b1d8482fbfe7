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

  it('keeps timers as state: a deadline that passed while the server was down fires once at start', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'colloquy-timer-'));
    try {
      const first = await startServer({ dataDir: dir });
      const room = await createRoom(first.baseUrl, 'Timed');
      const grace = await joinFacilitator(first.wsUrl, room, 'Grace');
      await grace.client.request({ type: 'timer', timer: 'phase', action: 'start', seconds: 1 });
      await first.stop();
      await new Promise((r) => setTimeout(r, 1300));
      const second = await startServer({ dataDir: dir });
      await new Promise((r) => setTimeout(r, 300));
      const back = await joinWith(second.wsUrl, { room: room.room, resume: grace.token }, 'grace-back');
      expect(back.result.snapshot.timers.phase.state).toBe('expired');
      await second.stop();
      const third = await startServer({ dataDir: dir });
      const again = await joinWith(third.wsUrl, { room: room.room, resume: grace.token }, 'grace-again');
      expect(again.result.snapshot.timers.phase.state).toBe('expired');
      expect(again.result.snapshot.seq).toBe(back.result.snapshot.seq + 2); // her connection lost and back: no second expiry
      await third.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
