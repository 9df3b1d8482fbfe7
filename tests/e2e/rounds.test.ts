// Rounds survive disruption (protocol 1.6) in three browsers: the server restarts mid-round (same
// port, same data directory); every screen shows the round paused with the same speaker, the
// facilitator gets a Resume control, resumes, and the round goes on to its end, which stays on
// the stage as a summary. Screenshots at 1280 and 360 px in tests/artifacts/rounds/; axe on each.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it, onTestFailed } from 'vitest';
import {
  UI_TIMEOUT_MS,
  artifactsDir,
  expectOnline,
  formatViolations,
  gatherRoom,
  runAxe,
  screenshotPeople,
  useServerAndBrowser,
} from './lib-browser.js';

const SIZES = [
  { width: 1280, height: 800 },
  { width: 360, height: 740 },
];

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'colloquy-e2e-rounds-'));
const env = useServerAndBrowser({ dataDir });
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** What is in view (not the full page) to tests/artifacts/rounds/<name>.png. */
async function shot(page: Page, name: string): Promise<void> {
  const dir = path.join(artifactsDir, 'rounds');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), timeout: 5_000 });
}

/** The element with that test id is inside the viewport (at least partly, top first). */
async function inView(page: Page, testId: string): Promise<boolean> {
  return page.evaluate((id) => {
    const el = document.querySelector(`[data-testid="${id}"]`);
    if (!el) return false;
    const r = el.getBoundingClientRect();
    return r.top >= 0 && r.top < window.innerHeight && r.bottom > 0 && r.width > 0;
  }, testId);
}

const speakerOf = (page: Page) =>
  page.evaluate(() => document.querySelector('[data-testid="current-speaker"]')?.getAttribute('data-member-id') ?? null);

describe('rounds survive disruption', () => {
  it('a restart mid-round leaves it paused with a Resume for the facilitator; resumed, it ends in a summary', async () => {
    const [grace, ada, lin] = await env.addPeople(['Grace', 'Ada', 'Lin'], { bypassCSP: true }); // for axe only (csp.test.ts checks the policy)
    const people = env.people;
    onTestFailed(() => screenshotPeople('rounds-failed', people));
    await gatherRoom(grace, env.server.baseUrl, 'Check-in', [ada, lin]);

    // Grace holds the space (the default): Ada and Lin speak, two minutes each.
    expect(await grace.page.getByTestId('round-take-turn').isChecked()).toBe(false);
    await grace.page.getByTestId('round-seconds-preset-120').check();
    await grace.page.getByTestId('round-start').click();
    await ada.page.getByTestId('your-turn').waitFor({ state: 'visible' });
    const adaId = await speakerOf(ada.page);
    expect(adaId).not.toBeNull();
    await new Promise((r) => setTimeout(r, 1500));

    // The server restarts (same port and data directory); the browsers reconnect by themselves.
    await env.restartServer(2000);
    for (const p of people) await expectOnline(p.page);

    for (const p of people) {
      const paused = p.page.getByTestId('stage-paused');
      await paused.waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
      expect(await paused.getAttribute('data-reason')).toBe('restart');
      expect(await speakerOf(p.page), `${p.name} sees the same speaker`).toBe(adaId);
      expect(await p.page.getByTestId('turn-countdown').getAttribute('data-state')).toBe('paused');
    }
    const left = Number(await grace.page.getByTestId('turn-countdown').getAttribute('data-remaining-ms'));
    expect(left).toBeGreaterThan(115_000); // what she had left at the stop, not less the outage
    expect(left).toBeLessThanOrEqual(120_000 - 1400);
    expect(await ada.page.getByTestId('stage-resume').count(), 'only facilitators resume').toBe(0);
    const resume = grace.page.getByTestId('stage-resume');
    await resume.waitFor({ state: 'visible' });

    for (const size of SIZES) {
      for (const p of [grace, ada]) await p.page.setViewportSize(size);
      await grace.page.evaluate(() => window.scrollTo(0, 0));
      expect(await inView(grace.page, 'stage-paused'), `paused notice in view at ${size.width}`).toBe(true);
      expect(await inView(grace.page, 'stage-resume'), `Resume in view at ${size.width}`).toBe(true);
      const violations = await runAxe(grace.page);
      expect(violations, formatViolations(violations)).toEqual([]);
      await shot(grace.page, `paused-grace-${size.width}`);
      await shot(ada.page, `paused-ada-${size.width}`);
    }
    await grace.page.setViewportSize(SIZES[0]!);

    await resume.click();
    for (const p of people) {
      await expect.poll(() => p.page.getByTestId('stage-paused').count(), { timeout: UI_TIMEOUT_MS }).toBe(0);
      await expect.poll(() => p.page.getByTestId('turn-countdown').getAttribute('data-state')).toBe('running');
      expect(await speakerOf(p.page)).toBe(adaId);
    }
    await shot(grace.page, 'resumed-grace-1280');

    // Ada finishes, Lin passes: the round ends and stays as a summary on every stage.
    await ada.page.getByTestId('finish-turn').click();
    await lin.page.getByTestId('your-turn').waitFor({ state: 'visible' });
    await lin.page.getByTestId('pass-turn').click();
    for (const p of people) {
      const summary = p.page.getByTestId('round-summary');
      await summary.waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
      const rows = p.page.getByTestId('round-summary-row');
      expect(await rows.count()).toBe(2);
      expect(await rows.nth(0).getAttribute('data-outcome')).toBe('spoke');
      expect(await rows.nth(0).innerText()).toMatch(/^Ada.* spoke \d+ (s|min)/); // as the airtime column says it
      expect(await rows.nth(1).getAttribute('data-outcome')).toBe('passed');
    }
    for (const size of SIZES) {
      await grace.page.setViewportSize(size);
      await grace.page.evaluate(() => window.scrollTo(0, 0));
      expect(await inView(grace.page, 'round-summary'), `summary in view at ${size.width}`).toBe(true);
      const violations = await runAxe(grace.page);
      expect(violations, formatViolations(violations)).toEqual([]);
      await shot(grace.page, `summary-grace-${size.width}`);
    }
  }, 60_000);
});
