// Breakout groups (protocol/README.md, 1.7) on the real server: a group's flags reach only that
// group and the facilitators — every frame to every connection is scanned — on one instance and
// across three instances sharing rooms through a real redis-server, after a resume too; the recall
// counts down, gives its grace, and closes; bad input changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoom, type CreatedRoom } from '../lib/api.js';
import { startRedis, type RunningRedis } from '../lib/redis.js';
import { joinFacilitator, joinParticipant, joinWith, type Member } from '../lib/room.js';
import { startServer, type RunningServer } from '../lib/server.js';
import type { Frame } from '../lib/ws-client.js';

let redis: RunningRedis;
let embedded: RunningServer;
let a: RunningServer;
let b: RunningServer;
let c: RunningServer;

beforeAll(async () => {
  redis = await startRedis();
  const shared = () => startServer({ args: ['--redis', redis.url] });
  [embedded, a, b, c] = await Promise.all([startServer(), shared(), shared(), shared()]);
});
afterAll(async () => {
  await Promise.all([embedded, a, b, c].map((s) => s?.stop()));
  await redis?.stop();
});

interface Person {
  name: string;
  member: Member;
  frames: Frame[];
}

async function person(wsUrl: string, room: CreatedRoom, name: string, facilitator = false): Promise<Person> {
  const member = facilitator ? await joinFacilitator(wsUrl, room, name) : await joinParticipant(wsUrl, room, name);
  const frames: Frame[] = [];
  member.client.onFrame((f) => frames.push(f));
  return { name, member, frames };
}

/** Every frame a person received that carries a group's flag, as "g1:help:true". */
function flagsSeen(p: Person): string[] {
  const out: string[] = [];
  for (const f of p.frames) {
    const text = JSON.stringify(f);
    if (f.type === 'event' && f.event.kind === 'group_flag_changed') out.push(`${f.event.group}:${f.event.flag}:${f.event.on}`);
    else if (text.includes('group_flag_changed')) out.push(`elsewhere: ${text}`); // never inside another frame
  }
  return out;
}

async function ok(p: Person, cmd: Frame): Promise<Frame> {
  const f = await p.member.client.send(cmd);
  expect(f.type, `${p.name}: ${JSON.stringify(cmd)} → ${JSON.stringify(f)}`).toBe('reply');
  return f;
}

async function refused(p: Person, cmd: Frame, code: string): Promise<void> {
  const f = await p.member.client.send(cmd);
  expect(f.type, JSON.stringify(cmd)).toBe('error');
  expect(f.code, JSON.stringify(f)).toBe(code);
}

/**
 * Grace facilitates; Ada+Lin are g1, Kim+Bo g2, Cy+Di g3 (a manual split in pairs); urls[i] is
 * the instance each person connects to. Ada calls for help, Lin says done, Kim asks for more time;
 * then each person's frames are checked.
 */
async function flagsStayInTheirGroup(urls: { base: string; ws: string[] }) {
  const room = await createRoom(urls.base, 'Breakouts');
  const names = ['Ada', 'Lin', 'Kim', 'Bo', 'Cy', 'Di'];
  const grace = await person(urls.ws[0]!, room, 'Grace', true);
  const people: Person[] = [];
  for (const [i, n] of names.entries()) people.push(await person(urls.ws[(i + 1) % urls.ws.length]!, room, n));
  const [ada, lin, kim, bo, cy, di] = people as [Person, Person, Person, Person, Person, Person];
  await ok(grace, { type: 'groups_open', method: 'manual', size: 2, members: people.map((p) => p.member.id), seconds: 900 });
  for (const p of [grace, ...people]) {
    const opened = await p.member.client.nextEvent((f) => f.event.kind === 'groups_opened');
    expect(opened.event.groups.map((g: Frame) => g.members.length)).toEqual([2, 2, 2]);
  }
  await ok(ada, { type: 'group_flag', flag: 'help', on: true });
  await ok(lin, { type: 'group_flag', flag: 'done', on: true });
  await ok(kim, { type: 'group_flag', flag: 'more_time', on: true });
  // Everyone hears the facilitator's message: a frame after the flags in the room's one order.
  await ok(grace, { type: 'groups_message', text: 'Five minutes left' });
  for (const p of [grace, ...people]) await p.member.client.nextEvent((f) => f.event.kind === 'groups_message');

  expect(flagsSeen(grace)).toEqual(['g1:help:true', 'g1:done:true', 'g2:more_time:true']);
  expect(flagsSeen(ada)).toEqual(['g1:help:true', 'g1:done:true']);
  expect(flagsSeen(lin)).toEqual(['g1:help:true', 'g1:done:true']);
  expect(flagsSeen(kim)).toEqual(['g2:more_time:true']);
  expect(flagsSeen(bo)).toEqual(['g2:more_time:true']);
  expect(flagsSeen(cy)).toEqual([]);
  expect(flagsSeen(di)).toEqual([]);

  // A snapshot shows a group's flags to it and the facilitators only.
  const rejoin = async (p: Person, url: string) => (await joinWith(url, { room: room.room, resume: p.member.token }, `${p.name}-again`)).result.snapshot;
  const flagsOf = (snapshot: Frame) => snapshot.groups.groups.map((g: Frame) => `${g.id}:${g.help}:${g.done}:${g.more_time}`);
  expect(flagsOf(await rejoin(cy, urls.ws[urls.ws.length - 1]!))).toEqual(['g1:false:false:false', 'g2:false:false:false', 'g3:false:false:false']);
  expect(flagsOf(await rejoin(ada, urls.ws[0]!))).toEqual(['g1:true:true:false', 'g2:false:false:false', 'g3:false:false:false']);
  expect(flagsOf(await rejoin(grace, urls.ws[1 % urls.ws.length]!))).toEqual(['g1:true:true:false', 'g2:false:false:true', 'g3:false:false:false']);

  // A resume with `after` replays only what the member may see.
  const di2 = await joinWith(urls.ws[0]!, { room: room.room, resume: di.member.token, after: 1 }, 'di-resume');
  expect(di2.result.replay.events).toBeGreaterThan(5);
  const replayed: Frame[] = [];
  for (let i = 0; i < di2.result.replay.events; i++) replayed.push(await di2.client.nextEvent());
  expect(replayed.filter((f) => f.type === 'event').map((f) => f.event.kind)).not.toContain('group_flag_changed');
  expect(replayed.filter((f) => f.type === 'event').map((f) => f.event.kind)).toContain('groups_opened');
  return { grace, people, room };
}

