// Join, leave, connection loss, resume and replacement (protocol/README.md#join, #room-events).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoom, type CreatedRoom } from '../lib/api.js';
import { joinFacilitator, joinParticipant, joinWith, type Member } from '../lib/room.js';
import { startServer, type RunningServer } from '../lib/server.js';
import { TestClient, type Frame } from '../lib/ws-client.js';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

/** Each client's events continue its snapshot's seq with no gap and no duplicate. */
function expectContiguous(member: Member, client: TestClient = member.client, from = member.result.snapshot.seq) {
  const seqs = client.events().map((e) => e.seq);
  expect(seqs, `${client.label} event seqs after snapshot seq ${from}`).toEqual(seqs.map((_, i) => from + 1 + i));
}

/** Every client that saw a given seq saw the same event. */
function expectAgreement(clients: TestClient[]) {
  const bySeq = new Map<number, string>();
  for (const c of clients) {
    for (const e of c.events()) {
      const key = JSON.stringify({ room: e.room, seq: e.seq, time: e.time, event: e.event });
      const seen = bySeq.get(e.seq);
      if (seen === undefined) bySeq.set(e.seq, key);
      else expect(key, `${c.label} seq ${e.seq}`).toBe(seen);
    }
  }
}

/** The 1.0 fields of a snapshot member (1.2 adds airtime and hand, checked in rounds.test.ts). */
function basic({ id, name, role, presence }: Frame): Frame {
  return { id, name, role, presence };
}

function memberIds(snapshot: Frame): string[] {
  return snapshot.members.map((m: Frame) => m.id);
}

