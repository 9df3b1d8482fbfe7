// WebSocket basics: welcome first, ping, framing limits (protocol/README.md#transport-and-framing);
// the framing itself on a raw socket (RFC 6455: fragments, control frames, masking, UTF-8, the
// close handshake), bursts, a reader that stops, and a socket that never finishes its upgrade.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoom } from '../lib/api.js';
import { closePayload, opcode, RawWs } from '../lib/raw-ws.js';
import { joinFacilitator, joinParticipant, probeSnapshot, sleep } from '../lib/room.js';
import { startServer, type RunningServer } from '../lib/server.js';
import { TestClient, type Frame } from '../lib/ws-client.js';

let server: RunningServer;
beforeAll(async () => {
  // Bursts of hundreds of commands test the framing, not the per-connection rate: lifted here.
  server = await startServer({ args: ['--max-commands-per-second', '100000'] });
});
afterAll(async () => {
  await server?.stop();
});

describe('welcome', () => {
  it('is the first frame: protocol 1, server, server_time, max_frame_bytes 65536', async () => {
    const before = Date.now();
    const c = await TestClient.connect(server.wsUrl, 'w');
    const w = await c.welcome();
    const after = Date.now();
    expect(c.received[0]!.frame).toBe(w);
    expect(c.received[0]!.binary).toBe(false);
    expect(w).toMatchObject({ type: 'welcome', protocol: 1, max_frame_bytes: 65536 });
    expect(typeof w.server).toBe('string');
    expect(w.server).toMatch(/^colloquy\//);
    expect(Number.isInteger(w.server_time)).toBe(true);
    expect(w.server_time).toBeGreaterThanOrEqual(before - 1_000);
    expect(w.server_time).toBeLessThanOrEqual(after + 1_000);
    expect(w).not.toHaveProperty('id');
    await c.close();
  });

  it('is sent once, before anything else, even when a command is sent at once', async () => {
    const c = await TestClient.connect(server.wsUrl, 'w2');
    const reply = c.send({ type: 'ping', id: 'early' });
    await c.welcome();
    await reply;
    expect(c.received[0]!.frame.type).toBe('welcome');
    expect(c.received.filter((r) => r.frame.type === 'welcome')).toHaveLength(1);
    await c.close();
  });
});

describe('ping', () => {
  it('replies with the same id and server_time close to the local clock', async () => {
    const c = await TestClient.connectWelcomed(server.wsUrl, 'p');
    const before = Date.now();
    const reply = await c.send({ type: 'ping', id: 'ping-1' });
    const after = Date.now();
    expect(reply).toMatchObject({ type: 'reply', id: 'ping-1' });
    expect(Object.keys(reply.result)).toContain('server_time');
    expect(Number.isInteger(reply.result.server_time)).toBe(true);
    expect(reply.result.server_time).toBeGreaterThanOrEqual(before - 100);
    expect(reply.result.server_time).toBeLessThanOrEqual(after + 100);
    await c.close();
  });

  it('answers many pings in order, each with its own id', async () => {
    const c = await TestClient.connectWelcomed(server.wsUrl, 'pp');
    const ids = Array.from({ length: 20 }, (_, i) => `n${i}`);
    const replies = await Promise.all(ids.map((id) => c.send({ type: 'ping', id })));
    expect(replies.map((r) => r.id)).toEqual(ids);
    const order = c.received.filter((r) => r.frame.type === 'reply').map((r) => r.frame.id);
    expect(order).toEqual(ids);
    await c.close();
  });

  it('works before and after joining a room', async () => {
    const room = await createRoom(server.baseUrl, 'Ping room');
    const fac = await joinFacilitator(server.wsUrl, room);
    await fac.client.ping();
    await fac.client.close();
  });
});

describe('frame size', () => {
  it('accepts a frame of exactly 65,536 bytes (it is read; here it fails as unknown_field)', async () => {
    const c = await TestClient.connectWelcomed(server.wsUrl, 'big-ok');
    const head = '{"type":"ping","id":"edge","pad":"';
    const tail = '"}';
    const frame = head + 'a'.repeat(65_536 - head.length - tail.length) + tail;
    expect(Buffer.byteLength(frame)).toBe(65_536);
    c.sendRaw(frame);
    const err = await c.nextResponse();
    expect(err).toMatchObject({ type: 'error', id: 'edge', code: 'unknown_field' });
    await c.ping();
    expect(c.isOpen).toBe(true);
    await c.close();
  });

  it('closes the connection with 1009 frame_too_large on a frame over 64 KiB; the room is unchanged', async () => {
    const room = await createRoom(server.baseUrl, 'Big frames');
    const fac = await joinFacilitator(server.wsUrl, room);
    const seq = fac.result.snapshot.seq;
    const c = await TestClient.connectWelcomed(server.wsUrl, 'too-big');
    c.sendRaw(JSON.stringify({ type: 'ping', id: 'huge', pad: 'a'.repeat(70_000) }));
    const closed = await c.waitClosed();
    expect(closed).toEqual({ code: 1009, reason: 'frame_too_large' });
    expect(c.received.filter((r) => r.frame.type !== 'welcome')).toEqual([]);
    await fac.client.expectNoFrame(300);
    const { snapshot } = await probeSnapshot(server.wsUrl, room);
    expect(snapshot.seq).toBe(seq + 1);
    expect(snapshot.members).toHaveLength(2);
    // The server keeps serving others.
    await fac.client.ping();
  });

  it('closes a joined member with 1009 too, and the others see only that its connection was lost', async () => {
    const room = await createRoom(server.baseUrl, 'Big frames 2');
    const fac = await joinFacilitator(server.wsUrl, room);
    const c = await TestClient.connectWelcomed(server.wsUrl, 'member-too-big');
    const joined = await c.request({ type: 'join', room: room.room, code: room.join_code, name: 'Ada' });
    await fac.client.nextEvent((e) => e.event.kind === 'member_joined');
    c.sendRaw('x'.repeat(70_000));
    expect(await c.waitClosed()).toEqual({ code: 1009, reason: 'frame_too_large' });
    const lost = await fac.client.nextEvent();
    expect(lost.event).toEqual({ kind: 'member_connection_lost', member_id: joined.member.id });
  });
});

/** Connects a raw socket and takes the welcome. */
async function rawWelcomed(): Promise<RawWs> {
  const raw = await RawWs.connect(server.baseUrl);
  expect(raw.handshake!.status).toBe(101);
  expect(await raw.nextJson()).toMatchObject({ type: 'welcome' });
  return raw;
}

/** Waits for the server's close frame, answers it, and expects the server to end the TCP connection. */
async function expectClosedWith(raw: RawWs, code: number, reason: string): Promise<void> {
  expect(await raw.nextClose()).toEqual({ code, reason });
  raw.send({ opcode: opcode.close, payload: closePayload(code) });
  expect(await raw.waitEnded()).toEqual({}); // a clean FIN, not a reset
}

describe('the upgrade', () => {
  it('is answered 101 with the RFC example accept key and the usual headers; no extension; welcome first', async () => {
    const raw = await RawWs.connect(server.baseUrl, {
      headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits', 'Sec-WebSocket-Protocol': 'chat' },
    });
    const { status, headers } = raw.handshake!;
    expect(status).toBe(101);
    expect(headers['sec-websocket-accept']).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo='); // RFC 6455 section 1.3
    expect(headers.upgrade?.toLowerCase()).toBe('websocket');
    expect(headers.connection?.toLowerCase()).toBe('upgrade');
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['content-security-policy']).toContain("default-src 'self'");
    expect(headers).not.toHaveProperty('sec-websocket-extensions');
    expect(headers).not.toHaveProperty('sec-websocket-protocol');
    const first = await raw.nextFrame();
    expect(first).toMatchObject({ fin: true, opcode: opcode.text });
    expect(JSON.parse(first.payload.toString('utf8'))).toMatchObject({ type: 'welcome', protocol: 1 });
    raw.destroy();
  });

  it('refuses a version other than 13 with 426 naming 13, and a malformed key with 400', async () => {
    const v8 = await RawWs.connect(server.baseUrl, { headers: { 'Sec-WebSocket-Version': '8' } });
    expect(v8.handshake!.status).toBe(426);
    expect(v8.handshake!.headers['sec-websocket-version']).toBe('13');
    for (const key of ['short==', 'not base64 at all, sorry', 'AAAAAAAAAAAAAAAAAAAAAAAA']) {
      const bad = await RawWs.connect(server.baseUrl, { key });
      expect(bad.handshake!.status, key).toBe(400);
      await bad.waitEnded();
    }
    await v8.waitEnded();
  });

  it('reads a frame that starts in the same packet as the upgrade request', async () => {
    const frame = Buffer.concat([Buffer.from([0x81, 0x80 | 28, 0, 0, 0, 0]), Buffer.from('{"type":"ping","id":"early"}')]);
    const raw = await RawWs.connect(server.baseUrl, { after: frame.subarray(0, 20) });
    expect(await raw.nextJson()).toMatchObject({ type: 'welcome' });
    raw.socket.write(frame.subarray(20)); // the rest of it, in a later read
    expect(await raw.nextJson()).toMatchObject({ type: 'reply', id: 'early' });
    raw.destroy();
  });

  it('an idle socket that never completes its request is cut off after the 10 s request timeout', async () => {
    const raw = await RawWs.tcp(server.baseUrl);
    const started = Date.now();
    raw.socket.write('GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n'); // and nothing more
    await raw.waitEnded(15_000);
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(9_500);
    expect(waited).toBeLessThan(13_000);
  }, 20_000);
});

