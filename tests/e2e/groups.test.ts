// Breakout groups in five browsers (issue 11, protocol 1.7): Grace facilitates at 1280×800, Ada,
// Lin and Kim follow at 1280×800, Sam on a 360×740 phone. Grace opens fresh pairs for 5 minutes;
// each member's stage says which group they are in and with whom; Ada calls the facilitator:
// Grace's console shows it on Ada's group, and the other group never sees it; Grace messages all
// groups, recalls everyone (every screen counts down) and closes the groups at once: everyone is
// back in the main room. In every state: a screenshot in tests/artifacts/groups/<state>-<person>.png,
// axe (WCAG 2.2 A/AA) finds nothing, every target is 24 px (or spaced), the banner is in view, and nothing scrolls sideways at 360 px.
import path from 'node:path';
import { describe, expect, it, onTestFailed } from 'vitest';
import {
  LAPTOP,
  PHONE,
  UI_TIMEOUT_MS,
  WCAG22_TAGS,
  artifactsSubdir,
  expectShown,
  formatViolations,
  gatherRoom,
  horizontalOverflow,
  runAxe,
  screenshotPeople,
  smallTargets,
  useServerAndBrowser,
  type Person,
} from './lib-browser.js';

const env = useServerAndBrowser();
const shotsDir = artifactsSubdir('groups');

async function checkState(people: Person[], state: string, shown: string): Promise<void> {
  await people[0]!.page.waitForTimeout(150); // the last event's render and layout settle
  for (const p of people) {
    await p.page.evaluate(() => window.scrollTo(0, 0));
    await expectShown(p, shown, state);
    const violations = await runAxe(p.page, { tags: WCAG22_TAGS });
    expect(violations.map((v) => v.id), `axe on ${p.name}'s screen in "${state}":\n${formatViolations(violations)}`).toEqual([]);
    const small = await smallTargets(p.page);
    expect(small, `${p.name} in "${state}": targets under 24 px`).toEqual([]);
    const o = await horizontalOverflow(p.page);
    expect(o.scrollWidth, `${p.name} in "${state}" scrolls sideways: ${o.wide.join(', ')}`).toBeLessThanOrEqual(o.clientWidth);
    await p.page.screenshot({ path: path.join(shotsDir, `${state}-${p.name.toLowerCase()}.png`), timeout: 5_000 });
  }
}

const bannerGroup = (p: Person) => p.page.getByTestId('groups-banner').getAttribute('data-group-id');
const bannerTitle = (p: Person) => p.page.getByTestId('groups-banner-title').innerText();
const announced = (p: Person) => p.page.getByTestId('announcer').innerText();

