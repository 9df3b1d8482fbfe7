// Anonymous prompts in three browsers: two members ask, the facilitator sees only the text and
// releases; everyone sees the questions, nobody's page says who asked.
import { describe, expect, it, onTestFailed } from 'vitest';
import { gatherRoom, openTab, screenshot, screenshotPeople, useServerAndBrowser } from './lib-browser.js';

const env = useServerAndBrowser();

describe('anonymous prompts', () => {
  it('Ada and Lin ask anonymously; Grace releases; all see the questions and no author', async () => {
    const [grace, ada, lin] = await env.addPeople(['Grace', 'Ada', 'Lin']);
    onTestFailed(() => screenshotPeople('prompts-failed', env.people));
    await gatherRoom(grace, env.server.baseUrl, 'Action learning set', [ada, lin]);
    for (const p of env.people) await openTab(p.page, 'prompts');

    const questions = { Ada: 'What would you try if you could not fail?', Lin: 'Whose voice is missing from this plan?' };
    for (const p of [ada, lin]) {
      await p.page.getByTestId('prompt-text').fill(questions[p.name as 'Ada' | 'Lin']);
      await p.page.getByTestId('prompt-submit').click();
      await expect.poll(() => p.page.getByTestId('prompt-sent').count()).toBeGreaterThan(0);
    }
    // The facilitator sees both pending, as text only.
    const pending = grace.page.getByTestId('pending-prompt');
    await expect.poll(() => pending.count()).toBe(2);
    const pendingText = await grace.page.getByTestId('pending-prompts').innerText();
    expect(pendingText).toContain(questions.Ada);
    expect(pendingText).not.toMatch(/Ada|Lin/);
    // Nothing reached the group yet.
    expect(await ada.page.getByTestId('released-prompt').count()).toBe(0);
    expect(await lin.page.getByText(questions.Ada).count()).toBe(0);

    await grace.page.getByTestId('prompt-release-all').click();
    for (const p of env.people) {
      const released = p.page.getByTestId('released-prompt');
      await expect.poll(() => released.count(), { message: `${p.name}: released` }).toBe(2);
      const text = await p.page.getByTestId('released-prompts').innerText();
      expect(text).toContain(questions.Ada);
      expect(text).toContain(questions.Lin);
      expect(text, `${p.name}: the released list names nobody`).not.toMatch(/Ada|Lin|Grace/);
    }
    // A vote counts once.
    await grace.page.getByTestId('prompt-upvote').first().click();
    await expect.poll(() => ada.page.getByTestId('released-prompt').first().getAttribute('data-votes')).toBe('1');
    await expect.poll(() => grace.page.getByTestId('prompt-upvote').first().isDisabled()).toBe(true);
    await screenshot(ada.page, 'prompts-ada');
  }, 40_000);
});
