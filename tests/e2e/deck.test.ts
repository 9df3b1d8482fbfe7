// The challenge deck: the facilitator adds a card and draws; all three screens show the same card.
import { describe, expect, it, onTestFailed } from 'vitest';
import { gatherRoom, openTab, screenshotPeople, useServerAndBrowser } from './lib-browser.js';

const env = useServerAndBrowser();

describe('challenge deck', () => {
  it('a drawn challenge appears on every screen; participants cannot draw', async () => {
    const [grace, ada, lin] = await env.addPeople(['Grace', 'Ada', 'Lin']);
    onTestFailed(() => screenshotPeople('deck-failed', env.people));
    await gatherRoom(grace, env.server.baseUrl, 'Critical incidents', [ada, lin]);
    for (const p of env.people) await openTab(p.page, 'deck');

    expect(await grace.page.getByTestId('deck-card').count()).toBeGreaterThanOrEqual(12);
    expect(await ada.page.getByTestId('deck-draw').count(), 'only facilitators draw').toBe(0);
    await grace.page.getByTestId('deck-text').fill('What would your deputy say?');
    await grace.page.getByTestId('deck-add').click();
    await expect.poll(() => grace.page.getByTestId('deck-card').filter({ hasText: 'What would your deputy say?' }).count()).toBe(1);

    await grace.page.getByTestId('deck-draw').click();
    const shown = await Promise.all(
      env.people.map(async (p) => {
        const card = p.page.getByTestId('deck-card-shown');
        await expect.poll(() => card.count(), { message: `${p.name}: card on show` }).toBe(1);
        return (await card.innerText()).trim();
      }),
    );
    expect(shown[0]!.length).toBeGreaterThan(10);
    expect(new Set(shown).size, `the same card everywhere: ${shown.join(' | ')}`).toBe(1);
    // The card is on the stage's spotlight too, whatever tab is open.
    for (const p of env.people) {
      expect((await p.page.getByTestId('stage-spotlight').innerText()).trim()).toBe(shown[0]);
    }
  }, 40_000);
});
