// Anonymous prompts (protocol/README.md#anonymous-prompts-since-13): known members submit prompts;
// then everything the server produced — every frame to every connection, the data directory, the
// server's log and, with Redis, every key and every published message — is scanned, and the test
// fails if an author's member id, name or resume token appears with an anonymous item.
import net from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRoom, type CreatedRoom } from '../lib/api.js';
import { startRedis, type RunningRedis } from '../lib/redis.js';
import { joinFacilitator, joinParticipant, sleep, type Member } from '../lib/room.js';
import { startServer, type RunningServer } from '../lib/server.js';
import type { Frame } from '../lib/ws-client.js';

const started: { stop(): Promise<unknown> }[] = [];
afterAll(async () => {
  for (const s of started.reverse()) await s.stop();
});

interface Author {
  member: Member;
  name: string;
  texts: string[];
}

/** Identifiers of the authors, as they would appear in JSON: "m2", "Ada", the token. */
function authorMarks(authors: Author[]): string[] {
  return authors.flatMap((a) => [JSON.stringify(a.member.id), JSON.stringify(a.name), a.member.token]);
}

/** Walks a JSON value; calls visit on every object and array element that is an object. */
function objects(value: unknown, visit: (o: Record<string, unknown>) => void): void {
  if (Array.isArray(value)) value.forEach((v) => objects(v, visit));
  else if (value && typeof value === 'object') {
    visit(value as Record<string, unknown>);
    Object.values(value).forEach((v) => objects(v, visit));
  }
}

/**
 * The anonymity check for one JSON document: every object that carries an anonymous item (a
 * prompt's text or id as one of its values) must not contain an author's identifier anywhere in
 * it; and an event about prompts (kind prompt*) must not either.
 */
function linked(doc: unknown, items: string[], marks: string[]): string[] {
  const found: string[] = [];
  objects(doc, (o) => {
    const values = Object.values(o).filter((v) => typeof v === 'string') as string[];
    const carries = values.some((v) => items.includes(v)) || (typeof o.kind === 'string' && o.kind.startsWith('prompt'));
    if (!carries) return;
    const text = JSON.stringify(o);
    for (const m of marks) if (text.includes(m)) found.push(`${m} in ${text.slice(0, 200)}`);
  });
  return found;
}

