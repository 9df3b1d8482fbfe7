// The JSON Schemas in protocol/schema against the vectors and against live frames.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoom, httpRequest, postRoom } from '../lib/api.js';
import { check, checkServerFrame, commandSchemaFor, loadVectors, schemaNames, serverSchemaFor, shapeSchemaFiles } from '../lib/schemas.js';
import { startServer, type RunningServer } from '../lib/server.js';
import { TestClient, type Frame } from '../lib/ws-client.js';

describe('schemas against the vectors', () => {
  it('every schema file compiles', () => {
    // One per server message, per command and per body the declaration names a file for.
    expect(schemaNames().sort()).toEqual([...Object.values(serverSchemaFor), ...Object.values(commandSchemaFor), ...shapeSchemaFiles].sort());
    expect(schemaNames()).toEqual(expect.arrayContaining(['join', 'event', 'welcome', 'join-result', 'create-room-request', 'http-error']));
  });

  const commands = loadVectors('commands');
  it.each(commands.filter((c) => c.valid))('command vector "$name" validates against its schema', (c) => {
    const value = JSON.parse(c.frame);
    expect(value.type).toBe(c.type);
    const name = commandSchemaFor[c.type!];
    expect(name, `a schema for command ${c.type}`).toBeDefined();
    expect(check(name!, value)).toBeNull();
  });

  const messages = loadVectors('server_messages');
  it.each(messages.filter((c) => c.valid))('server message vector "$name" validates against its schema', (c) => {
    expect(checkServerFrame(c.frame)).toBeNull();
    const value = JSON.parse(c.frame);
    // A reply to join also matches join-result.
    if (value.type === 'reply' && value.result && 'snapshot' in value.result) expect(check('join-result', value.result)).toBeNull();
  });

  it.each(messages.filter((c) => !c.valid))('invalid server message vector "$name" is rejected', (c) => {
    expect(checkServerFrame(c.frame), c.frame).not.toBeNull();
  });
});

describe('live frames against the schemas', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('HTTP bodies: create-room request and response, errors', async () => {
    const body = { title: 'Schema room' };
    expect(check('create-room-request', body)).toBeNull();
    const created = await postRoom(server.baseUrl, body);
    expect(created.status).toBe(201);
    expect(check('create-room-response', created.json)).toBeNull();
    for (const res of [
      await postRoom(server.baseUrl, '{'),
      await postRoom(server.baseUrl, { title: '' }),
      await postRoom(server.baseUrl, { title: 'x' }, { 'Content-Type': 'text/plain' }),
      await httpRequest(server.baseUrl, { path: '/api/rooms' }),
      await httpRequest(server.baseUrl, { path: '/api/nope' }),
    ]) {
      expect(check('http-error', res.json), res.text).toBeNull();
    }
  });

  it('every frame of a join flow (welcome, replies, errors, events) matches its schema', async () => {
    const room = await createRoom(server.baseUrl, 'Schema flow');
    const sent: Frame[] = [];
    const fac = await TestClient.connectWelcomed(server.wsUrl, 'fac');
    const send = async (c: TestClient, cmd: Frame) => {
      sent.push(cmd);
      return c.send(cmd);
    };
    const facJoin = await send(fac, { type: 'join', id: 'f1', room: room.room, key: room.facilitator_key, name: 'Grace' });
    const ada = await TestClient.connectWelcomed(server.wsUrl, 'ada');
    const adaJoin = await send(ada, { type: 'join', id: 'a1', room: room.room, code: room.join_code, name: 'Zoë Ó Briain' });
    await send(ada, { type: 'ping', id: 'a2' });
    await send(ada, { type: 'join', id: 'a3', room: room.room, code: room.join_code, name: 'again' }); // already_joined
    ada.sendRaw('{nope'); // bad_json, id null
    await ada.nextResponse();
    await send(ada, { type: 'leave', id: 'a4' });
    await fac.nextEvent((e) => e.event.kind === 'member_left');
    await send(ada, { type: 'join', id: 'a5', room: room.room, resume: adaJoin.result.resume_token });
    await fac.nextEvent((e) => e.event.kind === 'member_back');
    ada.terminate();
    await fac.nextEvent((e) => e.event.kind === 'member_connection_lost');
    const lin = await TestClient.connectWelcomed(server.wsUrl, 'lin');
    await send(lin, { type: 'join', id: 'l1', room: room.room, code: room.join_code, name: 'Lin' });
    await fac.nextEvent((e) => e.event.kind === 'member_joined');
    await send(lin, { type: 'leave', id: 'l2' });
    await send(lin, { type: 'leave', id: 'l3' }); // not_joined
    await fac.nextEvent((e) => e.event.kind === 'member_left');

    // The commands this test sent are valid by the schemas too.
    for (const cmd of sent) expect(check(commandSchemaFor[cmd.type]!, cmd), JSON.stringify(cmd)).toBeNull();

    const all = [fac, ada, lin].flatMap((c) => c.received);
    const types = new Set(all.map((r) => r.frame.type));
    // prompts_pending (1.3): the facilitator's pending prompts, pushed right after they join.
    expect([...types].sort()).toEqual(['error', 'event', 'prompts_pending', 'reply', 'welcome']);
    const kinds = new Set(all.filter((r) => r.frame.type === 'event').map((r) => r.frame.event.kind));
    expect([...kinds].sort()).toEqual(['member_back', 'member_connection_lost', 'member_joined', 'member_left']);
    for (const r of all) {
      expect(r.binary, r.text).toBe(false);
      expect(checkServerFrame(r.text), r.text).toBeNull();
      const f = r.frame;
      if (f.type === 'reply' && String(f.id).match(/^(f1|a1|a5|l1)$/)) expect(check('join-result', f.result), r.text).toBeNull();
      if (f.type === 'reply' && f.id === 'a2') expect(Number.isInteger(f.result.server_time)).toBe(true);
      if (f.type === 'reply' && ['a4', 'l2'].includes(f.id)) expect(f.result).toEqual({});
    }
    expect(check('join-result', facJoin.result)).toBeNull();
    await fac.close();
    await lin.close();
  });
});