describe('framing on a raw socket (RFC 6455)', () => {
  it('joins a fragmented text message; a ping between its fragments is answered first, with the same payload', async () => {
    const raw = await rawWelcomed();
    // The id "é€😀" is cut inside each of its characters, across fragments and across writes.
    const bytes = Buffer.from('{"type":"ping","id":"é€😀"}', 'utf8');
    const cuts = [bytes.indexOf('é') + 1, bytes.indexOf('€') + 2, bytes.indexOf('😀') + 3];
    const parts = [bytes.subarray(0, cuts[0]), bytes.subarray(cuts[0], cuts[1]), bytes.subarray(cuts[1], cuts[2]), bytes.subarray(cuts[2])];
    raw.send({ opcode: opcode.text, fin: false, payload: parts[0] });
    await sleep(20);
    raw.send({ opcode: opcode.ping, payload: 'between fragments' });
    await sleep(20);
    raw.send({ opcode: opcode.continuation, fin: false, payload: parts[1] });
    raw.send({ opcode: opcode.continuation, fin: false, payload: Buffer.alloc(0) });
    raw.send({ opcode: opcode.continuation, fin: false, payload: parts[2] });
    await sleep(20);
    raw.send({ opcode: opcode.continuation, fin: true, payload: parts[3] });
    const pong = await raw.nextFrame();
    expect(pong).toMatchObject({ fin: true, opcode: opcode.pong });
    expect(pong.payload.toString('utf8')).toBe('between fragments');
    expect(await raw.nextJson()).toMatchObject({ type: 'reply', id: 'é€😀' });
    raw.destroy();
  });

  it('answers a ping of 125 bytes with a pong of the same 125 bytes, and an empty ping with an empty pong', async () => {
    const raw = await rawWelcomed();
    const payload = Buffer.from(Array.from({ length: 125 }, (_, i) => i));
    raw.send({ opcode: opcode.ping, payload });
    raw.send({ opcode: opcode.ping });
    const first = await raw.nextFrame();
    expect(first.opcode).toBe(opcode.pong);
    expect(first.payload.equals(payload)).toBe(true);
    expect(await raw.nextFrame()).toMatchObject({ opcode: opcode.pong, payload: Buffer.alloc(0) });
    raw.destroy();
  });

  it('closes with 1002 unmasked_frame on a frame that is not masked', async () => {
    const raw = await rawWelcomed();
    raw.send({ opcode: opcode.text, payload: '{"type":"ping","id":"u"}', mask: false });
    await expectClosedWith(raw, 1002, 'unmasked_frame');
    expect(raw.frames.filter((f) => f.opcode === opcode.text)).toHaveLength(1); // the welcome only: no reply
  });

  it('closes with 1002 on reserved bits, an unknown opcode, a fragmented ping and a stray continuation', async () => {
    const cases = [
      { frame: { opcode: opcode.text, rsv: 0x40, payload: 'x' }, reason: 'reserved_bits' },
      { frame: { opcode: 0x3, payload: 'x' }, reason: 'unknown_opcode' },
      { frame: { opcode: opcode.ping, fin: false, payload: 'x' }, reason: 'fragmented_control_frame' },
      { frame: { opcode: opcode.continuation, payload: 'x' }, reason: 'unexpected_continuation' },
    ];
    for (const c of cases) {
      const raw = await rawWelcomed();
      raw.send(c.frame);
      await expectClosedWith(raw, 1002, c.reason);
    }
  });

  it('closes with 1007 invalid_utf8 on text that is not UTF-8, also when the bad sequence spans fragments', async () => {
    const overlong = await rawWelcomed();
    overlong.send({ opcode: opcode.text, payload: Buffer.from([0x7b, 0xc0, 0xaf, 0x7d]) }); // "{" overlong "/" "}"
    await expectClosedWith(overlong, 1007, 'invalid_utf8');
    const surrogate = await rawWelcomed();
    surrogate.send({ opcode: opcode.text, fin: false, payload: Buffer.from([0x22, 0xed]) });
    surrogate.send({ opcode: opcode.continuation, fin: true, payload: Buffer.from([0xa0, 0x80, 0x22]) }); // U+D800
    await expectClosedWith(surrogate, 1007, 'invalid_utf8');
  });

  it('a close from the client is answered with its code, then the server ends the TCP connection', async () => {
    const raw = await rawWelcomed();
    raw.send({ opcode: opcode.close, payload: closePayload(1000, 'bye') });
    expect(await raw.nextClose()).toEqual({ code: 1000, reason: '' });
    expect(await raw.waitEnded()).toEqual({});
  });

  it('a close frame with a code no one may send is answered with 1002 bad_close_code', async () => {
    const raw = await rawWelcomed();
    raw.send({ opcode: opcode.close, payload: closePayload(1005) });
    expect(await raw.nextClose()).toEqual({ code: 1002, reason: 'bad_close_code' });
    expect(await raw.waitEnded()).toEqual({});
  });

  it('a peer that never answers our close frame is reset 5 s later', async () => {
    const raw = await rawWelcomed();
    raw.send({ opcode: opcode.text, payload: 'x', mask: false });
    expect(await raw.nextClose()).toEqual({ code: 1002, reason: 'unmasked_frame' });
    const closedAt = Date.now();
    expect(await raw.waitEnded(8_000)).toEqual({ error: 'ECONNRESET' });
    const waited = Date.now() - closedAt;
    expect(waited).toBeGreaterThanOrEqual(4_500);
    expect(waited).toBeLessThan(7_000);
  });
});

