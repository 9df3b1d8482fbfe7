// Every bad input gets its error code with the request's id (or null), the connection stays open,
// and nothing changes in the room (protocol/README.md#error, #error-codes).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoom, type CreatedRoom } from '../lib/api.js';
import { joinFacilitator, joinParticipant, type Member } from '../lib/room.js';
import { startServer, type RunningServer } from '../lib/server.js';
import { TestClient, type Frame } from '../lib/ws-client.js';

let server: RunningServer;
let room: CreatedRoom;
let fac: Member; // the watcher: must see nothing while bad inputs are rejected
let ada: Member; // a joined participant, for commands that need a joined connection
let baseline: { seq: number; members: number };

beforeAll(async () => {
  server = await startServer();
  room = await createRoom(server.baseUrl, 'Bad inputs');
  fac = await joinFacilitator(server.wsUrl, room);
  ada = await joinParticipant(server.wsUrl, room, 'Ada');
  await fac.client.nextEvent();
  baseline = { seq: ada.result.snapshot.seq, members: ada.result.snapshot.members.length };
});
afterAll(async () => {
  await server?.stop();
});

interface Case {
  name: string;
  /** The exact frame, or a function of the room (so cases can use real ids and secrets). */
  frame: string | Buffer | ((r: CreatedRoom) => string);
  binary?: boolean;
  code: string;
  id: string | null;
  /** Send on the already-joined connection instead of a fresh one. */
  joined?: boolean;
}

const j = (o: Frame) => JSON.stringify(o);
const joinBy = (extra: Frame) => (r: CreatedRoom) => j({ type: 'join', id: 'j', room: r.room, ...extra });

