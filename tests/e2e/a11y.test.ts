// axe-core finds no accessibility violations on the landing page, the name prompt and a room with members.
//
// These contexts are made with `bypassCSP: true`, for the axe runs only: the server's CSP
// (script-src 'self') rightly blocks the inline script that injects axe-core. The CSP itself is
// checked, without any bypass, in csp.test.ts.
import { describe, expect, it, onTestFailed } from 'vitest';
import {
  createRoomAs,
  expectMembers,
  formatViolations,
  joinViaInvite,
  runAxe,
  screenshotPeople,
  useServerAndBrowser,
  type Person,
} from './lib-browser.js';

const env = useServerAndBrowser(); // its own server (own temporary --data-dir) and browser

async function expectNoViolations(person: Person, where: string): Promise<void> {
  const violations = await runAxe(person.page);
  expect(violations.map((v) => v.id), `axe violations on ${where}:\n${formatViolations(violations)}`).toEqual([]);
}

describe('accessibility (axe-core)', () => {
  let invite = '';

  it('landing page', async () => {
    const grace = await env.addPerson('Grace', { bypassCSP: true });
    onTestFailed(() => screenshotPeople('a11y-landing-failed', [grace]));
    await grace.page.goto(`${env.server.baseUrl}/`);
    await grace.page.getByTestId('create-title').waitFor({ state: 'visible' });
    await expectNoViolations(grace, 'the landing page');
  });

  it('landing page showing a validation error', async () => {
    const person = await env.addPerson('Validator', { bypassCSP: true });
    onTestFailed(() => screenshotPeople('a11y-landing-error-failed', [person]));
    await person.page.goto(`${env.server.baseUrl}/`);
    // Only spaces: the client rejects the title itself and shows its error message.
    await person.page.getByTestId('create-title').fill('   ');
    await person.page.getByTestId('create-submit').click();
    await person.page.getByTestId('error-message').waitFor({ state: 'visible' });
    await expectNoViolations(person, 'the landing page with an error');
  });

  it('name prompt (invite link opened)', async () => {
    const grace = env.people.find((p) => p.name === 'Grace')!;
    invite = await createRoomAs(grace, env.server.baseUrl, 'Accessible cohort');
    const ada = await env.addPerson('Ada', { bypassCSP: true });
    onTestFailed(() => screenshotPeople('a11y-prompt-failed', [ada]));
    await ada.page.goto(invite);
    await ada.page.getByTestId('name-input').waitFor({ state: 'visible' });
    await expectNoViolations(ada, 'the name prompt');
  });

  it('room page with members (facilitator and participant views)', async () => {
    const grace = env.people.find((p) => p.name === 'Grace')!;
    const ada = env.people.find((p) => p.name === 'Ada')!;
    const lin = await env.addPerson('Lin', { bypassCSP: true });
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
