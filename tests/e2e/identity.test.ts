// Identities that last and first contact (issue 10, items 2 and 5): a facilitator and a member
// who close their tab come back as themselves; reopening the invite link returns the same member
// and "Not you?" makes a new one; a rejoin link moves a member to another browser and the first
// is told; two tabs of one browser hand the member over; blocked storage still works for the tab;
// a wrong invite says so before any name field; an unknown path shows the "Page not found" page.
// Screenshots at 1280 and 360 px in tests/artifacts/identity/; axe on every new screen.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it, onTestFailed } from 'vitest';
import {
  artifactsDir,
  createRoomAs,
  expectMembers,
  expectOnline,
  formatViolations,
  joinViaInvite,
  memberRows,
  newTab,
  runAxe,
  screenshotPeople,
  useServerAndBrowser,
  type Person,
} from './lib-browser.js';

const env = useServerAndBrowser();
const shotsDir = path.join(artifactsDir, 'identity');
const WIDTHS = [
  { width: 1280, height: 800 },
  { width: 360, height: 740 },
] as const;
// bypassCSP for axe only (csp.test.ts checks the policy).
const CONTEXT = { bypassCSP: true, viewport: { width: 1280, height: 800 } };

/** Axe finds nothing, and a screenshot at 1280 and at 360 px wide: identity/<width>-<name>.png. */
async function checkScreen(page: Page, name: string): Promise<void> {
  mkdirSync(shotsDir, { recursive: true });
  for (const size of WIDTHS) {
    await page.setViewportSize(size);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.waitForTimeout(150);
    const violations = await runAxe(page);
    expect(violations.map((v) => v.id), `axe on ${name} at ${size.width}px:\n${formatViolations(violations)}`).toEqual([]);
    await page.screenshot({ path: path.join(shotsDir, `${size.width}-${name}.png`) });
  }
  await page.setViewportSize(WIDTHS[0]);
}

/** Records, from the first script on, whether a name field was ever in the page. */
async function watchForNameField(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const w = window as unknown as { sawNameField: boolean };
    w.sawNameField = false;
    new MutationObserver(() => {
      if (document.querySelector('[data-testid="name-input"]')) w.sawNameField = true;
    }).observe(document, { childList: true, subtree: true });
  });
}

/** The member id the page marks as "(you)". */
async function selfId(page: Page): Promise<string | null> {
  const rows = await memberRows(page);
  return rows.find((r) => r.text.includes('(you)'))?.id ?? null;
}

