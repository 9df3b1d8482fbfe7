// The client runs under the server's strict Content-Security-Policy (no bypass here): the whole
// gathering flow produces no CSP violation, no console error and no uncaught page error.
import { describe, expect, it, onTestFailed } from 'vitest';
import {
  expectOnline,
  gatherRoom,
  screenshotPeople,
  useServerAndBrowser,
  type Person,
} from './lib-browser.js';

const env = useServerAndBrowser(); // its own server (own temporary --data-dir) and browser

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
    const [grace, ada, lin] = await env.addPeople(['Grace', 'Ada', 'Lin']);
    onTestFailed(() => screenshotPeople('csp-failed', env.people));

    // The policy is really there on the page we test.
    const response = await grace.page.goto(`${env.server.baseUrl}/`);
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");

    await gatherRoom(grace, env.server.baseUrl, 'Spring cohort', [ada, lin]);

    // The rest of the everyday flow: copy the invite, leave, reload (resume).
    await grace.page.getByTestId('invite-open').click();
    await grace.page.getByTestId('copy-invite').click();
    await expect.poll(() => grace.page.getByTestId('copy-status').innerText()).not.toBe('');
    await grace.page.getByTestId('invite-close').click();
    await ada.page.getByTestId('leave-room').click();
    await ada.page.getByTestId('left-title').waitFor({ state: 'visible' });
    await lin.page.reload();
    await lin.page.getByTestId('room-title').waitFor({ state: 'visible' });
    await expectOnline(lin.page);
    await expect.poll(() => grace.page.getByTestId('member-item').filter({ hasText: /^\s*Ada/ }).getAttribute('data-presence')).toBe('left');
    // Give late reports (e.g. a violation from a style applied after render) a moment to arrive.
    await grace.page.waitForTimeout(300);

    const all = env.people.map(report).join('\n');
    for (const p of env.people) {
      expect(p.problems.cspMessages, `CSP messages\n${all}`).toEqual([]);
      expect(p.problems.pageErrors, `page errors\n${all}`).toEqual([]);
      expect(p.problems.consoleErrors, `console errors\n${all}`).toEqual([]);
    }
  });

  it('(self-check) the watcher does report a CSP violation when one happens', async () => {
    const probe = await env.addPerson('Probe');
    await probe.page.goto(`${env.server.baseUrl}/`);
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