describe('breakout groups', () => {
  it('one instance: a group\'s flags reach that group and the facilitators, never another group', async () => {
    await flagsStayInTheirGroup({ base: embedded.baseUrl, ws: [embedded.wsUrl] });
  });

  it('three instances on Redis: the same, whichever instance each member is on', async () => {
    await flagsStayInTheirGroup({ base: a.baseUrl, ws: [a.wsUrl, b.wsUrl, c.wsUrl] });
  });

  it('a recall counts down, then gives its grace, then the server closes the groups for everyone', async () => {
    const room = await createRoom(embedded.baseUrl, 'Recall');
    const grace = await person(embedded.wsUrl, room, 'Grace', true);
    const ada = await person(embedded.wsUrl, room, 'Ada');
    const lin = await person(embedded.wsUrl, room, 'Lin');
    await ok(grace, { type: 'groups_open', method: 'fresh', size: 2 });
    const started = Date.now();
    await ok(grace, { type: 'groups_recall', seconds: 1 });
    const recalled = await ada.member.client.nextEvent((f) => f.event.kind === 'groups_recalled');
    expect(recalled.event.closes_at - recalled.event.recall_ends_at).toBe(10_000);
    const closed = await lin.member.client.nextEvent((f) => f.event.kind === 'groups_closed', 15_000);
    expect(closed.event.reason).toBe('recalled');
    expect(Date.now() - started).toBeGreaterThanOrEqual(10_500); // the warning (1 s) and the grace (10 s)
    expect(closed.time).toBeGreaterThanOrEqual(recalled.event.closes_at);
    await refused(grace, { type: 'groups_close' }, 'no_groups');
  }, 20_000);

  it('bad input gets a clear error with a stable code and changes nothing', async () => {
    const room = await createRoom(embedded.baseUrl, 'Bad input');
    const grace = await person(embedded.wsUrl, room, 'Grace', true);
    const ada = await person(embedded.wsUrl, room, 'Ada');
    const lin = await person(embedded.wsUrl, room, 'Lin');
    await refused(grace, { type: 'groups_open', method: 'random', size: 1 }, 'invalid_group_size');
    await refused(grace, { type: 'groups_open', method: 'random', size: 3 }, 'invalid_group_size'); // two participants
    await refused(grace, { type: 'groups_open', method: 'random', size: 2, members: [ada.member.id, lin.member.id] }, 'invalid_field');
    await refused(grace, { type: 'groups_open', method: 'manual', size: 2 }, 'missing_field');
    await refused(grace, { type: 'groups_open', method: 'manual', size: 2, members: [ada.member.id, 'm77'] }, 'unknown_member');
    await refused(grace, { type: 'groups_open', method: 'random', size: 2, seconds: 0 }, 'invalid_duration');
    await refused(ada, { type: 'groups_open', method: 'random', size: 2 }, 'forbidden');
    await refused(grace, { type: 'groups_recall' }, 'no_groups');
    await refused(grace, { type: 'group_move', member: ada.member.id, group: 'g1' }, 'no_groups');
    await refused(ada, { type: 'group_flag', flag: 'help', on: true }, 'no_groups');
    const before = (await joinWith(embedded.wsUrl, { room: room.room, resume: lin.member.token }, 'lin-probe')).result.snapshot;
    expect(before.groups).toBeNull();
    expect(before.seq).toBe(4); // created, three joins: nothing else was recorded

    await ok(grace, { type: 'groups_open', method: 'random', size: 2 });
    await refused(grace, { type: 'groups_open', method: 'random', size: 2 }, 'groups_open');
    await refused(grace, { type: 'group_move', member: 'm77', group: 'g1' }, 'unknown_member');
    await refused(grace, { type: 'group_move', member: ada.member.id, group: 'g9' }, 'unknown_group');
    await refused(grace, { type: 'groups_extend', seconds: 0 }, 'invalid_duration');
    await refused(grace, { type: 'groups_message', text: '   ' }, 'invalid_text');
    await ok(grace, { type: 'groups_recall', seconds: 60 });
    await refused(grace, { type: 'groups_recall' }, 'already_recalled');
    await ok(grace, { type: 'groups_close' });
  });
});