describe('join', () => {
  it('facilitator with key, participants with code; every other member gets member_joined with the next seq', async () => {
    const title = 'Spring cohort';
    const room = await createRoom(server.baseUrl, title);
    const before = Date.now();
    const fac = await joinFacilitator(server.wsUrl, room, 'Grace');
    expect(fac.result.member).toEqual({ id: fac.id, name: 'Grace', role: 'facilitator' });
    expect(typeof fac.token).toBe('string');
    expect(fac.token.length).toBeGreaterThan(0);
    expect(fac.result.snapshot).toMatchObject({ room: room.room, title, seq: 2 });
    expect(fac.result.snapshot.members.map(basic)).toEqual([{ id: fac.id, name: 'Grace', role: 'facilitator', presence: 'online' }]);

    const ada = await joinParticipant(server.wsUrl, room, 'Ada');
    expect(ada.result.member).toEqual({ id: ada.id, name: 'Ada', role: 'participant' });
    expect(ada.id).not.toBe(fac.id);
    expect(ada.token).not.toBe(fac.token);
    expect(ada.result.snapshot.seq).toBe(3);
    expect(ada.result.snapshot.members.map(basic)).toEqual([
      { id: fac.id, name: 'Grace', role: 'facilitator', presence: 'online' },
      { id: ada.id, name: 'Ada', role: 'participant', presence: 'online' },
    ]);
    const e1 = await fac.client.nextEvent();
    expect(e1).toMatchObject({ type: 'event', room: room.room, seq: 3, event: { kind: 'member_joined', member: { id: ada.id, name: 'Ada', role: 'participant' } } });
    expect(e1.time).toBeGreaterThanOrEqual(before - 1_000);
    expect(e1.time).toBeLessThanOrEqual(Date.now() + 1_000);

    const lin = await joinParticipant(server.wsUrl, room, 'Lin');
    expect(lin.result.snapshot.seq).toBe(4);
    expect(memberIds(lin.result.snapshot)).toEqual([fac.id, ada.id, lin.id]);
    for (const m of [fac, ada]) {
      const e = await m.client.nextEvent();
      expect(e).toMatchObject({ seq: 4, event: { kind: 'member_joined', member: { id: lin.id, name: 'Lin', role: 'participant' } } });
    }
    // The joiner itself does not get an event for its own join (its snapshot includes it).
    await lin.client.expectNoFrame(200);
    for (const m of [fac, ada, lin]) expectContiguous(m);
    expectAgreement([fac.client, ada.client, lin.client]);
    // Member ids are distinct and handed out in join order.
    expect(new Set([fac.id, ada.id, lin.id]).size).toBe(3);
    for (const m of [fac, ada, lin]) await m.client.close();
  });

  it('trims the name and accepts 60 code points, also multi-byte; duplicate names are allowed', async () => {
    const room = await createRoom(server.baseUrl, 'Names');
    const fac = await joinFacilitator(server.wsUrl, room);
    const trimmed = await joinParticipant(server.wsUrl, room, '  Lin  ', 'trimmed');
    expect(trimmed.result.member.name).toBe('Lin');
    const ascii60 = 'a'.repeat(60);
    const a = await joinParticipant(server.wsUrl, room, ascii60, 'ascii60');
    expect(a.result.member.name).toBe(ascii60);
    const multi60 = 'é'.repeat(58) + '😀' + '日'; // 60 code points: 2-, 4- and 3-byte UTF-8
    expect([...multi60]).toHaveLength(60);
    const b = await joinParticipant(server.wsUrl, room, multi60, 'multi60');
    expect(b.result.member.name).toBe(multi60);
    const dup = await joinParticipant(server.wsUrl, room, 'Lin', 'dup');
    expect(dup.id).not.toBe(trimmed.id);
    const names = [];
    for (let i = 0; i < 4; i++) names.push((await fac.client.nextEvent()).event.member.name);
    expect(names).toEqual(['Lin', ascii60, multi60, 'Lin']);
    expectContiguous(fac);
  });

  it('many participants joining at once: every client sees every later join exactly once, in seq order', async () => {
    const room = await createRoom(server.baseUrl, 'Crowd');
    const fac = await joinFacilitator(server.wsUrl, room);
    const n = 12;
    const members = await Promise.all(Array.from({ length: n }, (_, i) => joinParticipant(server.wsUrl, room, `P${i}`)));
    const finalSeq = 2 + n;
    // Wait until each client has seen every event up to the last join.
    for (const m of [fac, ...members]) {
      const need = finalSeq - m.result.snapshot.seq;
      for (let i = 0; i < need; i++) await m.client.nextEvent();
    }
    expect(new Set(members.map((m) => m.result.snapshot.seq)).size).toBe(n); // one seq per join
    for (const m of [fac, ...members]) expectContiguous(m);
    expectAgreement([fac.client, ...members.map((m) => m.client)]);
    const joinedIds = fac.client.events().map((e) => e.event.member.id);
    expect(new Set(joinedIds).size).toBe(n);
    await Promise.all([fac, ...members].map((m) => m.client.expectNoFrame(200)));
  });
  it('a connection that has not joined receives no room events', async () => {
    const idle = await TestClient.connectWelcomed(server.wsUrl, 'idle');
    const room = await createRoom(server.baseUrl, 'Not for idle eyes');
    const fac = await joinFacilitator(server.wsUrl, room);
    const ada = await joinParticipant(server.wsUrl, room, 'Ada');
    await fac.client.nextEvent();
    await ada.client.request({ type: 'leave' });
    await fac.client.nextEvent();
    await idle.expectNoFrame(200);
    expect(idle.received.map((r) => r.frame.type)).toEqual(['welcome']);
  });

  it('members of one room see nothing of another room', async () => {
    const a = await createRoom(server.baseUrl, 'Room A');
    const b = await createRoom(server.baseUrl, 'Room B');
    const fa = await joinFacilitator(server.wsUrl, a);
    const fb = await joinFacilitator(server.wsUrl, b);
    const pb = await joinParticipant(server.wsUrl, b, 'Bea');
    expect((await fb.client.nextEvent()).event.member.id).toBe(pb.id);
    expect(fb.result.snapshot.room).toBe(b.room);
    expect(fb.id).toBe(fa.id); // ids are per room: both facilitators are the first member
    await fa.client.expectNoFrame(200);
  });
});