describe('breakout groups in five browsers', () => {
  it('fresh pairs: own banner, help seen by the facilitator only, message, recall countdown, close', { timeout: 90_000 }, async () => {
    const options = { bypassCSP: true }; // for axe only (csp.test.ts checks the policy)
    const [grace, ada, lin, kim] = await env.addPeople(['Grace', 'Ada', 'Lin', 'Kim'], { ...options, viewport: LAPTOP });
    const sam = await env.addPerson('Sam', { ...options, viewport: PHONE, isMobile: true, hasTouch: true });
    const shown = [grace, ada, lin, sam];
    const members = [ada, lin, sam, kim];
    onTestFailed(() => screenshotPeople('groups-failed', [...shown, kim]));
    await gatherRoom(grace, env.server.baseUrl, 'Heads of school: appreciative interviews', [ada, lin, sam, kim]);

    // ---- open: pairs, fresh, 5 minutes are the defaults; the hint says what the split makes.
    const g = grace.page;
    expect(await g.getByTestId('groups-size-2').isChecked()).toBe(true);
    expect(await g.getByTestId('groups-method-fresh').isChecked()).toBe(true);
    await g.getByTestId('groups-seconds-preset-300').check();
    expect(await g.getByTestId('groups-size-hint').innerText()).toBe('4 participants online: 2 groups of 2');
    await g.getByTestId('groups-open').click();

    await expect.poll(() => g.getByTestId('console-group').count(), { message: "Grace's console: 2 groups", timeout: UI_TIMEOUT_MS }).toBe(2);
    const order = await g.getByTestId('console-group').evaluateAll((els) => els.map((e) => e.getAttribute('data-group-id')!));
    const groupOf = new Map<Person, string>();
    for (const p of members) {
      await p.page.getByTestId('groups-banner').waitFor({ state: 'visible' });
      await expect.poll(() => bannerGroup(p), { message: `${p.name}: in a group` }).not.toBe('');
      groupOf.set(p, (await bannerGroup(p))!);
    }
    for (const p of members) {
      const partners = members.filter((q) => q !== p && groupOf.get(q) === groupOf.get(p));
      expect(partners.length, `${p.name} has one partner`).toBe(1);
      const n = order.indexOf(groupOf.get(p)!) + 1;
      expect(await bannerTitle(p)).toBe(`You are in Group ${n} with ${partners[0]!.name}`);
      await expect.poll(() => p.page.getByTestId('groups-time').innerText(), { message: `${p.name}: time left` }).toMatch(/^[45]:\d\d left$/);
    }
    expect(await bannerTitle(grace)).toBe('Groups are working; you are in the main room');
    await checkState(shown, 'opened', 'groups-banner');

    // ---- help: Ada calls the facilitator. Grace sees it on Ada's group; Ada's partner sees it
    // pressed; the other group sees nothing of it.
    await ada.page.getByTestId('group-flag-help').click();
    const adaGroup = g.locator(`[data-testid="console-group"][data-group-id="${groupOf.get(ada)}"]`);
    await expect.poll(() => adaGroup.getAttribute('data-help'), { message: "Grace: Ada's group calls for help" }).toBe('true');
    const partner = members.find((q) => q !== ada && groupOf.get(q) === groupOf.get(ada))!;
    await expect.poll(() => partner.page.getByTestId('group-flag-help').getAttribute('aria-pressed'), { message: `${partner.name}: help pressed` }).toBe('true');
    await expect.poll(() => announced(grace), { message: "Grace's announcer", timeout: UI_TIMEOUT_MS }).toMatch(/Group \d calls for help/);
    for (const other of members.filter((q) => groupOf.get(q) !== groupOf.get(ada))) {
      expect(await other.page.getByTestId('group-flag-help').getAttribute('aria-pressed'), `${other.name} sees no help flag`).toBe('false');
      expect(await other.page.getByTestId('group-flag-state').count()).toBe(0);
      expect(await announced(other)).not.toMatch(/help|called the facilitator/);
    }
    await checkState(shown, 'help', 'groups-banner');
    // Grace answers the call: it clears for Ada's group.
    await g.getByTestId(`clear-help-${groupOf.get(ada)}`).click();
    await expect.poll(() => ada.page.getByTestId('group-flag-help').getAttribute('aria-pressed'), { message: 'Ada: help answered' }).toBe('false');

    // ---- message all groups: everyone sees it.
    const text = 'Three minutes each way: what went well, and why?';
    await g.getByTestId('groups-message-text').fill(text);
    await g.getByTestId('groups-message-send').click();
    for (const p of [...shown, kim]) {
      await expect.poll(() => p.page.getByTestId('groups-message').innerText(), { message: `${p.name}: the message` }).toContain(text);
    }
    await checkState(shown, 'message', 'groups-message');

    // ---- recall: every screen counts down to the main room.
    await g.getByTestId('groups-recall').click();
    for (const p of [...shown, kim]) {
      await expect
        .poll(() => p.page.getByTestId('groups-recall-countdown').innerText(), { message: `${p.name}: the countdown` })
        .toMatch(/^Back to the main room in (1:00|0:[0-5]\d)$/);
    }
    expect(await g.getByTestId('groups-recall-countdown').getAttribute('data-phase')).toBe('recall');
    await expect.poll(() => announced(sam), { message: "Sam's announcer: the recall", timeout: UI_TIMEOUT_MS }).toMatch(/called back to the main room/);
    await checkState(shown, 'recall', 'groups-recall-countdown');

    // ---- close now (confirmed): everyone is back in the main room at once.
    g.once('dialog', (d) => void d.accept());
    await g.getByTestId('groups-close').click();
    for (const p of [...shown, kim]) {
      await expect.poll(() => p.page.getByTestId('groups-banner').count(), { message: `${p.name}: banner gone` }).toBe(0);
      await expect.poll(() => announced(p), { message: `${p.name}: back in the main room`, timeout: UI_TIMEOUT_MS }).toMatch(/Everyone is back in the main room/);
    }
    expect(await g.getByTestId('groups-open').isVisible()).toBe(true);
    await checkState(shown, 'closed', 'round-panel');
  });
});