/** Records every message published on the room's Redis channels (PSUBSCRIBE over a raw socket). */
function tapRedis(port: number): { messages: string[]; close(): void } {
  const messages: string[] = [];
  const socket = net.connect(port, '127.0.0.1');
  socket.write('PSUBSCRIBE colloquy:room:*\r\n');
  let buffer = '';
  socket.on('data', (d) => {
    buffer += d.toString('utf8');
    for (const m of buffer.matchAll(/\{"(?:epoch|events|pending_changed|room)"[^\r\n]*/g)) messages.push(m[0]);
    buffer = buffer.slice(buffer.lastIndexOf('\n') + 1);
  });
  return { messages, close: () => socket.destroy() };
}

async function scenario(servers: RunningServer[], room: CreatedRoom) {
  const at = (i: number) => servers[i % servers.length]!.wsUrl;
  const grace = await joinFacilitator(at(0), room, 'Grace');
  const watcher = await joinParticipant(at(1), room, 'Watcher'); // never submits: sees what the group sees
  const authors: Author[] = [];
  for (const [i, name] of ['Ada', 'Lin', 'Kim'].entries()) {
    authors.push({ member: await joinParticipant(at(i + 2), room, name), name, texts: [] });
  }
  // Let every join reach the watcher first (across instances it comes through Redis), so the
  // silence measured below is about the submissions only.
  for (const a of authors) {
    await watcher.client.nextEvent((e) => e.event.kind === 'member_joined' && e.event.member.id === a.member.id);
  }
  await sleep(100);
  const questions = [
    'What are we not saying about the budget?',
    'Who decided the pilot would fail before it began?',
    'Is our kindness getting in the way of honesty?',
    'What would change if parents were in this room?',
    'Which of our rules protects us rather than the children?',
  ];
  // Two prompts, one at a time: only the author hears back; facilitators see them pending.
  for (const [i, author] of authors.slice(0, 2).entries()) {
    const text = questions[i]!;
    author.texts.push(text);
    const before = watcher.client.received.length;
    expect(await author.member.client.request({ type: 'prompt_submit', text })).toEqual({});
    const pending = await grace.client.nextFrame((f) => f.type === 'prompts_pending' && f.prompts.length === i + 1);
    for (const p of pending.prompts) expect(Object.keys(p).sort()).toEqual(['held', 'id', 'text']);
    await sleep(250);
    expect(watcher.client.received.length, 'a submission must not be visible to the group').toBe(before);
    for (const other of authors) {
      if (other !== author) expect(other.member.client.pending().filter((f) => f.type !== 'event')).toEqual([]);
    }
  }
  // The third pending prompt releases all three in one shuffled batch.
  authors[2]!.texts.push(questions[2]!);
  await authors[2]!.member.client.request({ type: 'prompt_submit', text: questions[2] });
  const released = await watcher.client.nextEvent((e) => e.event.kind === 'prompts_released');
  expect(released.event.prompts.map((p: Frame) => p.text).sort()).toEqual(questions.slice(0, 3).sort());
  for (const p of released.event.prompts) expect(Object.keys(p).sort()).toEqual(['id', 'text']);
  // Two more, held and released by the facilitator; a vote and a pose by non-authors.
  authors[0]!.texts.push(questions[3]!);
  authors[1]!.texts.push(questions[4]!);
  await authors[0]!.member.client.request({ type: 'prompt_submit', text: questions[3] });
  await authors[1]!.member.client.request({ type: 'prompt_submit', text: questions[4] });
  const pending = await grace.client.nextFrame(
    (f) => f.type === 'prompts_pending' && f.prompts.length === 2 && f.prompts.some((p: Frame) => p.text === questions[4]),
  );
  await grace.client.request({ type: 'prompt_hold', prompt: pending.prompts[0].id });
  await grace.client.request({ type: 'prompt_release', prompts: pending.prompts.map((p: Frame) => p.id) });
  const second = await watcher.client.nextEvent((e) => e.event.kind === 'prompts_released');
  expect(second.event.prompts).toHaveLength(2);
  const first = released.event.prompts[0];
  await watcher.client.request({ type: 'prompt_upvote', prompt: first.id });
  expect((await watcher.client.send({ type: 'prompt_upvote', prompt: first.id })).code).toBe('already_voted');
  await grace.client.request({ type: 'prompt_pose', prompt: first.id });
  const votes = await grace.client.nextEvent((e) => e.event.kind === 'prompt_upvoted');
  expect(votes.event).toEqual({ kind: 'prompt_upvoted', prompt_id: first.id, votes: 1 });
  await sleep(300);
  const items = [...questions, ...released.event.prompts.map((p: Frame) => p.id), ...second.event.prompts.map((p: Frame) => p.id)];
  return { grace, watcher, authors, items, clients: [grace, watcher, ...authors.map((a) => a.member)] };
}

describe('anonymous prompts leave no trace of their authors', () => {
  it('embedded server: frames, data directory and log', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'colloquy-anonymity-'));
    const server = await startServer({ args: ['--log-level', 'debug'], dataDir });
    started.push(server, { stop: async () => rmSync(dataDir, { recursive: true, force: true }) });
    const room = await createRoom(server.baseUrl, 'Protected dissonance');
    const { authors, items, clients } = await scenario([server], room);
    const marks = authorMarks(authors);

    for (const c of clients) {
      for (const r of c.client.received) expect(linked(r.frame, items, marks), `frame to ${c.client.label}`).toEqual([]);
    }
    await server.stop();
    // The data directory, record by record (journal lines, the snapshot document).
    for (const file of readdirSync(server.dataDir)) {
      const text = readFileSync(path.join(server.dataDir, file), 'utf8');
      for (const line of text.split('\n').filter((l) => l.trim())) {
        const json = line.replace(/^[0-9a-f]{8} /, '');
        let doc: unknown = null;
        try {
          doc = JSON.parse(json);
        } catch {
          expect(items.some((i) => line.includes(i)), `${file}: an unparsed line with a prompt`).toBe(false);
          continue;
        }
        expect(linked(doc, items, marks), file).toEqual([]);
      }
    }
    // The log mentions no prompt at all.
    for (const item of items) expect(server.stderr().includes(item), `log mentions ${item}`).toBe(false);
  });

  it('three instances on Redis: also every Redis key and every published message', async () => {
    const redis: RunningRedis = await startRedis();
    const tap = tapRedis(redis.port);
    const start = () => startServer({ args: ['--redis', redis.url, '--log-level', 'debug'] });
    const servers = [await start(), await start(), await start()];
    started.push(redis, ...servers);
    const room = await createRoom(servers[0]!.baseUrl, 'Protected dissonance');
    const { authors, items, clients } = await scenario(servers, room);
    const marks = authorMarks(authors);
    for (const c of clients) {
      for (const r of c.client.received) expect(linked(r.frame, items, marks), `frame to ${c.client.label}`).toEqual([]);
    }
    tap.close();
    expect(tap.messages.length).toBeGreaterThan(5);
    for (const m of tap.messages) expect(linked(JSON.parse(m), items, marks), 'published message').toEqual([]);
    // Every key: streams entry by entry, hashes field by field, sets member by member.
    const keys = (await redis.cli('--scan')).split('\n').filter(Boolean);
    expect(keys.some((k) => k.includes(':votes:'))).toBe(true);
    expect(keys.some((k) => k.endsWith(':log'))).toBe(true);
    for (const key of keys) {
      const type = await redis.cli('TYPE', key);
      const dump =
        type === 'stream' ? await redis.cli('XRANGE', key, '-', '+') :
        type === 'hash' ? await redis.cli('HGETALL', key) :
        type === 'set' ? await redis.cli('SMEMBERS', key) : await redis.cli('GET', key);
      for (const line of dump.split('\n')) {
        let doc: unknown = null;
        try {
          doc = JSON.parse(line);
        } catch {
          // a plain value: a prompt id or text must not sit next to an author's id in the same key
          if (items.some((i) => line === i)) expect(marks.some((m) => dump.includes(m)), `${key}`).toBe(false);
          continue;
        }
        expect(linked(doc, items, marks), key).toEqual([]);
      }
      if (key.includes(':votes:')) {
        for (const a of authors) expect(dump.split('\n')).not.toContain(a.member.id);
      }
    }
    for (const s of servers) for (const item of items) expect(s.stderr().includes(item)).toBe(false);
  }, 30_000);

  it('abuse limit: the sixth prompt in a minute is refused, and nothing records who', async () => {
    const server = await startServer({ args: ['--log-level', 'debug'] });
    started.push(server);
    const room = await createRoom(server.baseUrl, 'Limits');
    await joinFacilitator(server.wsUrl, room, 'Grace');
    const ada = await joinParticipant(server.wsUrl, room, 'Ada');
    for (let i = 0; i < 5; i++) await ada.client.request({ type: 'prompt_submit', text: `Question number ${i}` });
    const refused = await ada.client.send({ type: 'prompt_submit', text: 'One too many' });
    expect(refused.code).toBe('rate_limited');
    for (const bad of [{ text: '' }, { text: 'x'.repeat(501) }, { text: 'a\u0007b' }]) {
      expect((await ada.client.send({ type: 'prompt_submit', ...bad })).code).toBe('invalid_text');
    }
    expect((await ada.client.send({ type: 'prompt_release' })).code).toBe('forbidden');
    expect((await ada.client.send({ type: 'prompt_upvote', prompt: 'pnope' })).code).toBe('unknown_prompt');
    expect(server.stderr().includes(ada.id + ' ') && server.stderr().includes('prompt')).toBe(false);
  });

  it('climate audit: answers only in aggregate from k members, no per-answer trace, nothing left after closing', async () => {
    const redis: RunningRedis = await startRedis();
    const tap = tapRedis(redis.port);
    const start = () => startServer({ args: ['--redis', redis.url, '--log-level', 'debug'] });
    const servers = [await start(), await start()];
    started.push(redis, ...servers);
    const room = await createRoom(servers[0]!.baseUrl, 'Climate');
    const grace = await joinFacilitator(servers[0]!.wsUrl, room, 'Grace');
    const names = ['Ada', 'Lin', 'Kim', 'Sam'];
    const members: Author[] = [];
    for (const [i, name] of names.entries()) {
      members.push({ member: await joinParticipant(servers[i % 2]!.wsUrl, room, name), name, texts: [] });
    }
    for (const m of members) {
      await grace.client.nextEvent((e) => e.event.kind === 'member_joined' && e.event.member.id === m.member.id);
    }
    await grace.client.request({ type: 'audit_open', k: 3 });
    const opened = await grace.client.nextEvent((e) => e.event.kind === 'audit_opened');
    const items: string[] = opened.event.audit.items.map((i: Frame) => i.id);
    const comments = ['Meetings feel rushed at the end.', 'I hold back when the head is here.', 'Safer than last term.'];
    const before = grace.client.received.length;
    for (const [i, m] of members.slice(0, 3).entries()) {
      m.texts.push(comments[i]!);
      const answers = Object.fromEntries(items.map((id, n) => [id, ((i + n) % 5) + 1]));
      expect(await m.member.client.request({ type: 'audit_answer', answers, comment: comments[i] })).toEqual({});
    }
    await sleep(250);
    expect(grace.client.received.length, 'no answer is visible to anyone, facilitators included').toBe(before);
    // A facilitator may ask how many answered (1.6), on another instance too: a count in the reply
    // to them, nothing to anyone else; a participant may not ask.
    const othersBefore = members.slice(1).map((m) => m.member.client.received.length);
    expect(await grace.client.request({ type: 'audit_status' })).toEqual({ k: 3, responses: 3 });
    const onB = await joinParticipant(servers[1]!.wsUrl, room, 'Probe');
    expect(await onB.client.send({ type: 'audit_status' })).toMatchObject({ type: 'error', code: 'forbidden' });
    await sleep(100);
    expect(members.slice(1).map((m) => m.member.client.received.length).map((n, i) => n - othersBefore[i]!), 'only the join of Probe reaches the others').toEqual([1, 1, 1]);
    await grace.client.request({ type: 'audit_close' });
    const closed = await members[3]!.member.client.nextEvent((e) => e.event.kind === 'audit_closed');
    expect(closed.event.responses).toBe(3);
    expect([...closed.event.results.comments].sort()).toEqual([...comments].sort());
    for (const item of closed.event.results.items) expect(item.counts.reduce((a: number, b: number) => a + b, 0)).toBe(3);
    expect(await grace.client.send({ type: 'audit_status' })).toMatchObject({ type: 'error', code: 'no_audit' });

    const marks = authorMarks(members);
    const anonymous = [...comments];
    for (const c of [grace, ...members.map((m) => m.member)]) {
      for (const r of c.client.received) expect(linked(r.frame, anonymous, marks), `frame to ${c.client.label}`).toEqual([]);
    }
    tap.close();
    for (const m of tap.messages) expect(linked(JSON.parse(m), anonymous, marks), 'published message').toEqual([]);
    const keys = (await redis.cli('--scan')).split('\n').filter(Boolean);
    expect(keys.filter((k) => k.includes(':audit:')), 'nothing of the audit is left in Redis').toEqual([]);
    for (const s of servers) for (const c of comments) expect(s.stderr().includes(c)).toBe(false);
  }, 30_000);
});