describe('leave, connection loss and resume', () => {
  async function threeMembers(title: string): Promise<{ room: CreatedRoom; fac: Member; ada: Member; lin: Member }> {
    const room = await createRoom(server.baseUrl, title);
    const fac = await joinFacilitator(server.wsUrl, room);
    const ada = await joinParticipant(server.wsUrl, room, 'Ada');
    const lin = await joinParticipant(server.wsUrl, room, 'Lin');
    await fac.client.nextEvent();
    await fac.client.nextEvent();
    await ada.client.nextEvent();
    return { room, fac, ada, lin };
  }

  it('leave: reply {} and member_left to the others; the member shows as left', async () => {
    const { room, fac, ada, lin } = await threeMembers('Leaving');
    const reply = await lin.client.send({ type: 'leave', id: 'bye' });
    expect(reply).toEqual({ type: 'reply', id: 'bye', result: {} });
    for (const m of [fac, ada]) {
      const e = await m.client.nextEvent();
      expect(e).toMatchObject({ seq: 5, event: { kind: 'member_left', member_id: lin.id } });
    }
    // The leaver gets no event about itself after its reply, and the connection stays usable.
    await lin.client.expectNoFrame(200);
    await lin.client.ping();
    const probe = await joinParticipant(server.wsUrl, room, 'Probe');
    expect(probe.result.snapshot.seq).toBe(6);
    expect(probe.result.snapshot.members.find((m: Frame) => m.id === lin.id)).toMatchObject({ presence: 'left' });
    expect(probe.result.snapshot.members).toHaveLength(4);
    // A second leave on the same connection: not_joined.
    expect(await lin.client.send({ type: 'leave', id: 'again' })).toMatchObject({ type: 'error', id: 'again', code: 'not_joined' });
    for (const m of [fac, ada]) expectContiguous(m);
  });

  it('a member who left comes back with the resume token (member_back, no new member)', async () => {
    const { room, fac, ada, lin } = await threeMembers('Back after leaving');
    await lin.client.request({ type: 'leave' });
    await fac.client.nextEvent((e) => e.event.kind === 'member_left');
    // On the same connection, after leave.
    const back = await lin.client.request({ type: 'join', room: room.room, resume: lin.token });
    expect(back.member).toEqual(lin.result.member);
    expect(back.resume_token).toBe(lin.token);
    expect(back.snapshot.members).toHaveLength(3);
    expect(back.snapshot.members.find((m: Frame) => m.id === lin.id)).toMatchObject({ presence: 'online' });
    const e = await fac.client.nextEvent();
    expect(e.event).toEqual({ kind: 'member_back', member_id: lin.id });
    expect(e.seq).toBe(back.snapshot.seq);
    expectContiguous(fac);
    expectContiguous(ada);
  });

  it('an abrupt close is member_connection_lost (away); resume on a new socket is member_back with the same member', async () => {
    const { room, fac, ada, lin } = await threeMembers('Dropped');
    ada.client.terminate();
    for (const m of [fac, lin]) {
      const e = await m.client.nextEvent();
      expect(e).toMatchObject({ seq: 5, event: { kind: 'member_connection_lost', member_id: ada.id } });
    }
    const again = await TestClient.connectWelcomed(server.wsUrl, 'ada-again');
    const back = await again.request({ type: 'join', room: room.room, resume: ada.token });
    expect(back.member).toEqual({ id: ada.id, name: 'Ada', role: 'participant' });
    expect(back.resume_token).toBe(ada.token);
    expect(back.snapshot.seq).toBe(6);
    expect(back.snapshot.members).toHaveLength(3);
    expect(memberIds(back.snapshot)).toEqual([fac.id, ada.id, lin.id]);
    expect(back.snapshot.members.every((m: Frame) => m.presence === 'online')).toBe(true);
    for (const m of [fac, lin]) {
      const e = await m.client.nextEvent();
      expect(e).toMatchObject({ seq: 6, event: { kind: 'member_back', member_id: ada.id } });
    }
    await again.expectNoFrame(200);
    for (const m of [fac, lin]) expectContiguous(m);
    expectAgreement([fac.client, lin.client, again]);

    // The facilitator resumes too: role kept.
    fac.client.terminate();
    await lin.client.nextEvent((e) => e.event.kind === 'member_connection_lost');
    const facAgain = await joinWith(server.wsUrl, { room: room.room, resume: fac.token }, 'fac-again');
    expect(facAgain.result.member).toEqual({ id: fac.id, name: 'Grace', role: 'facilitator' });
    expect(facAgain.token).toBe(fac.token);
    expect(facAgain.result.snapshot.members).toHaveLength(3);
  });

  it('a clean close without leave is also member_connection_lost', async () => {
    const { fac, ada } = await threeMembers('Closed tab');
    await ada.client.close();
    const e = await fac.client.nextEvent();
    expect(e.event).toEqual({ kind: 'member_connection_lost', member_id: ada.id });
  });

  it('resume while the old socket is open: the old one is closed 4000 replaced, no duplicate member', async () => {
    const { room, fac, ada, lin } = await threeMembers('Second tab');
    const facSeen = fac.client.events().length;
    const linSeen = lin.client.events().length;
    const tab2 = await TestClient.connectWelcomed(server.wsUrl, 'ada-tab2');
    const res = await tab2.request({ type: 'join', room: room.room, resume: ada.token });
    expect(res.member).toEqual(ada.result.member);
    expect(res.resume_token).toBe(ada.token);
    expect(await ada.client.waitClosed()).toEqual({ code: 4000, reason: 'replaced' });
    expect(res.snapshot.members).toHaveLength(3);
    expect(res.snapshot.members.filter((m: Frame) => m.id === ada.id).map(basic)).toEqual([
      { id: ada.id, name: 'Ada', role: 'participant', presence: 'online' },
    ]);
    // Others never see a second Ada; whatever they see keeps seq order.
    await fac.client.expectNoFrame(300);
    for (const e of [...fac.client.events().slice(facSeen), ...lin.client.events().slice(linSeen)]) {
      expect(e.event.kind).not.toBe('member_joined');
    }
    expectContiguous(fac);
    expectContiguous(lin);
    // The replaced socket's close does not mark the member away: a fresh snapshot shows Ada online, once.
    const probe = await joinParticipant(server.wsUrl, room, 'Probe');
    expect(probe.result.snapshot.members).toHaveLength(4);
    expect(probe.result.snapshot.members.filter((m: Frame) => m.id === ada.id).map(basic)).toEqual([
      { id: ada.id, name: 'Ada', role: 'participant', presence: 'online' },
    ]);
    // The new tab works and receives the room's events.
    await tab2.ping();
    const e = await tab2.nextEvent();
    expect(e.event).toMatchObject({ kind: 'member_joined', member: { id: probe.id } });
    // A third resume replaces the second tab the same way; the token never changes.
    const tab3 = await TestClient.connectWelcomed(server.wsUrl, 'ada-tab3');
    const res3 = await tab3.request({ type: 'join', room: room.room, resume: ada.token });
    expect(res3.resume_token).toBe(ada.token);
    expect(await tab2.waitClosed()).toEqual({ code: 4000, reason: 'replaced' });
    expect(res3.snapshot.members).toHaveLength(4);
  });

  it('the resume token is the same every time', async () => {
    const room = await createRoom(server.baseUrl, 'Tokens');
    const fac = await joinFacilitator(server.wsUrl, room);
    const tokens = [fac.token];
    let current = fac.client;
    for (let i = 0; i < 3; i++) {
      current.terminate();
      const next = await joinWith(server.wsUrl, { room: room.room, resume: fac.token }, `resume-${i}`);
      tokens.push(next.token);
      current = next.client;
    }
    expect(new Set(tokens).size).toBe(1);
  });

  it("a resume token works only in its own room", async () => {
    const a = await createRoom(server.baseUrl, 'Room A');
    const b = await createRoom(server.baseUrl, 'Room B');
    const fa = await joinFacilitator(server.wsUrl, a);
    await joinFacilitator(server.wsUrl, b);
    const c = await TestClient.connectWelcomed(server.wsUrl, 'cross');
    expect(await c.send({ type: 'join', id: 'x', room: b.room, resume: fa.token })).toMatchObject({ type: 'error', id: 'x', code: 'bad_credentials' });
    // Keys and codes are per room too.
    expect(await c.send({ type: 'join', id: 'y', room: b.room, key: a.facilitator_key, name: 'Eve' })).toMatchObject({ code: 'bad_credentials' });
    expect(await c.send({ type: 'join', id: 'z', room: b.room, code: a.join_code, name: 'Eve' })).toMatchObject({ code: 'bad_credentials' });
  });
});
