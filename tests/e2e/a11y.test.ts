// axe-core finds no accessibility violations on the landing page, the name prompt and a room with members.
//
// These contexts are made with `bypassCSP: true`, for the axe runs only: the server's CSP
// (script-src 'self') rightly blocks the inline script that injects axe-core. The CSP itself is
// checked, without any bypass, in csp.test.ts.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { startServer, type RunningServer } from '../lib/server.js';
import {
  closeAll,
  createRoomAs,
  expectMembers,
  formatViolations,
  joinViaInvite,
  launchBrowser,
  newPerson,
  runAxe,
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

async function expectNoViolations(person: Person, where: string): Promise<void> {
  const violations = await runAxe(person.page);
  expect(violations.map((v) => v.id), `axe violations on ${where}:\n${formatViolations(violations)}`).toEqual([]);
}

describe('accessibility (axe-core)', () => {
  let invite = '';

  it('landing page', async () => {
    const grace = await newPerson(browser, 'Grace', { bypassCSP: true });
    people.push(grace);
    onTestFailed(() => screenshotPeople('a11y-landing-failed', [grace]));
    await grace.page.goto(`${server.baseUrl}/`);
    await grace.page.getByTestId('create-title').waitFor({ state: 'visible' });
    await expectNoViolations(grace, 'the landing page');
  });

  it('landing page showing a validation error', async () => {
    const person = await newPerson(browser, 'Validator', { bypassCSP: true });
    people.push(person);
    onTestFailed(() => screenshotPeople('a11y-landing-error-failed', [person]));
    await person.page.goto(`${server.baseUrl}/`);
    // Only spaces: the client rejects the title itself and shows its error message.
    await person.page.getByTestId('create-title').fill('   ');
    await person.page.getByTestId('create-submit').click();
    await person.page.getByTestId('error-message').waitFor({ state: 'visible' });
    await expectNoViolations(person, 'the landing page with an error');
  });

  it('name prompt (invite link opened)', async () => {
    const grace = people.find((p) => p.name === 'Grace')!;
    invite = await createRoomAs(grace, server.baseUrl, 'Accessible cohort');
    const ada = await newPerson(browser, 'Ada', { bypassCSP: true });
    people.push(ada);
    onTestFailed(() => screenshotPeople('a11y-prompt-failed', [ada]));
    await ada.page.goto(invite);
    await ada.page.getByTestId('name-input').waitFor({ state: 'visible' });
    await expectNoViolations(ada, 'the name prompt');
  });

  it('room page with members (facilitator and participant views)', async () => {
    const grace = people.find((p) => p.name === 'Grace')!;
    const ada = people.find((p) => p.name === 'Ada')!;
    const lin = await newPerson(browser, 'Lin', { bypassCSP: true });
    people.push(lin);
    onTestFailed(() => screenshotPeople('a11y-room-failed', [grace, ada, lin]));
    await ada.page.getByTestId('name-input').fill('Ada');
    await ada.page.getByTestId('join-submit').click();
    await joinViaInvite(lin, invite);
    // Lin leaves, so the "left" presence style and the "you left" page are checked too.
    await lin.page.getByTestId('leave-room').click();
    await lin.page.getByTestId('left-title').waitFor({ state: 'visible' });
    for (const p of [grace, ada]) await expectMembers(p.page, ['Grace', 'Ada', 'Lin'], p.name);
    await expectNoViolations(grace, "the facilitator's room page");
    await expectNoViolations(ada, "a participant's room page");
    await expectNoViolations(lin, 'the "you left" page');
  });
});
