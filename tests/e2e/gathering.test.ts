// A facilitator creates a room in the browser and two participants join from the invite link:
// everyone sees the same three people, and the secrets leave the address bar.
import { describe, expect, it, onTestFailed } from 'vitest';
import {
  createRoomAs,
  expectMembers,
  joinViaInvite,
  memberRows,
  screenshot,
  screenshotPeople,
  useServerAndBrowser,
} from './lib-browser.js';

const env = useServerAndBrowser(); // its own server (own temporary --data-dir) and browser

describe('gathering', () => {
  it('Grace creates "Spring cohort", Ada and Lin join from the invite link, all three see the same three people', async () => {
    const [grace, ada, lin] = await env.addPeople(['Grace', 'Ada', 'Lin']);
    onTestFailed(() => screenshotPeople('gathering-failed', env.people));

    const invite = await createRoomAs(grace, env.server.baseUrl, 'Spring cohort');
    expect(grace.page.url(), 'facilitator key left in the address bar').not.toContain('#');
    expect(grace.page.url()).not.toContain('key=');
    const roomPath = new URL(grace.page.url()).pathname;
    expect(new URL(invite).pathname).toBe(roomPath);

    await joinViaInvite(ada, invite);
    await joinViaInvite(lin, invite);

    const everyone = ['Grace', 'Ada', 'Lin'];
    for (const p of env.people) {
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

    for (const p of env.people) {
      const file = await screenshot(p.page, p.name.toLowerCase());
      expect(file, `screenshot of ${p.name}`).not.toBeNull();
    }
  });
});
