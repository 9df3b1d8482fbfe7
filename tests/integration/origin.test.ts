// Which pages may open a WebSocket (protocol/README.md#transport-and-framing, README.md
// Configuration): the Origin is compared with --public-origin, or without it with the loopback
// origins on the server's own port, and never with the Host header, which a DNS-rebinding page
// controls (its name resolves to the server, so Host and Origin both say evil.example).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wsUpgrade } from '../lib/api.js';
import { startServer, type RunningServer } from '../lib/server.js';

/** Sends a WebSocket upgrade with these headers; resolves with the status (101: upgraded) and body. */
async function upgrade(port: number, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const r = await wsUpgrade(port, headers);
  r.socket?.destroy();
  return r;
}

async function expectRefused(port: number, headers: Record<string, string>) {
  const r = await upgrade(port, headers);
  expect(r.status, JSON.stringify(headers)).toBe(403);
  expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'forbidden_origin' } });
}

async function expectAccepted(port: number, headers: Record<string, string>) {
  expect((await upgrade(port, headers)).status, JSON.stringify(headers)).toBe(101);
}

describe('without --public-origin: loopback on the server\'s own port only', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(); // --port 0: the bound port is the one compared
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('accepts the loopback origins on the bound port, and clients that send no Origin', async () => {
    const p = server.port;
    await expectAccepted(p, { Host: `127.0.0.1:${p}`, Origin: `http://127.0.0.1:${p}` });
    await expectAccepted(p, { Host: `localhost:${p}`, Origin: `http://LocalHost:${p}` });
    await expectAccepted(p, { Host: `[::1]:${p}`, Origin: `http://[::1]:${p}` });
    await expectAccepted(p, { Host: `127.0.0.1:${p}` }); // no Origin: not a browser
  });

  it('refuses a DNS-rebinding upgrade whose Host and Origin agree on another name', async () => {
    const p = server.port;
    await expectRefused(p, { Host: `evil.example:${p}`, Origin: `http://evil.example:${p}` });
    await expectRefused(p, { Host: `127.0.0.1:${p}`, Origin: `http://127.0.0.1:${p === 65535 ? 1 : p + 1}` }); // another port
    await expectRefused(p, { Host: `127.0.0.1:${p}`, Origin: `https://127.0.0.1:${p}` }); // another scheme
    await expectRefused(p, { Host: `127.0.0.1:${p}`, Origin: 'null' });
    await expectRefused(p, { Host: `127.0.0.1:${p}`, Origin: `http://127.0.0.1:${p}.evil.example` });
  });
});

describe('with --public-origin', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ args: ['--public-origin', 'https://colloquy.example.org'] });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('accepts that origin (host case and the default port do not matter) and refuses loopback', async () => {
    const p = server.port;
    await expectAccepted(p, { Host: 'colloquy.example.org', Origin: 'https://colloquy.example.org' });
    await expectAccepted(p, { Host: 'colloquy.example.org', Origin: 'https://Colloquy.Example.ORG:443' });
    await expectAccepted(p, { Host: `127.0.0.1:${p}` }); // no Origin: still accepted
    await expectRefused(p, { Host: `127.0.0.1:${p}`, Origin: `http://127.0.0.1:${p}` });
    await expectRefused(p, { Host: 'colloquy.example.org', Origin: 'http://colloquy.example.org' });
    await expectRefused(p, { Host: 'colloquy.example.org', Origin: 'https://colloquy.example.org:8443' });
    await expectRefused(p, { Host: `evil.example:${p}`, Origin: `http://evil.example:${p}` });
  });

  it('takes several, from COLLOQUY_PUBLIC_ORIGIN separated by commas; a flag replaces the variable', async () => {
    const env = { COLLOQUY_PUBLIC_ORIGIN: 'https://a.example, http://b.example:8080' };
    const s = await startServer({ env });
    try {
      await expectAccepted(s.port, { Origin: 'https://a.example' });
      await expectAccepted(s.port, { Origin: 'http://b.example:8080' });
      await expectRefused(s.port, { Origin: `http://127.0.0.1:${s.port}` });
    } finally {
      await s.stop();
    }
    const flagged = await startServer({ env, args: ['--public-origin', 'https://c.example', '--public-origin', 'https://d.example'] });
    try {
      await expectAccepted(flagged.port, { Origin: 'https://c.example' });
      await expectAccepted(flagged.port, { Origin: 'https://d.example' });
      await expectRefused(flagged.port, { Origin: 'https://a.example' });
    } finally {
      await flagged.stop();
    }
  });
});
