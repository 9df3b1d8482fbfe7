// The climate-for-learning audit in three browsers: everyone answers anonymously; results appear
// for all only when the facilitator closes it, in aggregate.
import { describe, expect, it, onTestFailed } from 'vitest';
import { gatherRoom, openTab, screenshot, screenshotPeople, useServerAndBrowser } from './lib-browser.js';

const env = useServerAndBrowser();

describe('climate-for-learning audit', () => {
  it('three answers with k = 3: aggregate results for everyone, no names', async () => {
    const [grace, ada, lin] = await env.addPeople(['Grace', 'Ada', 'Lin']);
    onTestFailed(() => screenshotPeople('audit-failed', env.people));
    await gatherRoom(grace, env.server.baseUrl, 'Climate check', [ada, lin]);
    for (const p of env.people) await openTab(p.page, 'audit');

    await grace.page.getByTestId('audit-k').fill('3');
    await grace.page.getByTestId('audit-open').click();
    const comments: Record<string, string> = { Grace: 'We listen well.', Ada: 'Hard to disagree with the head.', Lin: 'Getting better.' };
    for (const [i, p] of env.people.entries()) {
      const form = p.page.getByTestId('audit-form');
      await expect.poll(() => form.count(), { message: `${p.name}: the form` }).toBe(1);
      const questions = p.page.getByTestId('audit-question');
      const n = await questions.count();
      expect(n).toBeGreaterThanOrEqual(5);
      for (let q = 0; q < n; q++) {
        const item = await questions.nth(q).getAttribute('data-item-id');
        await p.page.getByTestId(`audit-choice-${item}-${((q + i) % 5) + 1}`).check();
      }
      await p.page.getByTestId('audit-comment').fill(comments[p.name]!);
      await p.page.getByTestId('audit-submit').click();
      await expect.poll(() => p.page.getByTestId('audit-thanks').count(), { message: `${p.name}: thanks` }).toBe(1);
    }
    // Nothing of the answers shows before closing.
    expect(await ada.page.getByTestId('audit-results').count()).toBe(0);
    await grace.page.getByTestId('audit-close').click();
    const warning = grace.page.getByTestId('audit-close-warning');
    await expect.poll(() => warning.count(), { message: 'the facilitator is told what closing does' }).toBe(1);
    expect(await warning.innerText()).toContain('3 members have answered (at least 3 were needed)');
    await expect
      .poll(() => grace.page.evaluate(() => document.activeElement?.getAttribute('data-testid')), { message: 'focus moves to the warning' })
      .toBe('audit-close-warning');
    await grace.page.getByTestId('audit-close-confirm').click();
    for (const p of env.people) {
      const results = p.page.getByTestId('audit-results');
      await expect.poll(() => results.getAttribute('data-responses'), { message: `${p.name}: results` }).toBe('3');
      const text = await results.innerText();
      for (const c of Object.values(comments)) expect(text).toContain(c);
      expect(text, `${p.name}: results name nobody`).not.toMatch(/Grace|Ada|Lin/);
    }
    await screenshot(lin.page, 'audit-lin');
  }, 40_000);

  it('closing with fewer than k answers says how many will be deleted unseen, and can be called off', async () => {
    const [grace, ada, lin] = await env.addPeople(['Grace', 'Ada', 'Lin']);
    const people = [grace, ada, lin];
    onTestFailed(() => screenshotPeople('audit-few-failed', people));
    await gatherRoom(grace, env.server.baseUrl, 'Few answers', [ada!, lin!]);
    for (const p of people) await openTab(p.page, 'audit');
    await grace.page.getByTestId('audit-k').fill('3');
    await grace.page.getByTestId('audit-open').click();
    await expect.poll(() => ada.page.getByTestId('audit-form').count()).toBe(1);
    const questions = ada.page.getByTestId('audit-question');
    for (let q = 0; q < (await questions.count()); q++) {
      const item = await questions.nth(q).getAttribute('data-item-id');
      await ada.page.getByTestId(`audit-choice-${item}-4`).check();
    }
    await ada.page.getByTestId('audit-submit').click();
    await expect.poll(() => ada.page.getByTestId('audit-thanks').count()).toBe(1);

    await grace.page.getByTestId('audit-close').click();
    const warning = grace.page.getByTestId('audit-close-warning');
    await expect.poll(() => warning.count()).toBe(1);
    const text = await warning.innerText();
    expect(text).toContain('1 member has answered; results need at least 3');
    expect(text).toContain('deletes that answer unseen');
    expect(text, 'a count, never who').not.toMatch(/Ada|Lin/);
    expect(await grace.page.getByTestId('audit-close-confirm').innerText()).toBe('Close and delete the answers');
    await screenshot(grace.page, 'audit-close-warning');
    // Called off: the check stays open and the answer stays.
    await grace.page.getByTestId('audit-close-cancel').click();
    expect(await warning.count()).toBe(0);
    expect(await ada.page.getByTestId('audit-thanks').count()).toBe(1);
    // Confirmed: closed with no results, for everyone.
    await grace.page.getByTestId('audit-close').click();
    await grace.page.getByTestId('audit-close-confirm').click();
    for (const p of people) {
      await expect.poll(() => p.page.getByTestId('audit-form').count(), { message: `${p.name}: form gone` }).toBe(0);
      await expect.poll(() => p.page.getByText('Not enough answers to show results (1 answered, at least 3 needed)').count(), { message: `${p.name}: not enough` }).toBeGreaterThan(0);
    }
  }, 40_000);
});