describe('identities that last', () => {
  let grace: Person;
  let ada: Person;
  let invite: string;
  let roomPath: string;
  let adaId: string | null;

  it('a facilitator and a member close their tab and come back as themselves', async () => {
    [grace, ada] = await env.addPeople(['Grace', 'Ada'], CONTEXT);
    onTestFailed(() => screenshotPeople('identity-return-failed', env.people));
    invite = await createRoomAs(grace, env.server.baseUrl, 'Heads of school, spring');
    roomPath = new URL(invite).pathname;
    await joinViaInvite(ada, invite);
    await expectMembers(grace.page, ['Grace', 'Ada'], 'Grace');
    const graceId = await selfId(grace.page);
    adaId = await selfId(ada.page);
    expect(graceId).not.toBeNull();
    expect(adaId).not.toBeNull();

    // Grace closes her tab and opens the room's address (no secret in it) in a new one.
    await grace.page.close();
    await expect.poll(async () => (await memberRows(ada.page)).find((r) => r.id === graceId)?.presence).toBe('away');
    grace.page = await newTab(grace);
    await grace.page.goto(`${env.server.baseUrl}${roomPath}`);
    await expectOnline(grace.page);
    expect(await grace.page.getByTestId('name-input').count()).toBe(0);
    expect(await selfId(grace.page)).toBe(graceId);
    await grace.page.getByTestId('invite-open').waitFor({ state: 'visible' }); // still the facilitator
    await expectMembers(grace.page, ['Grace', 'Ada'], 'Grace back');

    // Ada closes hers and opens the invite link again: "Welcome back, Ada", then the same member.
    await ada.page.close();
    ada.page = await newTab(ada);
    await ada.page.goto(invite);
    await ada.page.getByTestId('welcome-heading').waitFor({ state: 'visible' });
    expect(await ada.page.getByTestId('welcome-heading').innerText()).toBe('Welcome back, Ada');
    await expect.poll(() => ada.page.locator('#welcome-heading + p').innerText()).toContain('“Heads of school, spring”');
    expect(await ada.page.getByTestId('not-you').isVisible()).toBe(true);
    expect(new URL(ada.page.url()).hash, 'the secret left the address bar').toBe('');
    await checkScreen(ada.page, 'welcome-back');
    await ada.page.getByTestId('continue-as').click();
    await expectOnline(ada.page);
    expect(await selfId(ada.page)).toBe(adaId);
    // One Ada, no second member of the same name.
    await expectMembers(grace.page, ['Grace', 'Ada'], 'Grace after Ada came back');
    await expectMembers(ada.page, ['Grace', 'Ada'], 'Ada after coming back');
  }, 60_000);

  it('two tabs of one browser: the second takes over, the first offers "Use here"', async () => {
    const second = await newTab(ada);
    await second.goto(`${env.server.baseUrl}${roomPath}`);
    await expectOnline(second);
    expect(await selfId(second)).toBe(adaId);
    await expect.poll(() => ada.page.getByTestId('connection-state').getAttribute('data-state')).toBe('replaced');
    await ada.page.getByTestId('use-here').waitFor({ state: 'visible' });
    expect(await ada.page.getByTestId('error-message').innerText()).toMatch(/another tab, window or device/);
    await checkScreen(ada.page, 'replaced');
    await ada.page.getByTestId('use-here').click();
    await expectOnline(ada.page);
    await expect.poll(() => second.getAttribute('[data-testid="connection-state"]', 'data-state')).toBe('replaced');
    await second.close();
    await expectMembers(grace.page, ['Grace', 'Ada'], 'Grace after the tabs');
  }, 60_000);

  it('a rejoin link opened in another browser resumes the member there; the first page is told', async () => {
    // Ada's own link, from "My link"; the facilitator's is in the Invite dialog.
    await ada.page.getByTestId('my-link-open').click();
    const link = await ada.page.getByTestId('rejoin-link').inputValue();
    expect(link).toMatch(new RegExp(`${roomPath}#resume=.+`));
    await checkScreen(ada.page, 'my-link');
    await ada.page.getByTestId('my-link-close').click();
    await grace.page.getByTestId('invite-open').click();
    expect(await grace.page.getByTestId('rejoin-link').inputValue()).toMatch(/#resume=.+/);
    await grace.page.getByTestId('invite-close').click();

    const phone = await env.addPerson('Ada on her phone', { ...CONTEXT, viewport: { width: 360, height: 740 } });
    await phone.page.goto(link);
    await expectOnline(phone.page);
    expect(new URL(phone.page.url()).hash, 'the token left the address bar').toBe('');
    await expect.poll(() => ada.page.getByTestId('connection-state').getAttribute('data-state')).toBe('replaced');
    await ada.page.getByTestId('use-here').waitFor({ state: 'visible' });
    await phone.page.setViewportSize({ width: 1280, height: 800 }); // the people column is beside the stage
    expect(await selfId(phone.page)).toBe(adaId);
    await expectMembers(grace.page, ['Grace', 'Ada'], 'Grace after Ada moved');
    // The phone's browser keeps her too: its own new tab comes back as Ada.
    await phone.page.close();
    phone.page = await newTab(phone);
    await phone.page.goto(`${env.server.baseUrl}${roomPath}`);
    await expectOnline(phone.page);
    expect(await selfId(phone.page)).toBe(adaId);
  }, 60_000);

  it('"Not you? Join as someone else" makes a new member and the browser remembers the new one', async () => {
    const page = await newTab(ada);
    await page.goto(invite);
    await page.getByTestId('not-you').click();
    await page.getByTestId('name-input').waitFor({ state: 'visible' });
    expect(await page.getByTestId('join-heading').innerText()).toBe('Join “Heads of school, spring”');
    await checkScreen(page, 'join-form');
    await page.getByTestId('name-input').fill('Bea');
    await page.getByTestId('join-submit').click();
    await expectOnline(page);
    const beaId = await selfId(page);
    expect(beaId).not.toBe(adaId);
    await expectMembers(grace.page, ['Grace', 'Ada', 'Bea'], 'Grace after Bea joined');

    const again = await newTab(ada);
    await again.goto(invite);
    await again.getByTestId('welcome-heading').waitFor({ state: 'visible' });
    expect(await again.getByTestId('welcome-heading').innerText()).toBe('Welcome back, Bea');
    await again.close();
  }, 60_000);

  it('a member removed by the facilitator is forgotten: a plain explanation, then a join as someone new', async () => {
    const lin = await env.addPerson('Lin', CONTEXT);
    await joinViaInvite(lin, invite);
    const linId = await selfId(lin.page);
    await lin.page.close();
    // While Lin's tab is closed, Grace removes her (a ghost).
    const item = grace.page.locator(`[data-testid="member-item"][data-member-id="${linId}"]`);
    grace.page.once('dialog', (d) => void d.accept());
    await item.getByTestId('remove-member').click();
    await expect.poll(async () => (await memberRows(grace.page)).find((r) => r.id === linId)?.presence).toBe('left');

    lin.page = await newTab(lin);
    await lin.page.goto(`${env.server.baseUrl}${roomPath}`);
    await lin.page.getByTestId('resume-refused').waitFor({ state: 'visible' });
    await lin.page.getByTestId('name-input').waitFor({ state: 'visible' });
    // Forgotten: the next tab does not try the old identity again.
    const next = await newTab(lin);
    await next.goto(`${env.server.baseUrl}${roomPath}`);
    await next.getByTestId('name-input').waitFor({ state: 'visible' });
    expect(await next.getByTestId('welcome-heading').count()).toBe(0);
    await next.close();
  }, 60_000);
});

describe('first contact', () => {
  it('a wrong invite code, and a room that is not there, say so before any name field', async () => {
    const host = await env.addPerson('Host', CONTEXT);
    const invite = await createRoomAs(host, env.server.baseUrl, 'Checked cohort');
    const roomUrl = invite.slice(0, invite.indexOf('#'));

    const visitor = await env.addPerson('Visitor', CONTEXT);
    onTestFailed(() => screenshotPeople('identity-first-contact-failed', [visitor]));
    await watchForNameField(visitor.context);
    await visitor.page.goto(`${roomUrl}#code=not-the-code`);
    await visitor.page.getByTestId('invite-refused').waitFor({ state: 'visible' });
    expect(await visitor.page.getByTestId('invite-refused').innerText()).toBe('This invite link does not work');
    expect(await visitor.page.getByTestId('error-message').getAttribute('data-code')).toBe('bad_credentials');
    expect(await visitor.page.evaluate(() => (window as unknown as { sawNameField: boolean }).sawNameField)).toBe(false);
    await checkScreen(visitor.page, 'invite-refused');
    // Forgotten: the room's address alone does not try the wrong code again.
    await visitor.page.goto(roomUrl);
    await visitor.page.getByTestId('error-message').waitFor({ state: 'visible' });
    expect(await visitor.page.evaluate(() => (window as unknown as { sawNameField: boolean }).sawNameField)).toBe(false);

    await visitor.page.goto(`${env.server.baseUrl}/room/nosuchroom0000000#code=whatever`);
    await visitor.page.getByTestId('invite-refused').waitFor({ state: 'visible' });
    expect(await visitor.page.getByTestId('invite-refused').innerText()).toBe('This session is not here');
    expect(await visitor.page.evaluate(() => (window as unknown as { sawNameField: boolean }).sawNameField)).toBe(false);

    // The right link: the name form, with the session's title.
    await visitor.page.goto(invite);
    await visitor.page.getByTestId('name-input').waitFor({ state: 'visible' });
    expect(await visitor.page.getByTestId('join-heading').innerText()).toBe('Join “Checked cohort”');
  }, 60_000);

  it('an unknown path shows the "Page not found" page (404) with a way home', async () => {
    const person = await env.addPerson('Lost', CONTEXT);
    const response = await person.page.goto(`${env.server.baseUrl}/sessions/spring`);
    expect(response?.status()).toBe(404);
    await person.page.getByRole('heading', { name: 'Page not found' }).waitFor({ state: 'visible' });
    expect(await person.page.title()).toBe('Page not found · Colloquy');
    await checkScreen(person.page, 'not-found');
    await person.page.getByRole('link', { name: 'Go to the Colloquy start page' }).click();
    await person.page.getByTestId('landing-lead').waitFor({ state: 'visible' });
    expect(await person.page.getByTestId('landing-lead').innerText()).toMatch(/^Run it alongside your video call/);
    await checkScreen(person.page, 'landing');
  }, 60_000);

  it('with web storage blocked (privacy modes) a member still joins and takes part in the tab', async () => {
    const host = await env.addPerson('Host2', CONTEXT);
    const invite = await createRoomAs(host, env.server.baseUrl, 'Private browsing');
    const kim = await env.addPerson('Kim', CONTEXT);
    await kim.context.addInitScript(() => {
      for (const name of ['localStorage', 'sessionStorage']) {
        Object.defineProperty(window, name, {
          get() {
            throw new DOMException('The operation is insecure.', 'SecurityError');
          },
        });
      }
    });
    await joinViaInvite(kim, invite);
    await expectMembers(host.page, ['Host2', 'Kim'], 'Host2');
    await kim.page.getByTestId('my-link-open').click();
    expect(await kim.page.getByTestId('rejoin-link').inputValue()).toMatch(/#resume=.+/);
    expect(kim.problems.pageErrors).toEqual([]);
  }, 60_000);
});