const cases: Case[] = [
  { name: 'malformed JSON', frame: '{"type":"join","id":"1",', code: 'bad_json', id: null },
  { name: 'not JSON at all', frame: 'hello', code: 'bad_json', id: null },
  { name: 'empty frame', frame: '', code: 'bad_json', id: null },
  { name: 'JSON array', frame: '[{"type":"ping","id":"1"}]', code: 'bad_frame', id: null },
  { name: 'JSON number', frame: '42', code: 'bad_frame', id: null },
  { name: 'JSON null', frame: 'null', code: 'bad_frame', id: null },
  { name: 'missing type', frame: j({ id: 'mt' }), code: 'bad_frame', id: 'mt' },
  { name: 'type not a string', frame: j({ type: ['ping'], id: 'tn' }), code: 'bad_frame', id: 'tn' },
  { name: 'unknown type', frame: j({ type: 'dance', id: 'ut' }), code: 'unknown_type', id: 'ut' },
  { name: 'server push type sent as a command', frame: j({ type: 'welcome', id: 'wt' }), code: 'unknown_type', id: 'wt' },
  { name: 'missing id', frame: j({ type: 'ping' }), code: 'missing_field', id: null },
  { name: 'id not a string', frame: j({ type: 'ping', id: 7 }), code: 'invalid_field', id: null },
  { name: 'empty id', frame: j({ type: 'ping', id: '' }), code: 'invalid_field', id: null },
  { name: 'id of 65 characters', frame: j({ type: 'ping', id: 'i'.repeat(65) }), code: 'invalid_field', id: null },
  { name: 'ping with an unknown field', frame: j({ type: 'ping', id: 'uf', extra: true }), code: 'unknown_field', id: 'uf' },
  { name: 'join without room', frame: (r) => j({ type: 'join', id: 'nr', code: r.join_code, name: 'Eve' }), code: 'missing_field', id: 'nr' },
  { name: 'join without key, code or resume', frame: joinBy({ id: 'nc', name: 'Eve' }), code: 'missing_field', id: 'nc' },
  { name: 'join with code but no name', frame: (r) => j({ type: 'join', id: 'nn', room: r.room, code: r.join_code }), code: 'missing_field', id: 'nn' },
  { name: 'join with both key and code', frame: (r) => j({ type: 'join', id: 'kc', room: r.room, key: r.facilitator_key, code: r.join_code, name: 'Eve' }), code: 'invalid_field', id: 'kc' },
  { name: 'join with code and resume', frame: (r) => j({ type: 'join', id: 'cr', room: r.room, code: r.join_code, resume: 'x', name: 'Eve' }), code: 'invalid_field', id: 'cr' },
  { name: 'join with room not a string', frame: (r) => j({ type: 'join', id: 'rt', room: 1, code: r.join_code, name: 'Eve' }), code: 'invalid_field', id: 'rt' },
  { name: 'join with name not a string', frame: (r) => j({ type: 'join', id: 'nt', room: r.room, code: r.join_code, name: 5 }), code: 'invalid_field', id: 'nt' },
  { name: 'join with code not a string', frame: (r) => j({ type: 'join', id: 'ct', room: r.room, code: true, name: 'Eve' }), code: 'invalid_field', id: 'ct' },
  { name: 'join with an empty key', frame: (r) => j({ type: 'join', id: 'ek', room: r.room, key: '', name: 'Eve' }), code: 'invalid_field', id: 'ek' },
  { name: 'join with a key over 128 characters', frame: (r) => j({ type: 'join', id: 'lk', room: r.room, key: 'k'.repeat(129), name: 'Eve' }), code: 'invalid_field', id: 'lk' },
  { name: 'join with an unknown field', frame: (r) => j({ type: 'join', id: 'ju', room: r.room, code: r.join_code, name: 'Eve', avatar: 'x' }), code: 'unknown_field', id: 'ju' },
  { name: 'join to an unknown room', frame: (r) => j({ type: 'join', id: 'rn', room: 'nosuchroom000000', code: r.join_code, name: 'Eve' }), code: 'room_not_found', id: 'rn' },
  { name: 'wrong facilitator key', frame: (r) => j({ type: 'join', id: 'wk', room: r.room, key: r.join_code, name: 'Eve' }), code: 'bad_credentials', id: 'wk' },
  { name: 'wrong join code', frame: (r) => j({ type: 'join', id: 'wc', room: r.room, code: r.facilitator_key, name: 'Eve' }), code: 'bad_credentials', id: 'wc' },
  { name: 'made-up join code', frame: joinBy({ id: 'mc', code: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'Eve' }), code: 'bad_credentials', id: 'mc' },
  { name: 'wrong resume token', frame: joinBy({ id: 'wr', resume: 'AAAAAAAAAAAAAAAAAAAAAA' }), code: 'bad_credentials', id: 'wr' },
  { name: 'the join code used as resume token', frame: (r) => j({ type: 'join', id: 'cr2', room: r.room, resume: r.join_code }), code: 'bad_credentials', id: 'cr2' },
  { name: 'empty name', frame: (r) => j({ type: 'join', id: 'n0', room: r.room, code: r.join_code, name: '' }), code: 'invalid_name', id: 'n0' },
  { name: 'name of spaces only', frame: (r) => j({ type: 'join', id: 'ns', room: r.room, code: r.join_code, name: '    ' }), code: 'invalid_name', id: 'ns' },
  { name: 'name of 61 characters', frame: (r) => j({ type: 'join', id: 'n61', room: r.room, code: r.join_code, name: 'a'.repeat(61) }), code: 'invalid_name', id: 'n61' },
  { name: 'name of 61 multi-byte code points', frame: (r) => j({ type: 'join', id: 'n61m', room: r.room, code: r.join_code, name: 'é'.repeat(61) }), code: 'invalid_name', id: 'n61m' },
  { name: 'name with a control character (BEL)', frame: (r) => j({ type: 'join', id: 'nb', room: r.room, code: r.join_code, name: 'Ada\u0007' }), code: 'invalid_name', id: 'nb' },
  { name: 'name with a newline inside', frame: (r) => j({ type: 'join', id: 'nl', room: r.room, code: r.join_code, name: 'Ada\nLovelace' }), code: 'invalid_name', id: 'nl' },
  { name: 'name with DEL (U+007F)', frame: (r) => j({ type: 'join', id: 'nd', room: r.room, code: r.join_code, name: 'Ada\u007fx' }), code: 'invalid_name', id: 'nd' },
  { name: 'name with a C1 control character (U+0085)', frame: (r) => j({ type: 'join', id: 'nc1', room: r.room, code: r.join_code, name: 'Ada\u0085x' }), code: 'invalid_name', id: 'nc1' },
  { name: 'facilitator key with an invalid name', frame: (r) => j({ type: 'join', id: 'kn', room: r.room, key: r.facilitator_key, name: '' }), code: 'invalid_name', id: 'kn' },
  { name: 'resume with a name', frame: (r) => j({ type: 'join', id: 'rs', room: r.room, resume: 'sometoken', name: 'Eve' }), code: 'invalid_field', id: 'rs' },
  { name: 'leave before join', frame: j({ type: 'leave', id: 'lb' }), code: 'not_joined', id: 'lb' },
  { name: 'leave with a field', frame: j({ type: 'leave', id: 'lf', room: 'x' }), code: 'unknown_field', id: 'lf' },
  { name: 'binary frame', frame: Buffer.from(j({ type: 'ping', id: 'bin' })), binary: true, code: 'bad_frame', id: null },
  { name: 'second join on the same connection', frame: (r) => j({ type: 'join', id: 'aj', room: r.room, code: r.join_code, name: 'Ada2' }), code: 'already_joined', id: 'aj', joined: true },
  { name: 'second join with the own resume token', frame: () => j({ type: 'join', id: 'aj2', room: room.room, resume: ada.token }), code: 'already_joined', id: 'aj2', joined: true },
];

