// Secrets (facilitator keys, join codes, resume tokens) never reach the log (README.md#operations).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoom, postRoom } from '../lib/api.js';
import { joinFacilitator, joinParticipant, joinWith } from '../lib/room.js';
import { startServer, type RunningServer } from '../lib/server.js';
import { TestClient } from '../lib/ws-client.js';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ args: ['--log-level', 'debug'] });
});
afterAll(async () => {
  await server?.stop();
});

describe('secrets are never logged', () => {
  it('a full flow at --log-level debug leaves no key, code or token in stderr', async () => {
    const secrets: string[] = [];
    const rooms = [await createRoom(server.baseUrl, 'Secret room'), await createRoom(server.baseUrl, 'Second secret room')];
    for (const r of rooms) secrets.push(r.facilitator_key, r.join_code);
    const room = rooms[0]!;
    const fac = await joinFacilitator(server.wsUrl, room);
    const ada = await joinParticipant(server.wsUrl, room, 'Ada');
    const lin = await joinParticipant(server.wsUrl, room, 'Lin');
    secrets.push(fac.token, ada.token, lin.token);
    // Drop and resume; resume over an open socket (replaced); leave and resume.
    ada.client.terminate();
    await fac.client.nextEvent((e) => e.event.kind === 'member_connection_lost');
    const ada2 = await joinWith(server.wsUrl, { room: room.room, resume: ada.token }, 'ada2');
    const ada3 = await joinWith(server.wsUrl, { room: room.room, resume: ada.token }, 'ada3');
    await ada2.client.waitClosed();
    await lin.client.request({ type: 'leave' });
    await lin.client.request({ type: 'join', room: room.room, resume: lin.token });
    // Wrong secrets: close guesses (a real secret of another room, an altered one) are secrets too.
    const guesses = [
      rooms[1]!.facilitator_key,
      rooms[1]!.join_code,
      room.facilitator_key.slice(0, -1) + (room.facilitator_key.endsWith('A') ? 'B' : 'A'),
      room.join_code.slice(0, -1) + (room.join_code.endsWith('A') ? 'B' : 'A'),
      fac.token.slice(0, -1) + (fac.token.endsWith('A') ? 'B' : 'A'),
    ];
    secrets.push(...guesses);
    const eve = await TestClient.connectWelcomed(server.wsUrl, 'eve');
    for (const [i, g] of guesses.entries()) {
      expect(await eve.send({ type: 'join', id: `k${i}`, room: room.room, key: g, name: 'Eve' })).toMatchObject({ code: 'bad_credentials' });
      expect(await eve.send({ type: 'join', id: `c${i}`, room: room.room, code: g, name: 'Eve' })).toMatchObject({ code: 'bad_credentials' });
      expect(await eve.send({ type: 'join', id: `r${i}`, room: room.room, resume: g })).toMatchObject({ code: 'bad_credentials' });
    }
    // Secrets in bad frames too (the server must not echo raw frames into its log).
    eve.sendRaw(`{"type":"join","id":"x","room":"${room.room}","key":"${room.facilitator_key}",`);
    await eve.nextResponse();
    eve.sendRaw(JSON.stringify({ type: 'join', id: 'y', room: room.room, code: room.join_code, name: 'Eve', extra: 1 }));
    await eve.nextResponse();
    // ...and in an HTTP request path and an API error.
    await postRoom(server.baseUrl, { title: 'x', facilitator_key: room.facilitator_key });
    for (const c of [fac.client, ada3.client, lin.client, eve]) await c.close();
    await new Promise((r) => setTimeout(r, 300)); // let the log lines of the closes arrive

    const log = server.stderr();
    for (const s of secrets) {
      expect(s.length).toBeGreaterThanOrEqual(16);
      expect(log.includes(s), `secret ${s.slice(0, 4)}… appears in the log`).toBe(false);
    }
  });

  it('log lines are "<UTC time> <level> <message>" and debug logging is on', () => {
    const lines = server.stderr().split('\n').filter((l) => l.trim() !== '');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line).toMatch(/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?Z?\s+(debug|info|warn|error)\s+\S/i);
    }
    expect(lines.some((l) => /\sdebug\s/i.test(l)), 'at least one debug line at --log-level debug').toBe(true);
  });
});

describe('a line feed from outside cannot forge a log line', () => {
  it('room ids, names and titles with a line feed are refused; a logged value with one is escaped', async () => {
    const forged = '2026-01-01T00:00:00.000Z error forged by a line feed';
    // A value that does reach the log (the web client's directory, in the start-up line).
    const parent = mkdtempSync(path.join(os.tmpdir(), 'colloquy-logs-'));
    const dir = path.join(parent, `web\n${forged}`);
    mkdirSync(dir);
    const s = await startServer({ args: ['--log-level', 'debug', '--static-dir', dir] });
    try {
      const bad = await postRoom(s.baseUrl, { title: `Title\n${forged}` });
      expect(bad.status).toBe(400);
      expect(bad.json.error.code).toBe('invalid_title');
      const room = await createRoom(s.baseUrl, 'Line feeds');
      const client = await TestClient.connectWelcomed(s.wsUrl, 'lf');
      const noRoom = await client.send({ type: 'join', room: `r\n${forged}`, code: room.join_code, name: 'Ada' });
      expect(noRoom.code).toBe('room_not_found');
      const badName = await client.send({ type: 'join', room: room.room, code: room.join_code, name: `Ada\n${forged}` });
      expect(badName.code).toBe('invalid_name');
      const ok = await client.send({ type: 'join', room: room.room, code: room.join_code, name: 'Ada' });
      expect(ok.type).toBe('reply');
      await client.close();
      await new Promise((r) => setTimeout(r, 300));
      const lines = s.stderr().split('\n').filter((l) => l.trim() !== '');
      const mentions = lines.filter((l) => l.includes('forged by a line feed'));
      expect(mentions.length, 'the directory name reached the log').toBeGreaterThanOrEqual(1);
      for (const line of mentions) {
        expect(line.startsWith(forged), line).toBe(false);
        expect(line).toContain(`web\\n${forged}`); // the line feed written as \n
      }
      for (const line of lines) expect(line).toMatch(/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?Z?\s+(debug|info|warn|error)\s+\S/i);
    } finally {
      await s.stop();
      rmSync(parent, { recursive: true, force: true });
    }
  });
});
