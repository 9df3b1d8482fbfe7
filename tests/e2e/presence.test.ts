// Presence as people see it: leaving, closing the tab, and reloading (resume without a name prompt).
import { describe, expect, it, onTestFailed } from 'vitest';
import {
  UI_TIMEOUT_MS,
  expectMembers,
  expectOnline,
  gatherRoom,
  memberItem,
  memberRows,
  screenshotPeople,
  useServerAndBrowser,
  type Person,
} from './lib-browser.js';

const env = useServerAndBrowser(); // its own server (own temporary --data-dir) and browser

/** The visible presence tag of `name`'s member item on `page` ("online", "away", "left"). */
async function presenceText(person: Person, name: string): Promise<string | null> {
  const item = memberItem(person.page, name);
  if ((await item.count()) !== 1) return `<${await item.count()} items for ${name}>`;
  const tag = item.locator('.tag.presence');
  if ((await tag.count()) === 1 && (await tag.isVisible())) return (await tag.innerText()).trim();
  return `<no visible presence tag: ${(await item.innerText()).replace(/\s+/g, ' ')}>`;
}

describe('presence, live', () => {
  it('leave shows "left", a closed tab shows "away", a reload resumes the same member without asking for a name', async () => {
    const [grace, ada, lin] = await env.addPeople(['Grace', 'Ada', 'Lin']);
    onTestFailed(() => screenshotPeople('presence-failed', env.people));

    // Records whether the name prompt is ever rendered in Grace's tab (installed before any page
    // script; Playwright's init scripts are not subject to the page's CSP).
    await grace.context.addInitScript(() => {
      const w = window as unknown as { __namePromptSeen: boolean };
      w.__namePromptSeen = false;
      new MutationObserver(() => {
        if (document.querySelector('[data-testid="name-input"]')) w.__namePromptSeen = true;
      }).observe(document, { childList: true, subtree: true });
    });

    const invite = await gatherRoom(grace, env.server.baseUrl, 'Presence check', [ada, lin]);

    // Ada leaves: she sees that she left; Grace and Lin see Ada as "left".
    await ada.page.getByTestId('leave-room').click();
    await ada.page.getByTestId('left-title').waitFor({ state: 'visible' });
    for (const p of [grace, lin]) {
      await expect
        .poll(() => presenceText(p, 'Ada'), { timeout: UI_TIMEOUT_MS, message: `${p.name} sees Ada` })
        .toBe('left');
      await expect.poll(() => presenceText(p, 'Grace'), { message: `${p.name} sees Grace` }).toBe('online');
      await expect.poll(() => presenceText(p, 'Lin'), { message: `${p.name} sees Lin` }).toBe('online');
      await expect
        .poll(() => p.page.getByRole('heading', { name: /People/ }).innerText(), { message: `${p.name}: count` })
        .toContain('2 present');
    }

    // Lin closes her tab without leaving: Grace sees Lin as "away" within a few seconds.
    await lin.page.close();
    await expect
      .poll(() => presenceText(grace, 'Lin'), { timeout: 5_000, message: 'Grace sees Lin after the tab closed' })
      .toBe('away');
    await expect.poll(() => presenceText(grace, 'Ada')).toBe('left');

    // Grace reloads: the stored resume token brings back the same member, no name prompt.
    const before = await memberRows(grace.page);
    const graceId = before.find((r) => r.text.startsWith('Grace'))?.id;
    expect(graceId).toBeTruthy();
    // (The flag is per document: Grace's first load did show the prompt; the reload starts afresh.)
    await grace.page.reload();
    await grace.page.getByTestId('room-title').waitFor({ state: 'visible' });
    await expectOnline(grace.page);
    await expectMembers(grace.page, ['Grace', 'Ada', 'Lin'], 'Grace after reload');
    const after = await memberRows(grace.page);
    expect(after.map((r) => r.id)).toEqual(before.map((r) => r.id));
    expect(after.filter((r) => r.text.startsWith('Grace'))).toHaveLength(1);
    expect(after.find((r) => r.text.startsWith('Grace'))).toMatchObject({
      id: graceId,
      presence: 'online',
      role: 'facilitator',
    });
    expect(after.find((r) => r.text.startsWith('Ada'))?.presence).toBe('left');
    expect(after.find((r) => r.text.startsWith('Lin'))?.presence).toBe('away');
    expect(
      await grace.page.evaluate(() => (window as unknown as { __namePromptSeen: boolean }).__namePromptSeen),
      'the name prompt was shown after the reload',
    ).toBe(false);
    expect(await grace.page.getByTestId('name-input').count()).toBe(0);
    // The facilitator still has the invite link in this tab, and the address bar has no secret.
    expect(await grace.page.getByTestId('invite-link').inputValue()).toBe(invite);
    expect(grace.page.url()).not.toContain('#');
  });
});