describe('a burst to one socket', () => {
  it('two hundred events sent at once arrive complete, in order and in well-formed frames at every member', async () => {
    const room = await createRoom(server.baseUrl, 'Burst');
    const fac = await joinFacilitator(server.wsUrl, room);
    const ada = await joinParticipant(server.wsUrl, room, 'Ada');
    const raw = await rawWelcomed();
    raw.sendText(JSON.stringify({ type: 'join', id: 'raw', room: room.room, code: room.join_code, name: 'Raw' }));
    const joined = await raw.nextJson();
    expect(joined).toMatchObject({ type: 'reply', id: 'raw' });
    const start = ((joined.result as Frame).snapshot as Frame).seq as number;
    await fac.client.nextEvent((e) => e.seq === start);
    await ada.client.nextEvent((e) => e.seq === start);

    const n = 200; // under the room's cap of commands waiting for its storage (256; more get busy)
    for (let i = 0; i < n; i++) fac.client.sendRaw(JSON.stringify({ type: i % 2 ? 'hand_lower' : 'hand_raise', id: `b${i}` }));
    const kinds = Array.from({ length: n }, (_, i) => (i % 2 ? 'hand_lowered' : 'hand_raised'));
    for (const member of [fac, ada]) {
      await member.client.nextEvent((e) => e.seq === start + n, 10_000);
      const after = member.client.events().filter((e) => e.seq > start);
      expect(after.map((e) => e.seq)).toEqual(Array.from({ length: n }, (_, i) => start + 1 + i));
      expect(after.map((e) => e.event.kind)).toEqual(kinds);
    }
    const replies = fac.client.received.filter((r) => r.frame.type === 'reply' && String(r.frame.id).startsWith('b'));
    expect(replies.map((r) => r.frame.id)).toEqual(Array.from({ length: n }, (_, i) => `b${i}`));
    // The raw member checks every frame header itself (unmasked, no reserved bits, shortest length).
    const seqs: number[] = [];
    while (seqs.length < n) {
      const f = await raw.nextJson(10_000);
      if (f.type === 'event') seqs.push(f.seq as number);
    }
    expect(seqs).toEqual(Array.from({ length: n }, (_, i) => start + 1 + i));
    expect(raw.violation).toBeUndefined();
    raw.destroy();
  });
});