describe('bad input on the WebSocket', () => {
  it.each(cases)('$name -> $code (id $id)', async (c) => {
    const client = c.joined ? ada.client : await TestClient.connectWelcomed(server.wsUrl, 'bad');
    const frame = typeof c.frame === 'function' ? c.frame(room) : c.frame;
    client.sendRaw(frame, { binary: c.binary });
    const err = await client.nextResponse();
    expect(err).toMatchObject({ type: 'error', code: c.code });
    expect(err.id).toStrictEqual(c.id);
    expect(typeof err.message).toBe('string');
    expect(err.message.length).toBeGreaterThan(0);
    // Exactly one response.
    await client.expectNoFrame(c.joined ? 0 : 100);
    // The connection stays open and answers.
    const pong = await client.send({ type: 'ping', id: 'after' });
    expect(pong).toMatchObject({ type: 'reply', id: 'after' });
    expect(client.isOpen).toBe(true);
    // Nothing happened in the room.
    await fac.client.expectNoFrame(300);
    if (!c.joined) await client.close();
  });

  it('after all of that the room is unchanged: a new join continues from the same seq and members', async () => {
    expect(ada.client.isOpen).toBe(true);
    const probe = await joinParticipant(server.wsUrl, room, 'Probe');
    expect(probe.result.snapshot.seq).toBe(baseline.seq + 1);
    expect(probe.result.snapshot.members).toHaveLength(baseline.members + 1);
    expect(probe.result.snapshot.members.map((m: Frame) => m.name)).toEqual(['Grace', 'Ada', 'Probe']);
    const e = await fac.client.nextEvent();
    expect(e.seq).toBe(baseline.seq + 1);
    expect(fac.client.events().map((x) => x.seq)).toEqual([baseline.seq, baseline.seq + 1]);
  });

  it('a failed join leaves the connection free to join properly afterwards', async () => {
    const c = await TestClient.connectWelcomed(server.wsUrl, 'retry');
    expect(await c.send({ type: 'join', id: 'a', room: room.room, code: 'wrongwrongwrongwrong00', name: 'Eve' })).toMatchObject({ code: 'bad_credentials' });
    expect(await c.send({ type: 'join', id: 'b', room: room.room, code: room.join_code, name: '' })).toMatchObject({ code: 'invalid_name' });
    const ok = await c.send({ type: 'join', id: 'c', room: room.room, code: room.join_code, name: 'Eve' });
    expect(ok).toMatchObject({ type: 'reply', id: 'c', result: { member: { name: 'Eve', role: 'participant' } } });
  });

  it('the frame over 64 KiB closes with 1009 frame_too_large and changes nothing', async () => {
    // Earlier tests' clients were closed: let their events settle, then take the current seq.
    await new Promise((r) => setTimeout(r, 300));
    const first = await joinParticipant(server.wsUrl, room, 'Probe1');
    const seqBefore = first.result.snapshot.seq;
    await fac.client.nextEvent((e) => e.seq === seqBefore);
    const c = await TestClient.connectWelcomed(server.wsUrl, 'huge');
    c.sendRaw('{"type":"ping","id":"h","pad":"' + 'a'.repeat(70_000) + '"}');
    expect(await c.waitClosed()).toEqual({ code: 1009, reason: 'frame_too_large' });
    await fac.client.expectNoFrame(300);
    const probe = await joinParticipant(server.wsUrl, room, 'Probe2');
    expect(probe.result.snapshot.seq).toBe(seqBefore + 1);
  });
});

describe('--max-members', () => {
  it('the third join into a room of at most 2 members is room_full; nothing changes; resume still works', async () => {
    const small = await startServer({ args: ['--max-members', '2'] });
    try {
      const r = await createRoom(small.baseUrl, 'Tiny');
      const f = await joinFacilitator(small.wsUrl, r);
      const p = await joinParticipant(small.wsUrl, r, 'Ada');
      await f.client.nextEvent();
      const third = await TestClient.connectWelcomed(small.wsUrl, 'third');
      const err = await third.send({ type: 'join', id: 'full', room: r.room, code: r.join_code, name: 'Lin' });
      expect(err).toMatchObject({ type: 'error', id: 'full', code: 'room_full' });
      await third.ping();
      await f.client.expectNoFrame(300);
      // A facilitator key does not bypass the limit either.
      expect(await third.send({ type: 'join', id: 'full2', room: r.room, key: r.facilitator_key, name: 'Grace2' })).toMatchObject({ code: 'room_full' });
      // An existing member is not a new member: resuming works in a full room.
      p.client.terminate();
      await f.client.nextEvent((e) => e.event.kind === 'member_connection_lost');
      const back = await third.send({ type: 'join', id: 'back', room: r.room, resume: p.token });
      expect(back).toMatchObject({ type: 'reply', id: 'back', result: { member: { id: p.id } } });
      expect(back.result.snapshot.members).toHaveLength(2);
    } finally {
      await small.stop();
    }
  });
});
