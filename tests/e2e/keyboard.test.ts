// The whole session by keyboard alone (issue 10): a member who uses only the keyboard (Tab,
// Shift+Tab, Enter, Space, arrows; no clicks, no .focus()) joins by name, raises a hand, asks a
// question anonymously and finishes their turn in a go-round the facilitator started; every control
// that takes focus shows a focus indicator; the live region says the turn changes. Then: the
// single-key shortcuts do nothing while typing and nothing when turned off (remembered after a
// reload); and focus never falls to the page body when the pressed control goes away.
import type { Page } from 'playwright-core';
import { describe, expect, it, onTestFailed } from 'vitest';
import { createRoomAs, expectMembers, memberItem, openTab, screenshotPeople, useServerAndBrowser, type Person } from './lib-browser.js';

const env = useServerAndBrowser();
const viewport = { width: 1280, height: 800 };

/**
 * Records every message the live region shows (a MutationObserver installed before the page's own
 * scripts): `said(page)` reads them.
 */
async function recordAnnouncements(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { __said: string[] };
    w.__said = [];
    let last = '';
    new MutationObserver(() => {
      const text = document.querySelector('[data-testid="announcer"]')?.textContent ?? '';
      if (text !== last && text !== '') w.__said.push(text);
      last = text;
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
}

const said = (page: Page) => page.evaluate(() => (window as unknown as { __said: string[] }).__said);

async function expectSaid(page: Page, pattern: RegExp, what: string): Promise<void> {
  try {
    await expect.poll(async () => (await said(page)).some((t) => pattern.test(t)), { timeout: 10_000 }).toBe(true);
  } catch {
    throw new Error(`${what}: the live region never said ${pattern}; it said ${JSON.stringify(await said(page))}`);
  }
}

/** What has focus: its data-testid (or tag and id), and whether it shows a focus indicator. */
async function focused(page: Page): Promise<{ id: string; body: boolean; indicator: boolean }> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    const body = !el || el === document.body;
    const shows = (e: Element | null) => {
      if (!e) return false;
      const s = getComputedStyle(e);
      return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || (s.boxShadow !== 'none' && s.boxShadow !== '');
    };
    return {
      id: el?.getAttribute('data-testid') ?? `${el?.tagName.toLowerCase()}${el?.id ? `#${el.id}` : ''}`,
      body,
      // The control itself, or the box drawn around it (a choice's label with :focus-within).
      indicator: !body && (shows(el) || shows(el!.parentElement)),
    };
  });
}

/**
 * Presses `key` (Tab or Shift+Tab) until the control with `testId` has focus; every control
 * passed on the way must show a focus indicator.
 */
async function moveTo(page: Page, testId: string, key: 'Tab' | 'Shift+Tab' = 'Tab', max = 60): Promise<void> {
  const noIndicator: string[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(key);
    const f = await focused(page);
    if (!f.body && !f.indicator) noIndicator.push(f.id);
    if (f.id === testId) {
      expect(noIndicator, `controls without a visible focus indicator on the way to ${testId}`).toEqual([]);
      return;
    }
  }
  throw new Error(`${key} did not reach [data-testid=${testId}] within ${max} presses; focus is on ${(await focused(page)).id}`);
}

async function expectFocusKept(page: Page, after: string): Promise<string> {
  const f = await focused(page);
  expect(f.body, `focus fell to the page body after ${after}`).toBe(false);
  return f.id;
}

/** A member joins by the invite link with the keyboard: Tab to the name, type it, Enter. */
async function joinByKeyboard(person: Person, invite: string): Promise<void> {
  await person.page.goto(invite);
  await person.page.getByTestId('name-input').waitFor({ state: 'visible' });
  await moveTo(person.page, 'name-input');
  await person.page.keyboard.type(person.name);
  await person.page.keyboard.press('Enter');
  await person.page.getByTestId('room-title').waitFor({ state: 'visible' });
}