describe('a reader that stops reading', () => {
  it('is closed 4001 past --max-send-queue-bytes and reset when that cannot be sent: nothing lingers, others carry on', async () => {
    const s = await startServer({ args: ['--max-send-queue-bytes', '65536', '--fsync', 'everysec', '--max-commands-per-second', '100000'] });
    try {
      const room = await createRoom(s.baseUrl, 'Stalled reader');
      const fac = await joinFacilitator(s.wsUrl, room);
      const ada = await joinParticipant(s.wsUrl, room, 'Ada');
      const raw = await RawWs.connect(s.baseUrl);
      expect(await raw.nextJson()).toMatchObject({ type: 'welcome' });
      raw.sendText(JSON.stringify({ type: 'join', id: 'slow', room: room.room, code: room.join_code, name: 'Slow' }));
      const joined = await raw.nextJson();
      const slowId = ((joined.result as Frame).member as Frame).id;
      raw.socket.pause(); // reads nothing from now on: the kernel buffers fill, then the server's queue
      const lost = fac.client.nextEvent((e) => e.event.kind === 'member_connection_lost' && e.event.member_id === slowId, 30_000);
      let over = false;
      void lost.then(() => (over = true), () => (over = true));
      let sent = 0;
      while (!over && sent < 40_000) {
        await Promise.all(Array.from({ length: 200 }, (_, i) => fac.client.request({ type: (sent + i) % 2 ? 'hand_lower' : 'hand_raise' })));
        sent += 200;
      }
      await lost;
      expect(s.stderr()).toContain('slow_consumer');
      // Reset, not closed gracefully with its backlog: no server socket to it is left (FIN-WAIT-1 or any).
      const serverPort = s.port.toString(16).toUpperCase().padStart(4, '0');
      const readerPort = raw.socket.localPort!.toString(16).toUpperCase().padStart(4, '0');
      const rows = readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1).map((l) => l.trim().split(/\s+/));
      expect(rows.filter((r) => r[1]?.endsWith(`:${serverPort}`) && r[2]?.endsWith(`:${readerPort}`))).toEqual([]);
      // The others were served throughout and still are.
      await ada.client.ping();
      await fac.client.ping();
      raw.destroy();
    } finally {
      await s.stop();
    }
  }, 45_000);
});
