// A whole session in four browsers (issue 10, item 6): Grace facilitates at 1280×800, Ada and
// Lin follow at 1280×800, Sam on a 360×740 phone. The group gathers, runs a go-round of
// 45-second turns (Ada's tab closes mid-turn: "away — turn held" on her row until she is back),
// keeps its summary (which Ada folds away), holds a dialogue (raised hands, the
// floor given with no time limit), asks anonymous questions and puts one to the group, answers a
// climate check and sees its results, and draws a challenge card. In every state, on every
// screen: a screenshot in tests/artifacts/session/<state>-<person>.png, axe (WCAG 2.2 A/AA) finds
// nothing, and the stage is inside the viewport and not covered by anything; at 1280 the
// facilitator's controls for what is happening are in view too.
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it, onTestFailed } from 'vitest';
import {
  LAPTOP,
  PHONE,
  UI_TIMEOUT_MS,
  WCAG22_TAGS,
  artifactsSubdir,
  expectOnline,
  expectShown,
  formatViolations,
  gatherRoom,
  memberItem,
  newTab,
  openTab,
  runAxe,
  screenshotPeople,
  useServerAndBrowser,
  type Person,
} from './lib-browser.js';

const env = useServerAndBrowser();
const shotsDir = artifactsSubdir('session');

/**
 * One state of the session, on every screen: each page as its person left it (Playwright scrolls
 * to what it clicks), the stage (and `also[name]`) inside the viewport and uncovered, axe clean,
 * and a screenshot of what is in view.
 */
async function checkState(people: Person[], state: string, also: Record<string, string[]> = {}): Promise<void> {
  await people[0]!.page.waitForTimeout(150); // the last event's render and layout settle
  for (const p of people) {
    await expectShown(p, 'round-panel', state);
    for (const id of also[p.name] ?? []) await expectShown(p, id, state);
    const violations = await runAxe(p.page, { tags: WCAG22_TAGS });
    expect(violations.map((v) => v.id), `axe on ${p.name}'s screen in "${state}":\n${formatViolations(violations)}`).toEqual([]);
    await p.page.screenshot({ path: path.join(shotsDir, `${state}-${p.name.toLowerCase()}.png`), timeout: 5_000 });
  }
}

const speakerOf = (page: Page) =>
  page.evaluate(() => document.querySelector('[data-testid="current-speaker"]')?.getAttribute('data-member-id') ?? null);

/** Fills a climate check: the same answer to every statement. */
async function answerAudit(person: Person, choice: number): Promise<void> {
  const { page } = person;
  await expect.poll(() => page.getByTestId('audit-form').count(), { message: `${person.name}: the form`, timeout: UI_TIMEOUT_MS }).toBe(1);
  const questions = page.getByTestId('audit-question');
  const n = await questions.count();
  for (let q = 0; q < n; q++) {
    const item = await questions.nth(q).getAttribute('data-item-id');
    await page.getByTestId(`audit-choice-${item}-${choice}`).check();
  }
  await page.getByTestId('audit-submit').click();
  await page.getByTestId('audit-thanks').waitFor({ state: 'visible' });
}

/** Scrolls every page back to its top (as a person looks up at the screen). */
async function toTop(people: Person[]): Promise<void> {
  for (const p of people) await p.page.evaluate(() => window.scrollTo(0, 0));
}

