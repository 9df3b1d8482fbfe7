// A 360×740 phone screen: no horizontal scrolling, and create → join done with the keyboard only.
import { describe, expect, it, onTestFailed } from 'vitest';
import {
  expectMembers,
  expectOnline,
  horizontalOverflow,
  joinViaInvite,
  screenshot,
  screenshotPeople,
  tabTo,
  useServerAndBrowser,
  type Person,
} from './lib-browser.js';

const WIDTH = 360;
const HEIGHT = 740;

const env = useServerAndBrowser(); // its own server (own temporary --data-dir) and browser

async function expectNoHorizontalScroll(person: Person, where: string): Promise<void> {
  const o = await horizontalOverflow(person.page);
  expect(
    o.scrollWidth,
    `horizontal scroll on ${where}: scrollWidth ${o.scrollWidth} > ${WIDTH}; elements past the right edge: ${o.wide.join(', ') || 'none found'}`,
  ).toBeLessThanOrEqual(WIDTH);
}

describe(`small screen (${WIDTH}×${HEIGHT}) and keyboard only`, () => {
  it('create a room and join it with Tab, typing and Enter; no page scrolls sideways', async () => {
    const phone = { viewport: { width: WIDTH, height: HEIGHT }, isMobile: true, hasTouch: true };
    const [grace, ada] = await env.addPeople(['Grace', 'Ada'], phone);
    onTestFailed(() => screenshotPeople('small-screen-failed', env.people));
    const { page } = grace;

    await page.goto(`${env.server.baseUrl}/`);
    await page.getByTestId('create-title').waitFor({ state: 'visible' });
    await expectNoHorizontalScroll(grace, 'the landing page');

    // Keyboard only from here: Tab from the start of the page to the title field, type, Enter.
    await tabTo(page, 'create-title');
    await page.keyboard.type('Mobile cohort: keyboard only, with a rather long title to wrap');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/room\/[^/#?]+/);

    // The name prompt: Tab to the name field, type, Enter.
    await page.getByTestId('name-input').waitFor({ state: 'visible' });
    await expectNoHorizontalScroll(grace, 'the name prompt');
    await tabTo(page, 'name-input');
    await page.keyboard.type('Grace');
    await page.keyboard.press('Enter');

    await page.getByTestId('room-title').waitFor({ state: 'visible' });
    await expectOnline(page);
    await expect
      .poll(() => page.getByTestId('room-title').textContent())
      .toBe('Mobile cohort: keyboard only, with a rather long title to wrap');
    expect(page.url()).not.toContain('#');

    // A second member, so the room page shows a list and the (long) invite link.
    const invite = await page.getByTestId('invite-link').inputValue();
    await joinViaInvite(ada, invite);
    await expectMembers(page, ['Grace', 'Ada'], 'Grace');
    await expectNoHorizontalScroll(grace, "the facilitator's room page");
    await expectNoHorizontalScroll(ada, "the participant's room page");

    // The room's controls are reachable by keyboard too: the console's go-round form, then (Tab
    // wraps to the top) the header's Invite, whose dialog holds the link and the copy button
    // (Escape closes it and focus returns to Invite), and Leave.
    await tabTo(page, 'round-start', 40);
    await tabTo(page, 'invite-open', 120);
    await page.keyboard.press('Enter');
    await page.getByTestId('invite-link').waitFor({ state: 'visible' });
    await tabTo(page, 'copy-invite', 10);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('invite-open');
    await tabTo(page, 'leave-room', 5);

    await screenshot(page, 'small-screen-grace');
    await screenshot(ada.page, 'small-screen-ada');
  });
});
