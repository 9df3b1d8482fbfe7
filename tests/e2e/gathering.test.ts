// A facilitator creates a room in the browser and two participants join from the invite link:
// everyone sees the same three people, and the secrets leave the address bar.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { startServer, type RunningServer } from '../lib/server.js';
import {
  closeAll,
  createRoomAs,
  expectMembers,
  joinViaInvite,
  launchBrowser,
  memberRows,
  newPerson,
  screenshot,
  screenshotPeople,
  type Person,
} from './lib-browser.js';

let server: RunningServer;
let browser: Browser;
const people: Person[] = [];

beforeAll(async () => {
  server = await startServer(); // its own temporary --data-dir (lib/server.ts)
  browser = await launchBrowser();
});

afterAll(async () => {
  await closeAll(people);
  await browser?.close().catch(() => undefined);
  await server?.stop();
});

describe('gathering', () => {
  it('Grace creates "Spring cohort", Ada and Lin join from the invite link, all three see the same three people', async () => {
    const grace = await newPerson(browser, 'Grace');
    const ada = await newPerson(browser, 'Ada');
    const lin = await newPerson(browser, 'Lin');
    people.push(grace, ada, lin);
    onTestFailed(() => screenshotPeople('gathering-failed', people));

    const invite = await createRoomAs(grace, server.baseUrl, 'Spring cohort');
    expect(grace.page.url(), 'facilitator key left in the address bar').not.toContain('#');
    expect(grace.page.url()).not.toContain('key=');
    const roomPath = new URL(grace.page.url()).pathname;
    expect(new URL(invite).pathname).toBe(roomPath);

    await joinViaInvite(ada, invite);
    await joinViaInvite(lin, invite);

    const everyone = ['Grace', 'Ada', 'Lin'];
    for (const p of people) {
      await expect.poll(() => p.page.getByTestId('room-title').textContent()).toBe('Spring cohort');
      await expectMembers(p.page, everyone, p.name);
      await expect
        .poll(async () => (await memberRows(p.page)).map((r) => r.presence), { message: `${p.name}: presence` })
        .toEqual(['online', 'online', 'online']);
      expect(p.page.url(), `${p.name}: secret left in the address bar`).not.toMatch(/#|key=|code=/);
      expect(new URL(p.page.url()).pathname).toBe(roomPath);
      await expect.poll(() => p.page.getByTestId('connection-state').getAttribute('data-state')).toBe('online');
    }

    // Roles as shown: Grace is the facilitator (and only she sees the invite link).
    const rows = await memberRows(ada.page);
    expect(rows.find((r) => r.text.startsWith('Grace'))?.role).toBe('facilitator');
    expect(rows.find((r) => r.text.startsWith('Grace'))?.text).toContain('facilitator');
    expect(rows.find((r) => r.text.startsWith('Ada'))?.role).toBe('participant');
    expect(await ada.page.getByTestId('invite-link').count()).toBe(0);
    expect(await lin.page.getByTestId('invite-link').count()).toBe(0);
    // Each page marks its own member.
    expect(rows.find((r) => r.text.startsWith('Ada'))?.text).toContain('(you)');
    expect(rows.find((r) => r.text.startsWith('Grace'))?.text).not.toContain('(you)');

    for (const p of people) {
      const file = await screenshot(p.page, p.name.toLowerCase());
      expect(file, `screenshot of ${p.name}`).not.toBeNull();
    }
  });
});
