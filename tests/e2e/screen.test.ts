// The room screen a facilitator runs a meeting from (issue 10, layout): during a go-round, at
// 1280×800, 768×1024 and 360×740, the stage (speaker and countdown) is in view without scrolling and
// uncovered on every screen, and for the facilitator so are Skip and End; axe finds nothing; screenshots of each
// screen go to tests/artifacts/screen/.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFailed } from 'vitest';
import {
  artifactsDir,
  expectShown,
  formatViolations,
  gatherRoom,
  horizontalOverflow,
  runAxe,
  screenshotPeople,
  useServerAndBrowser,
} from './lib-browser.js';

const env = useServerAndBrowser();
const shotsDir = path.join(artifactsDir, 'screen');

const SIZES = [
  { width: 1280, height: 800 }, // laptop: people | stage | console
  { width: 768, height: 1024 }, // tablet: stage and console, tabs below
  { width: 360, height: 740 }, // phone: one column, the stage first and sticky
] as const;

describe('room screen: the stage in view', () => {
  it('a go-round at 1280×800, 768×1024 and 360×740: speaker, countdown, Skip and End in view; axe clean', async () => {
    mkdirSync(shotsDir, { recursive: true });
    const [grace, ada, lin] = await env.addPeople(['Grace', 'Ada', 'Lin'], {
      bypassCSP: true, // for axe only (csp.test.ts checks the policy)
      viewport: { width: 1280, height: 800 },
    });
    onTestFailed(() => screenshotPeople('screen-failed', env.people));
    await gatherRoom(grace, env.server.baseUrl, 'Heads of school: spring term, session 3', [ada, lin]);

    // Before the round: Skip and End are not offered; the turn timer's buttons are off, with why.
    expect(await grace.page.getByTestId('round-skip').count()).toBe(0);
    const resume = grace.page.getByTestId('turn-resume');
    expect(await resume.isDisabled()).toBe(true);
    const reasonId = await resume.getAttribute('aria-describedby');
    expect(await grace.page.locator(`#${reasonId}`).innerText()).toBe('Nobody is speaking.');

    // A time that is not one shows its error next to the go-round form, in plain words.
    await grace.page.getByTestId('round-seconds').fill('soon');
    await grace.page.getByTestId('round-start').click();
    const error = grace.page.locator('[data-error-place="round"] [data-testid="error-message"]');
    await error.waitFor({ state: 'visible' });
    expect(await error.innerText()).toMatch(/^Choose a time from 1 second to 4 hours/);
    expect(await grace.page.getByTestId('error-message').count(), 'one error, in one place').toBe(1);
    await grace.page.getByTestId('dismiss-error').click();
    expect(await grace.page.getByTestId('error-message').count()).toBe(0);

    // Grace starts a go-round of 2-minute turns (a preset) in join order: Grace, Ada, Lin.
    await grace.page.getByTestId('round-seconds-preset-120').check();
    await grace.page.getByTestId('round-take-turn').check(); // she speaks too (by default she sits out)
    await grace.page.getByTestId('round-start').click();
    for (const p of env.people) await p.page.getByTestId('current-speaker').waitFor({ state: 'visible' });
    await grace.page.getByTestId('your-turn').waitFor({ state: 'visible' });
    await ada.page.getByTestId('next-cue').waitFor({ state: 'visible' });
    // The pressed Start went away with its form: focus is on the go-round group's heading, not lost.
    await expect.poll(() => grace.page.evaluate(() => `${document.activeElement?.tagName} ${document.activeElement?.textContent}`)).toBe('H3 Go-round');

    for (const size of SIZES) {
      const where = `${size.width}×${size.height}`;
      for (const p of env.people) {
        await p.page.setViewportSize(size);
        await p.page.evaluate(() => window.scrollTo(0, 0));
      }
      await grace.page.waitForTimeout(300); // media queries and layout settle
      for (const p of env.people) {
        await expectShown(p, 'current-speaker', where);
        await expectShown(p, 'turn-countdown', where);
        expect(await p.page.getByTestId('turn-countdown').getAttribute('data-state')).toBe('running');
      }
      await expectShown(grace, 'your-turn', where);
      await expectShown(grace, 'finish-turn', where);
      await expectShown(grace, 'round-skip', where);
      await expectShown(grace, 'round-end', where);
      await expectShown(ada, 'next-cue', where);
      for (const p of env.people) {
        const o = await horizontalOverflow(p.page);
        expect(o.scrollWidth, `${p.name} at ${where} scrolls sideways: ${o.wide.join(', ')}`).toBeLessThanOrEqual(size.width);
        const violations = await runAxe(p.page);
        expect(violations.map((v) => v.id), `axe on ${p.name}'s screen at ${where}:\n${formatViolations(violations)}`).toEqual([]);
        await p.page.screenshot({ path: path.join(shotsDir, `${size.width}-${p.name.toLowerCase()}.png`) });
      }
    }

    // The invite dialog (facilitator): the invite link and the facilitator's own link to keep.
    await grace.page.getByTestId('invite-open').click();
    await grace.page.getByTestId('invite-link').waitFor({ state: 'visible' });
    expect(await grace.page.getByTestId('facilitator-link').inputValue()).toMatch(/\/room\/[^/#?]+#key=.+/);
    const violations = await runAxe(grace.page);
    expect(violations.map((v) => v.id), `axe on the invite dialog:\n${formatViolations(violations)}`).toEqual([]);
    await grace.page.screenshot({ path: path.join(shotsDir, '360-grace-invite.png') });
    await grace.page.getByTestId('invite-close').click();

    // Skip moves the round on from the console; Ada is now speaking, on every screen.
    await grace.page.getByTestId('round-skip').click();
    const adaId = await ada.page.evaluate(
      () => document.querySelector('[data-testid="member-item"] .you')?.closest('[data-testid="member-item"]')?.getAttribute('data-member-id') ?? null,
    );
    for (const p of env.people) {
      await expect.poll(() => p.page.getByTestId('current-speaker').getAttribute('data-member-id')).toBe(adaId);
    }
    await ada.page.getByTestId('your-turn').waitFor({ state: 'visible' });
    await grace.page.getByTestId('round-end').click();
    for (const p of env.people) await expect.poll(() => p.page.getByTestId('current-speaker').count()).toBe(0);
  }, 60_000);
});
