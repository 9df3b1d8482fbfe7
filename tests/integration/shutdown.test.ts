// Stopping: SIGTERM/SIGINT close every WebSocket with 1001 server_shutdown and exit 0 (README.md#operations).
import { describe, expect, it } from 'vitest';
import { createRoom } from '../lib/api.js';
import { joinFacilitator, joinParticipant } from '../lib/room.js';
import { startServer } from '../lib/server.js';
import { TestClient } from '../lib/ws-client.js';

async function shutdownWith(sig: 'SIGTERM' | 'SIGINT') {
  const server = await startServer();
  try {
    const room = await createRoom(server.baseUrl, 'Closing time');
    const fac = await joinFacilitator(server.wsUrl, room);
    const ada = await joinParticipant(server.wsUrl, room, 'Ada');
    const idle = await TestClient.connectWelcomed(server.wsUrl, 'idle'); // connected, not joined
    const clients = [fac.client, ada.client, idle];
    const started = Date.now();
    server.signal(sig);
    const closes = await Promise.all(clients.map((c) => c.waitClosed(5_000)));
    for (const close of closes) expect(close).toEqual({ code: 1001, reason: 'server_shutdown' });
    const exit = await Promise.race([
      server.exited,
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5_000 - (Date.now() - started))),
    ]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(5_000);
    // No member saw a presence change pushed before the close (the room ends with the server).
    for (const c of clients) expect(c.received.filter((r) => r.frame.type === 'error')).toEqual([]);
  } finally {
    await server.stop();
  }
}

describe('shutdown', () => {
  it('SIGTERM with clients connected: each gets close 1001 server_shutdown; exit code 0 within 5 s', async () => {
    await shutdownWith('SIGTERM');
  });

  it('SIGINT does the same', async () => {
    await shutdownWith('SIGINT');
  });

  it('SIGTERM with no clients exits 0 quickly', async () => {
    const server = await startServer();
    const started = Date.now();
    const info = await server.stop();
    expect(info).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