describe('keyboard only', () => {
  it('a member joins, raises a hand, asks anonymously and finishes a turn, by keyboard alone', async () => {
    const [grace, ada] = await env.addPeople(['Grace', 'Ada'], { viewport });
    onTestFailed(() => screenshotPeople('keyboard-failed', [grace, ada]));
    await recordAnnouncements(ada.page);
    const invite = await createRoomAs(grace, env.server.baseUrl, 'Keyboard session');

    await joinByKeyboard(ada, invite);
    await expectMembers(grace.page, ['Grace', 'Ada'], 'Grace');
    const { page } = ada;

    // Raise a hand: Tab to the stage's button, Space.
    await moveTo(page, 'raise-hand');
    await page.keyboard.press('Space');
    await expect.poll(() => memberItem(grace.page, 'Ada').getAttribute('data-member-id')).not.toBeNull();
    await expect.poll(() => memberItem(grace.page, 'Ada').innerText()).toContain('hand raised');
    // The same button now lowers the hand, and keeps focus.
    expect(await expectFocusKept(page, 'Raise my hand')).toBe('lower-hand');

    // The activity tabs: arrows move between them; back to Questions.
    await moveTo(page, 'tab-prompts');
    await page.keyboard.press('ArrowRight');
    expect((await focused(page)).id).toBe('tab-audit');
    expect(await page.locator('#tabpanel-audit').isVisible()).toBe(true);
    await page.keyboard.press('ArrowLeft');
    expect((await focused(page)).id).toBe('tab-prompts');

    // Ask anonymously: Tab into the question, type, Tab to Send, Enter.
    await moveTo(page, 'prompt-text');
    await page.keyboard.type('What would change if we asked the pupils?');
    await moveTo(page, 'prompt-submit');
    await page.keyboard.press('Enter');
    await page.getByTestId('prompt-sent').waitFor({ state: 'visible' });
    await expectFocusKept(page, 'Send anonymously');
    await openTab(grace.page, 'prompts');
    await expect.poll(() => grace.page.getByTestId('pending-prompt').count()).toBe(1);

    // The facilitator (who may click) starts a go-round: Grace first, then Ada.
    await grace.page.getByTestId('round-seconds-preset-120').check();
    await grace.page.getByTestId('round-take-turn').check(); // she speaks too (by default she sits out)
    await grace.page.getByTestId('round-start').click();
    await expectSaid(page, /Grace has the floor\. You're next\./, "Ada hears who speaks and that she's next");
    await grace.page.getByTestId('finish-turn').click();
    await expectSaid(page, /It's your turn\./, 'Ada hears that it is her turn');

    // Ada finishes her turn: back up to the stage with Shift+Tab, Enter.
    await moveTo(page, 'finish-turn', 'Shift+Tab');
    await page.keyboard.press('Enter');
    await expect.poll(() => grace.page.getByTestId('current-speaker').count()).toBe(0);
    const after = await expectFocusKept(page, 'Finish my turn');
    expect(after, 'focus goes to the stage heading').toBe('h2#round-heading');
    await expectSaid(page, /The go-round is over\./, 'Ada hears the round end');

    // Each turn change was said once.
    const all = (await said(page)).join(' | ');
    expect(all.match(/It's your turn/g), all).toHaveLength(1);
    expect(all.match(/Grace has the floor/g), all).toHaveLength(1);
  }, 60_000);

  it('shortcuts do nothing while typing, nothing when turned off (remembered), and work when on', async () => {
    const [grace, ada] = await env.addPeople(['Grace', 'Ada'], { viewport });
    onTestFailed(() => screenshotPeople('keyboard-shortcuts-failed', [grace, ada]));
    const invite = await createRoomAs(grace, env.server.baseUrl, 'Shortcuts');
    await joinByKeyboard(ada, invite);
    await expectMembers(grace.page, ['Grace', 'Ada'], 'Grace');
    const { page } = ada;

    // Ada's turn: Grace starts a go-round and skips herself.
    await grace.page.getByTestId('round-take-turn').check(); // she speaks too (by default she sits out)
    await grace.page.getByTestId('round-start').click();
    await grace.page.getByTestId('round-skip').click();
    await page.getByTestId('your-turn').waitFor({ state: 'visible' });
    const adaId = await memberItem(grace.page, 'Ada').getAttribute('data-member-id');
    const adaSpeaks = async () => (await grace.page.getByTestId('current-speaker').getAttribute('data-member-id')) === adaId;
    const adaHand = async () => (await memberItem(grace.page, 'Ada').innerText()).includes('hand raised');

    // Typing h, f and p into the question changes nothing but the text.
    await moveTo(page, 'prompt-text');
    await page.keyboard.type('hfp');
    expect(await page.getByTestId('prompt-text').inputValue()).toBe('hfp');
    await page.waitForTimeout(500);
    expect(await adaSpeaks()).toBe(true);
    expect(await adaHand()).toBe(false);

    // Turn them off in the Shortcuts dialog (header): Enter, Tab to the setting, Space, Escape.
    await moveTo(page, 'shortcuts-open', 'Shift+Tab', 80);
    await page.keyboard.press('Enter');
    await page.getByTestId('shortcuts-panel').waitFor({ state: 'visible' });
    await moveTo(page, 'shortcuts-enabled');
    await page.keyboard.press('Space');
    expect(await page.getByTestId('shortcuts-enabled').isChecked()).toBe(false);
    expect(await page.evaluate(() => localStorage.getItem('colloquy.shortcuts'))).toBe('off');
    await page.keyboard.press('Escape');
    expect((await focused(page)).id).toBe('shortcuts-open');

    // Off: h and f do nothing.
    await page.keyboard.press('h');
    await page.keyboard.press('f');
    await page.waitForTimeout(500);
    expect(await adaSpeaks()).toBe(true);
    expect(await adaHand()).toBe(false);
    expect(await page.getByTestId('finish-turn').getAttribute('aria-keyshortcuts')).toBeNull();

    // On again: f finishes the turn (the round ends: Ada was last).
    await page.keyboard.press('Enter');
    await moveTo(page, 'shortcuts-enabled');
    await page.keyboard.press('Space');
    await page.keyboard.press('Escape');
    expect(await page.getByTestId('finish-turn').getAttribute('aria-keyshortcuts')).toBe('f');
    await page.keyboard.press('f');
    await expect.poll(() => grace.page.getByTestId('current-speaker').count()).toBe(0);

    // Off again, and still off after a reload: h does nothing; on, h raises the hand.
    await page.keyboard.press('Enter');
    await moveTo(page, 'shortcuts-enabled');
    await page.keyboard.press('Space');
    await page.keyboard.press('Escape');
    await page.reload();
    await page.getByTestId('raise-hand').waitFor({ state: 'visible' });
    expect(await page.getByTestId('raise-hand').getAttribute('aria-keyshortcuts')).toBeNull();
    await page.keyboard.press('h');
    await page.waitForTimeout(500);
    expect(await adaHand()).toBe(false);
    await moveTo(page, 'shortcuts-open');
    await page.keyboard.press('Enter');
    await moveTo(page, 'shortcuts-enabled');
    expect(await page.getByTestId('shortcuts-enabled').isChecked()).toBe(false);
    await page.keyboard.press('Space');
    await page.keyboard.press('Escape');
    await page.keyboard.press('h');
    await expect.poll(adaHand).toBe(true);
  }, 60_000);

  it('the live region says "10 seconds left" once, then "Time is up" and the next speaker in one message', async () => {
    const [grace, ada] = await env.addPeople(['Grace', 'Ada'], { viewport });
    onTestFailed(() => screenshotPeople('keyboard-announce-failed', [grace, ada]));
    await recordAnnouncements(grace.page);
    const invite = await createRoomAs(grace, env.server.baseUrl, 'Announcements');
    await joinByKeyboard(ada, invite);
    await expectMembers(grace.page, ['Grace', 'Ada'], 'Grace');
    // 14-second turns that move on by themselves: Grace speaks first.
    await grace.page.getByTestId('round-seconds').fill('14 s');
    await grace.page.getByTestId('round-take-turn').check(); // she speaks too (by default she sits out)
    await grace.page.getByTestId('round-start').click();
    await expectSaid(grace.page, /10 seconds left\./, 'the speaker hears the last 10 s');
    await expectSaid(grace.page, /Time is up\. Ada has the floor\./, 'the end of the turn and the next speaker, together');
    const all = await said(grace.page);
    expect(all.filter((t) => t.includes('10 seconds left')), JSON.stringify(all)).toHaveLength(1);
    expect(all.filter((t) => t.includes('Time is up')), JSON.stringify(all)).toHaveLength(1);
    expect(all.some((t) => /Ada joined/.test(t)), 'Ada joining was summed up and said').toBe(true);
  }, 40_000);

  it('focus never falls to the page body when the pressed control goes away', async () => {
    const [grace, ada, lin] = await env.addPeople(['Grace', 'Ada', 'Lin'], { viewport });
    onTestFailed(() => screenshotPeople('keyboard-focus-failed', [grace, ada, lin]));
    for (const p of [grace, ada, lin]) p.page.on('dialog', (d) => void d.accept());
    const invite = await createRoomAs(grace, env.server.baseUrl, 'Focus');
    for (const p of [ada, lin]) await joinByKeyboard(p, invite);
    await expectMembers(grace.page, ['Grace', 'Ada', 'Lin'], 'Grace');
    const press = async (person: Person, testId: string) => {
      await person.page.getByTestId(testId).first().click();
    };
    const kept = async (person: Person, what: string, gone: () => Promise<boolean>) => {
      await expect.poll(gone, { message: `${person.name}: ${what} took effect` }).toBe(true);
      await person.page.waitForTimeout(100);
      await expectFocusKept(person.page, `${person.name}: ${what}`);
    };

    // A go-round: Finish (Grace), Pass (Ada), then End from the console.
    await grace.page.getByTestId('round-take-turn').check(); // she speaks too (by default she sits out)
    await press(grace, 'round-start');
    await kept(grace, 'Start go-round', async () => (await grace.page.getByTestId('round-start').count()) === 0);
    await press(grace, 'finish-turn');
    await kept(grace, 'Finish my turn', async () => (await grace.page.getByTestId('finish-turn').count()) === 0);
    await ada.page.getByTestId('pass-turn').waitFor({ state: 'visible' });
    await press(ada, 'pass-turn');
    await kept(ada, 'Pass', async () => (await ada.page.getByTestId('pass-turn').count()) === 0);
    await press(grace, 'round-end');
    await kept(grace, 'End go-round', async () => (await grace.page.getByTestId('round-end').count()) === 0);

    // Dialogue: hands up; Lower hand (facilitator, in the queue), Give floor, Give back the floor, End this turn.
    await press(ada, 'raise-hand');
    await press(lin, 'raise-hand');
    await expect.poll(() => grace.page.getByTestId('queue-item').count()).toBe(2);
    await press(lin, 'lower-hand');
    await kept(lin, 'Lower my hand', async () => (await lin.page.getByTestId('raise-hand').count()) === 1);
    await press(grace, 'queue-give');
    await kept(grace, 'Give floor (in the queue)', async () => (await grace.page.getByTestId('queue-item').count()) === 0);
    await ada.page.getByTestId('finish-turn').waitFor({ state: 'visible' });
    await press(ada, 'finish-turn');
    await kept(ada, 'Give back the floor', async () => (await ada.page.getByTestId('finish-turn').count()) === 0);
    await press(lin, 'raise-hand');
    await expect.poll(() => grace.page.getByTestId('queue-item').count()).toBe(1);
    await press(grace, 'queue-lower');
    await kept(grace, 'Lower hand (in the queue)', async () => (await grace.page.getByTestId('queue-item').count()) === 0);
    await press(lin, 'raise-hand');
    await expect.poll(() => grace.page.getByTestId('queue-item').count()).toBe(1);
    await press(grace, 'floor-give-next');
    await kept(grace, 'Give floor to next in queue', async () => (await grace.page.getByTestId('floor-release').count()) === 1);
    await press(grace, 'floor-release');
    await kept(grace, 'End this turn', async () => (await grace.page.getByTestId('floor-release').count()) === 0);

    // Questions: Send; Release (the facilitator's pending list empties).
    await openTab(ada.page, 'prompts');
    await ada.page.getByTestId('prompt-text').fill('Whose voice is missing?');
    await press(ada, 'prompt-submit');
    await kept(ada, 'Send anonymously', async () => (await ada.page.getByTestId('prompt-sent').count()) === 1);
    await openTab(grace.page, 'prompts');
    await expect.poll(() => grace.page.getByTestId('pending-prompt').count()).toBe(1);
    await press(grace, 'prompt-release-all');
    await kept(grace, 'Release', async () => (await grace.page.getByTestId('pending-prompt').count()) === 0);

    // Climate check: Open, Submit (the form goes), Close.
    await openTab(grace.page, 'audit');
    await openTab(ada.page, 'audit');
    await press(grace, 'audit-open');
    await kept(grace, 'Open a climate check', async () => (await grace.page.getByTestId('audit-open').count()) === 0);
    const questions = ada.page.getByTestId('audit-question');
    await expect.poll(() => questions.count()).toBeGreaterThan(0);
    for (let q = 0; q < (await questions.count()); q++) {
      const item = await questions.nth(q).getAttribute('data-item-id');
      await ada.page.getByTestId(`audit-choice-${item}-3`).check();
    }
    await press(ada, 'audit-submit');
    await kept(ada, 'Send answers', async () => (await ada.page.getByTestId('audit-form').count()) === 0);
    await press(grace, 'audit-close');
    await kept(grace, 'Close the climate check', async () => (await grace.page.getByTestId('audit-close').count()) === 0);
  }, 90_000);
});
