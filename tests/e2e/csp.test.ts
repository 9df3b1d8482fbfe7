// The client runs under the server's strict Content-Security-Policy (no bypass here): the whole
// gathering flow produces no CSP violation, no console error and no uncaught page error.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { startServer, type RunningServer } from '../lib/server.js';
import {
  closeAll,
  createRoomAs,
  expectMembers,
  expectOnline,
  joinViaInvite,
  launchBrowser,
  newPerson,
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

function report(p: Person): string {
  const { cspMessages, consoleErrors, pageErrors } = p.problems;
  return [
    `${p.name}:`,
    ...cspMessages.map((m) => `  csp: ${m}`),
    ...consoleErrors.map((m) => `  console: ${m}`),
    ...pageErrors.map((m) => `  pageerror: ${m}`),
  ].join('\n');
}

describe('Content-Security-Policy holds', () => {
  it('the gathering flow runs with no CSP violation, console error or page error', async () => {
    const grace = await newPerson(browser, 'Grace');
    const ada = await newPerson(browser, 'Ada');
    const lin = await newPerson(browser, 'Lin');
    people.push(grace, ada, lin);
    onTestFailed(() => screenshotPeople('csp-failed', people));

    // The policy is really there on the page we test.
    const response = await grace.page.goto(`${server.baseUrl}/`);
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");

    const invite = await createRoomAs(grace, server.baseUrl, 'Spring cohort');
    await joinViaInvite(ada, invite);
    await joinViaInvite(lin, invite);
    for (const p of people) await expectMembers(p.page, ['Grace', 'Ada', 'Lin'], p.name);

    // The rest of the everyday flow: copy the invite, leave, reload (resume).
    await grace.page.getByTestId('copy-invite').click();
    await expect.poll(() => grace.page.getByTestId('copy-status').innerText()).not.toBe('');
    await ada.page.getByTestId('leave-room').click();
    await ada.page.getByTestId('left-title').waitFor({ state: 'visible' });
    await lin.page.reload();
    await lin.page.getByTestId('room-title').waitFor({ state: 'visible' });
    await expectOnline(lin.page);
    await expect.poll(() => grace.page.getByTestId('member-item').filter({ hasText: /^\s*Ada/ }).getAttribute('data-presence')).toBe('left');
    // Give late reports (e.g. a violation from a style applied after render) a moment to arrive.
    await grace.page.waitForTimeout(300);

    const all = people.map(report).join('\n');
    for (const p of people) {
      expect(p.problems.cspMessages, `CSP messages\n${all}`).toEqual([]);
      expect(p.problems.pageErrors, `page errors\n${all}`).toEqual([]);
      expect(p.problems.consoleErrors, `console errors\n${all}`).toEqual([]);
    }
  });

  it('(self-check) the watcher does report a CSP violation when one happens', async () => {
    const probe = await newPerson(browser, 'Probe');
    people.push(probe);
    await probe.page.goto(`${server.baseUrl}/`);
    await probe.page.getByTestId('create-title').waitFor({ state: 'visible' });
    // An inline script is what the policy forbids; the page itself never does this.
    await probe.page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__inlineRan = true;';
      document.head.appendChild(s);
    });
    await expect.poll(() => probe.problems.cspMessages.length).toBeGreaterThan(0);
    expect(await probe.page.evaluate(() => (window as unknown as { __inlineRan?: boolean }).__inlineRan)).toBeUndefined();
  });
});