describe('a whole session in four browsers', () => {
  it('gathered, go-round, summary, floor, questions, climate check, card: the stage in view and axe clean on every screen', async () => {
    const options = { bypassCSP: true }; // for axe only (csp.test.ts checks the policy)
    const [grace, ada, lin] = await env.addPeople(['Grace', 'Ada', 'Lin'], { ...options, viewport: LAPTOP });
    const sam = await env.addPerson('Sam', { ...options, viewport: PHONE, isMobile: true, hasTouch: true });
    const people = [grace, ada, lin, sam];
    onTestFailed(() => screenshotPeople('session-failed', people));
    const invite = await gatherRoom(grace, env.server.baseUrl, 'Heads of school: spring term, session 4', [ada, lin, sam]);

    // ---- gathered: nothing runs yet; Grace can start a go-round from where she is.
    await checkState(people, 'gathered', { Grace: ['round-start'] });

    // ---- go-round: 45-second turns; Grace holds the space. The countdown is not in its
    // "last minute" from the first second (the 1-minute warning is for turns longer than that).
    await grace.page.getByTestId('round-seconds').fill('45 s');
    await grace.page.getByTestId('round-start').click();
    await ada.page.getByTestId('your-turn').waitFor({ state: 'visible' });
    await lin.page.getByTestId('next-cue').waitFor({ state: 'visible' });
    const adaId = await speakerOf(ada.page);
    for (const p of people) {
      await expect.poll(() => speakerOf(p.page), { message: `${p.name}: Ada speaks` }).toBe(adaId);
      const countdown = p.page.getByTestId('turn-countdown');
      expect(await countdown.getAttribute('data-state')).toBe('running');
      expect(await countdown.getAttribute('data-level'), `${p.name}: a 45 s turn starts plainly running`).toBe('running');
    }
    await checkState(people, 'round', {
      Grace: ['current-speaker', 'turn-countdown', 'round-skip', 'round-end'],
      Ada: ['current-speaker', 'turn-countdown', 'your-turn', 'finish-turn'],
      Lin: ['current-speaker', 'turn-countdown', 'next-cue'],
      Sam: ['current-speaker', 'turn-countdown'],
    });

    // Ada's tab closes mid-turn: the server keeps her turn for a while, and Grace's people column
    // says so on her row. She opens the invite link again and comes back as herself, still speaking.
    await ada.page.close();
    const adaRow = memberItem(grace.page, 'Ada');
    await expect.poll(() => adaRow.getAttribute('data-turn-held'), { message: "Ada's row: turn held" }).toBe('true');
    expect(await adaRow.getByTestId('member-presence').innerText()).toBe('away — turn held');
    expect(await speakerOf(grace.page), 'still her turn').toBe(adaId);
    await grace.page.screenshot({ path: path.join(shotsDir, 'round-held-grace.png'), timeout: 5_000 });
    ada.page = await newTab(ada);
    await ada.page.goto(invite);
    await ada.page.getByTestId('continue-as').click();
    await expectOnline(ada.page);
    await ada.page.getByTestId('your-turn').waitFor({ state: 'visible' });
    await expect.poll(() => adaRow.getAttribute('data-turn-held'), { message: "Ada's row: back" }).toBeNull();
    expect(await adaRow.getByTestId('member-presence').innerText()).toBe('online');

    // Ada finishes, Lin passes, Sam speaks; Grace ends the round during Sam's turn.
    await ada.page.getByTestId('finish-turn').click();
    await lin.page.getByTestId('your-turn').waitFor({ state: 'visible' });
    await lin.page.getByTestId('pass-turn').click();
    await sam.page.getByTestId('your-turn').waitFor({ state: 'visible' });
    await grace.page.getByTestId('round-end').click();

    // ---- summary: on every stage until the next round; Ada folds hers away, for herself only.
    for (const p of people) {
      await p.page.getByTestId('round-summary').waitFor({ state: 'visible' });
      await expect.poll(() => p.page.getByTestId('round-summary-row').count(), { message: `${p.name}: summary rows` }).toBe(3);
      expect(await p.page.getByTestId('current-speaker').count()).toBe(0);
    }
    await toTop(people);
    await checkState(people, 'summary', {
      Grace: ['round-summary', 'round-start'],
      Ada: ['round-summary'],
      Lin: ['round-summary'],
      Sam: ['round-summary'],
    });
    // The summary reads across in columns on a laptop, down one column on the phone.
    const columnsOf = (page: Page) =>
      page.getByTestId('round-summary-row').evaluateAll((rows) => new Set(rows.map((r) => Math.round(r.getBoundingClientRect().left))).size);
    expect(await columnsOf(grace.page), 'columns at 1280').toBeGreaterThanOrEqual(2);
    expect(await columnsOf(sam.page), 'one column at 360').toBe(1);
    const fold = ada.page.getByTestId('round-summary-toggle');
    expect(await fold.getAttribute('aria-expanded')).toBe('true');
    await fold.click();
    expect(await fold.getAttribute('aria-expanded')).toBe('false');
    expect(await ada.page.getByTestId('round-summary-row').count(), 'folded: the rows are gone for Ada').toBe(0);
    expect(await lin.page.getByTestId('round-summary-row').count(), 'Lin still has hers').toBe(3);

    // ---- floor: Lin and Sam raise their hands; Grace gives Lin the floor (no time limit set).
    await lin.page.getByTestId('raise-hand').click();
    await sam.page.getByTestId('raise-hand').click();
    await expect.poll(() => grace.page.getByTestId('queue-item').count(), { message: 'two hands in the queue' }).toBe(2);
    await toTop(people);
    await checkState(people, 'floor-hands', { Grace: ['floor-give-next'], Lin: ['lower-hand'], Sam: ['lower-hand'] });

    await grace.page.getByTestId('queue-give').first().click();
    await lin.page.getByTestId('your-turn').waitFor({ state: 'visible' });
    await expect.poll(() => grace.page.getByTestId('queue-item').count()).toBe(1);
    for (const p of people) {
      const countdown = p.page.getByTestId('turn-countdown');
      await expect.poll(() => countdown.getAttribute('data-state'), { message: `${p.name}: an untimed floor turn` }).toBe('idle');
      const text = await countdown.innerText();
      expect(text, `${p.name}: no countdown of 0:00 for a turn with no limit`).toContain('no time limit');
      expect(text).not.toContain('0:00');
      expect(text).not.toContain('not started');
    }
    await toTop(people);
    await checkState(people, 'floor-given', {
      Grace: ['current-speaker', 'turn-countdown', 'floor-release'],
      Lin: ['your-turn', 'finish-turn'],
      Sam: ['current-speaker', 'lower-hand'],
    });
    await lin.page.getByTestId('finish-turn').click();
    await expect.poll(() => grace.page.getByTestId('current-speaker').count()).toBe(0);

    // ---- prompts: Ada and Sam ask anonymously; Grace releases both and puts one to the group.
    const asked = { Ada: 'What evidence would change our minds?', Sam: 'Who is not in the room for this decision?' };
    for (const p of [ada, sam]) {
      await openTab(p.page, 'prompts');
      await p.page.getByTestId('prompt-text').fill(asked[p.name as 'Ada' | 'Sam']);
      await p.page.getByTestId('prompt-submit').click();
      await p.page.getByTestId('prompt-sent').waitFor({ state: 'visible' });
    }
    await expect.poll(() => grace.page.getByTestId('pending-prompt').count()).toBe(2);
    await toTop(people);
    await checkState(people, 'prompts-asked', { Grace: ['prompt-release-all'] });
    await grace.page.getByTestId('prompt-release-all').click();
    for (const p of people) {
      await openTab(p.page, 'prompts');
      await expect.poll(() => p.page.getByTestId('released-prompt').count(), { message: `${p.name}: released` }).toBe(2);
    }
    await grace.page.getByTestId('prompt-pose').first().click();
    for (const p of people) {
      await expect.poll(() => p.page.getByTestId('stage-spotlight').getAttribute('data-kind'), { message: `${p.name}: posed` }).toBe('prompt');
      expect(await p.page.getByTestId('released-prompts').innerText(), `${p.name}: no author shown`).not.toMatch(/Ada|Sam/);
    }
    await toTop(people);
    await checkState(people, 'prompts-released', { Grace: ['stage-spotlight'], Ada: ['stage-spotlight'], Lin: ['stage-spotlight'], Sam: ['stage-spotlight'] });

    // ---- climate check: open with k = 3; Ada, Lin and Sam answer; Grace closes it.
    for (const p of people) await openTab(p.page, 'audit');
    await grace.page.getByTestId('audit-k').fill('3');
    await grace.page.getByTestId('audit-open').click();
    for (const p of [ada, lin, sam]) await expect.poll(() => p.page.getByTestId('audit-form').count()).toBe(1);
    await toTop(people);
    await checkState(people, 'audit-open', { Grace: ['audit-close'] });
    await answerAudit(ada, 4);
    await answerAudit(lin, 3);
    await answerAudit(sam, 5);
    await grace.page.getByTestId('audit-close').click();
    await grace.page.getByTestId('audit-close-warning').waitFor({ state: 'visible' });
    await grace.page.getByTestId('audit-close-confirm').click();
    for (const p of people) {
      await expect.poll(() => p.page.getByTestId('audit-results').getAttribute('data-responses'), { message: `${p.name}: results` }).toBe('3');
    }
    // The one who closed it sees the results come up where she is, not below the fold.
    await expectShown(grace, 'audit-results-heading', 'audit-closed');
    await grace.page.screenshot({ path: path.join(shotsDir, 'audit-closed-grace-results.png'), timeout: 5_000 });
    await toTop(people);
    await checkState(people, 'audit-closed');

    // ---- card: Grace draws a challenge card; it is on every stage, in view and uncovered.
    await openTab(grace.page, 'deck');
    await grace.page.getByTestId('deck-draw').click();
    const shown: string[] = [];
    for (const p of people) {
      const spot = p.page.getByTestId('stage-spotlight');
      await expect.poll(() => spot.getAttribute('data-kind'), { message: `${p.name}: the card` }).toBe('card');
      shown.push((await spot.innerText()).trim());
    }
    expect(new Set(shown).size, `the same card everywhere: ${shown.join(' | ')}`).toBe(1);
    // Sam scrolled down the page (the tabs) still sees the card with the stage.
    await sam.page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await checkState(people, 'card', { Grace: ['stage-spotlight', 'deck-draw'], Ada: ['stage-spotlight'], Lin: ['stage-spotlight'], Sam: ['stage-spotlight'] });
    expect(await memberItem(grace.page, 'Sam').count()).toBe(1);
  }, 100_000); // about 60 s on an idle 2-core machine
});
