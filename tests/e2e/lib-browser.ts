// Shared helpers for the end-to-end suite: one headless Chromium (playwright-core, the system
// /usr/bin/chromium; no browser download), one browser context per person, and the UI steps of
// Colloquy driven through its data-testid contract (client-web/src/ui/*.tsx).
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { repoRoot, startServer, type RunningServer, type StartOptions } from '../lib/server.js';

/** Upper bound for any single UI wait (the brief: bounded ~10 s). */
export const UI_TIMEOUT_MS = 10_000;
export const artifactsDir = path.join(repoRoot, 'tests', 'artifacts');

const CHROMIUM_PATH = process.env.COLLOQUY_CHROMIUM ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      // No crash reporter: its handler process would outlive browser.close() for a while.
      '--disable-crash-reporter',
      '--disable-breakpad',
    ],
    timeout: 15_000,
  });
}

/** Everything a page reported that a healthy client never produces. */
export interface PageProblems {
  consoleErrors: string[];
  pageErrors: string[];
  /** Console messages about the Content-Security-Policy (any level). */
  cspMessages: string[];
}

export interface Person {
  name: string;
  context: BrowserContext;
  page: Page;
  problems: PageProblems;
}

const CSP_PATTERN = /Content Security Policy|Content-Security-Policy|Refused to/i;

/** Collects console errors, CSP messages and uncaught page errors of one page. */
export function watchPage(page: Page, problems: PageProblems): void {
  page.on('console', (msg) => {
    const text = `${msg.type()}: ${msg.text()}`;
    if (CSP_PATTERN.test(msg.text())) problems.cspMessages.push(text);
    if (msg.type() === 'error') problems.consoleErrors.push(text);
  });
  page.on('pageerror', (err) => problems.pageErrors.push(String(err?.stack ?? err)));
}

/** A new person: their own browser context (own localStorage and sessionStorage, own cookies) and one page. */
export async function newPerson(browser: Browser, name: string, options: BrowserContextOptions = {}): Promise<Person> {
  const context = await browser.newContext(options);
  context.setDefaultTimeout(UI_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(UI_TIMEOUT_MS);
  const page = await context.newPage();
  const problems: PageProblems = { consoleErrors: [], pageErrors: [], cspMessages: [] };
  watchPage(page, problems);
  return { name, context, page, problems };
}

/** A new tab of the person's own browser (same context: same localStorage, new sessionStorage), watched like the first. */
export async function newTab(person: Person): Promise<Page> {
  const page = await person.context.newPage();
  watchPage(page, person.problems);
  return page;
}

export async function closeAll(people: Iterable<Person | undefined>): Promise<void> {
  await Promise.all([...people].map((p) => p?.context.close().catch(() => undefined)));
}

/**
 * A test file's own server and browser, and the people its tests made. `server` and `browser`
 * are there from the file's beforeAll on; reading them earlier (or after beforeAll failed) throws.
 */
export interface ServerAndBrowser {
  readonly server: RunningServer;
  readonly browser: Browser;
  /** Everyone made in this file (by addPerson, or pushed here); their contexts close in afterAll. */
  readonly people: Person[];
  /** newPerson() in this file's browser, added to `people`. */
  addPerson(name: string, options?: BrowserContextOptions): Promise<Person>;
  /** addPerson() for each name, one after another: `const [grace, ada] = await env.addPeople(['Grace', 'Ada'])`. */
  addPeople<const Names extends readonly string[]>(
    names: Names,
    options?: BrowserContextOptions,
  ): Promise<{ -readonly [K in keyof Names]: Person }>;
  /**
   * Stops the server (SIGTERM) and, `downMs` later, starts it again on the same port with the same
   * options: browsers reconnect to it by themselves. Needs `options.dataDir` (the rooms live there).
   */
  restartServer(downMs?: number): Promise<RunningServer>;
}

/**
 * Registers the file's beforeAll (start a server, with its own temporary --data-dir unless
 * `options.dataDir` is given (lib/server.ts), and launch one browser) and afterAll (close every
 * person's context, the browser and the server, whatever failed before). Call it once, at the top
 * level of a test file.
 */
export function useServerAndBrowser(options: StartOptions = {}): ServerAndBrowser {
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  const people: Person[] = [];

  beforeAll(async () => {
    server = await startServer(options);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    try {
      await closeAll(people);
      await browser?.close().catch(() => undefined);
    } finally {
      await server?.stop();
    }
  });

  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`no ${what}: useServerAndBrowser's beforeAll has not run, or it failed`);
    return value;
  };
  const addPerson = async (name: string, contextOptions: BrowserContextOptions = {}): Promise<Person> => {
    const person = await newPerson(started(browser, 'browser'), name, contextOptions);
    people.push(person);
    return person;
  };
  return {
    get server() {
      return started(server, 'server');
    },
    get browser() {
      return started(browser, 'browser');
    },
    people,
    addPerson,
    async addPeople<const Names extends readonly string[]>(names: Names, contextOptions: BrowserContextOptions = {}) {
      const added: Person[] = [];
      for (const name of names) added.push(await addPerson(name, contextOptions));
      return added as { -readonly [K in keyof Names]: Person };
    },
    async restartServer(downMs = 0) {
      if (!options.dataDir) throw new Error('restartServer needs useServerAndBrowser({ dataDir })');
      const old = started(server, 'server');
      const code = (await old.stop()).code;
      if (code !== 0) throw new Error(`the server exited with ${code} on SIGTERM`);
      server = undefined;
      await new Promise((r) => setTimeout(r, downMs));
      server = await startServer({ ...options, args: [...(options.args ?? []), '--port', String(old.port)] });
      return server;
    },
  };
}

/** Landing page → create a room → facilitator name prompt → join. Returns the invite URL. */
export async function createRoomAs(person: Person, baseUrl: string, title: string): Promise<string> {
  const { page } = person;
  await page.goto(`${baseUrl}/`);
  await page.getByTestId('create-title').fill(title);
  await page.getByTestId('create-submit').click();
  await page.waitForURL(/\/room\/[^/#?]+/);
  await joinWithName(person);
  await expect.poll(() => page.getByTestId('room-title').textContent(), { timeout: UI_TIMEOUT_MS }).toBe(title);
  const invite = await page.getByTestId('invite-link').inputValue();
  expect(invite).toMatch(new RegExp(`^${escapeRegExp(baseUrl)}/room/[^/#?]+#code=.+`));
  return invite;
}

/**
 * `host` creates a room titled `title`, each of `guests` joins from its invite link, and then each
 * of them sees exactly all of them in the member list. Returns the invite URL.
 */
export async function gatherRoom(host: Person, baseUrl: string, title: string, guests: Person[]): Promise<string> {
  const invite = await createRoomAs(host, baseUrl, title);
  for (const guest of guests) await joinViaInvite(guest, invite);
  const everyone = [host, ...guests];
  for (const p of everyone) await expectMembers(p.page, everyone.map((q) => q.name), p.name);
  return invite;
}

/** Opens an invite link and joins under the person's name. */
export async function joinViaInvite(person: Person, inviteUrl: string): Promise<void> {
  await person.page.goto(inviteUrl);
  await joinWithName(person);
}

/** On the name prompt: type the name, submit, wait until the room is shown and online. */
export async function joinWithName(person: Person): Promise<void> {
  const { page } = person;
  await page.getByTestId('name-input').fill(person.name);
  await page.getByTestId('join-submit').click();
  await page.getByTestId('room-title').waitFor({ state: 'visible' });
  await expectOnline(page);
}

export async function expectOnline(page: Page): Promise<void> {
  await expect
    .poll(() => page.getByTestId('connection-state').getAttribute('data-state'), { timeout: UI_TIMEOUT_MS })
    .toBe('online');
}

export interface MemberRow {
  text: string;
  presence: string | null;
  role: string | null;
  id: string | null;
}

/** The member list as shown: each item's visible text and its data attributes. */
export async function memberRows(page: Page): Promise<MemberRow[]> {
  return page.getByTestId('member-item').evaluateAll((items) =>
    items.map((li) => ({
      text: (li as HTMLElement).innerText.replace(/\s+/g, ' ').trim(),
      presence: li.getAttribute('data-presence'),
      role: li.getAttribute('data-role'),
      id: li.getAttribute('data-member-id'),
    })),
  );
}

/**
 * Which of `names` each member item shows (an item matching none is reported by its text), sorted.
 * Equal to sorted `names` exactly when the list has one item per name and nothing else.
 */
export async function shownNames(page: Page, names: string[]): Promise<string[]> {
  const rows = await memberRows(page);
  return rows.map((r) => names.find((n) => r.text.startsWith(n)) ?? `<unexpected: ${r.text}>`).sort();
}

export async function expectMembers(page: Page, names: string[], label: string): Promise<void> {
  await expect
    .poll(() => shownNames(page, names), { timeout: UI_TIMEOUT_MS, message: `${label}: member list` })
    .toEqual([...names].sort());
}

/** The member item that shows `name` (its text starts with the name). */
export function memberItem(page: Page, name: string) {
  return page.getByTestId('member-item').filter({ hasText: new RegExp(`^\\s*${escapeRegExp(name)}`) });
}

/**
 * Opens one of the room's activity tabs (questions, climate check, challenge deck; under 64rem
 * also people): their panels are in the page but hidden until chosen.
 */
export async function openTab(page: Page, tab: 'people' | 'prompts' | 'audit' | 'deck'): Promise<void> {
  await page.getByTestId(`tab-${tab}`).click();
  await page.locator(`#tabpanel-${tab}`).waitFor({ state: 'visible' });
}

/** Presses Tab until the element with `testId` has focus (at most `maxTabs` presses). */
export async function tabTo(page: Page, testId: string, maxTabs = 12): Promise<number> {
  for (let i = 1; i <= maxTabs; i++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? null);
    if (focused === testId) return i;
  }
  const where = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 200) ?? 'nothing');
  throw new Error(`Tab did not reach [data-testid=${testId}] within ${maxTabs} presses; focus is on ${where}`);
}

/** Where an element is on the screen as the page stands (no scrolling). */
export interface Placement {
  /** Wholly inside the viewport. */
  inside: boolean;
  /** The element found at its centre is it or inside it (nothing covers it). */
  uncovered: boolean;
  /** Its box and what is at its centre, for a failure message. */
  box: string;
}

/** Where the element with `testId` is: inside the viewport, and not covered by another element. */
export async function placement(page: Page, testId: string): Promise<Placement> {
  return page.evaluate((id) => {
    const el = document.querySelector(`[data-testid="${id}"]`);
    if (!el) return { inside: false, uncovered: false, box: 'absent' };
    const r = el.getBoundingClientRect();
    const inside = r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight + 0.5 && r.right <= innerWidth + 0.5;
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    const uncovered = !!hit && (hit === el || el.contains(hit));
    const what = hit ? `${hit.tagName.toLowerCase()}${hit.getAttribute('data-testid') ? `[${hit.getAttribute('data-testid')}]` : ''}.${String(hit.className)}` : 'nothing';
    return {
      inside,
      uncovered,
      box: `top ${Math.round(r.top)} bottom ${Math.round(r.bottom)} left ${Math.round(r.left)} right ${Math.round(r.right)} in ${innerWidth}×${innerHeight}; at its centre: ${what}`,
    };
  }, testId);
}

/** Fails unless the element with `testId` is inside `person`'s viewport without scrolling and uncovered. */
export async function expectShown(person: Person, testId: string, state: string): Promise<void> {
  const p = await placement(person.page, testId);
  const where = `${person.name} in "${state}": [data-testid=${testId}]`;
  expect(p.inside, `${where} is not inside the viewport without scrolling (${p.box})`).toBe(true);
  expect(p.uncovered, `${where} is covered (${p.box})`).toBe(true);
}

/** The laptop and phone screens the layout tests use. */
export const LAPTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 360, height: 740 } as const;

export async function horizontalOverflow(page: Page): Promise<{ scrollWidth: number; clientWidth: number; wide: string[] }> {
  return page.evaluate(() => {
    const clientWidth = document.documentElement.clientWidth;
    const wide: string[] = [];
    for (const el of Array.from(document.querySelectorAll('body *'))) {
      const r = el.getBoundingClientRect();
      if (r.right > clientWidth + 0.5 && r.width > 0) {
        const id = el.getAttribute('data-testid') ?? el.id ?? '';
        wide.push(`${el.tagName.toLowerCase()}${id ? `[${id}]` : ''}${el.className ? `.${String(el.className).split(' ').join('.')}` : ''} right=${Math.round(r.right)}`);
      }
    }
    return { scrollWidth: document.documentElement.scrollWidth, clientWidth, wide: wide.slice(0, 10) };
  });
}

/** tests/artifacts/<name>/, made if missing: where a test file keeps its screenshots. */
export function artifactsSubdir(name: string): string {
  const dir = path.join(artifactsDir, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function artifactPath(name: string): string {
  mkdirSync(artifactsDir, { recursive: true });
  return path.join(artifactsDir, `e2e-${name}.png`);
}

/** Full-page screenshot to tests/artifacts/e2e-<name>.png; returns the path. Never throws. */
export async function screenshot(page: Page, name: string): Promise<string | null> {
  const file = artifactPath(name);
  try {
    await page.screenshot({ path: file, fullPage: true, timeout: 5_000 });
    return file;
  } catch {
    return null;
  }
}

/** Screenshots every still-open page of `people` as e2e-<prefix>-<name>.png (for failed tests). */
export async function screenshotPeople(prefix: string, people: Iterable<Person | undefined>): Promise<void> {
  const paths: string[] = [];
  for (const p of people) {
    if (!p || p.page.isClosed()) continue;
    const file = await screenshot(p.page, `${prefix}-${p.name.toLowerCase()}`);
    if (file) paths.push(file);
  }
  if (paths.length) console.error(`screenshots of the failed test:\n  ${paths.join('\n  ')}`);
}

const require = createRequire(import.meta.url);
let axeSource: string | undefined;

/** The axe-core script text (tests/node_modules/axe-core/axe.min.js). */
export function axeScript(): string {
  axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  return axeSource;
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: { target: unknown; failureSummary?: string }[];
}

/** The WCAG 2.0–2.2 level A and AA tags of axe-core. */
export const WCAG22_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] as const;

/**
 * Runs axe-core on the page: every rule axe enables by default, plus `target-size` (WCAG 2.2
 * 2.5.8, off by default in axe 4.x); with `tags`, only the rules of those tags (all of them, so
 * `WCAG22_TAGS` includes target-size). The page's context must have been made with
 * `bypassCSP: true`: the server's CSP (script-src 'self') blocks the inline script that injects axe.
 */
export async function runAxe(page: Page, options: { tags?: readonly string[] } = {}): Promise<AxeViolation[]> {
  const injected = await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe !== 'undefined');
  if (!injected) await page.addScriptTag({ content: axeScript() });
  const runOptions = options.tags
    ? { resultTypes: ['violations'], runOnly: { type: 'tag', values: [...options.tags] } }
    : { resultTypes: ['violations'], rules: { 'target-size': { enabled: true } } };
  return page.evaluate(async (opts) => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, opts);
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  }, runOptions);
}

/** A pointer target smaller than 24 × 24 CSS px without the spacing exception, by name. */
export interface SmallTarget {
  name: string;
  width: number;
  height: number;
}

/**
 * Every visible button, link, input, select, textarea, summary and tab of the page smaller than
 * 24 × 24 CSS px (WCAG 2.5.8), except those the criterion exempts: a link inside a sentence
 * (inline), and an undersized target whose 24 px circle (centred on it) meets no other target and
 * no other undersized target's circle (spacing). A checkbox or radio button counts with its label
 * (clicking the label is clicking it). Elements clipped to 1 × 1 px (visually hidden) are not targets.
 */
export async function smallTargets(page: Page): Promise<SmallTarget[]> {
  return page.evaluate(() => {
    const MIN = 24;
    const selector = 'button, a[href], input:not([type="hidden"]), select, textarea, summary, [role="tab"]';
    type Box = { left: number; top: number; right: number; bottom: number };
    const visible = (el: Element) => {
      const r = el.getBoundingClientRect();
      if (r.width <= 1 || r.height <= 1) return false;
      const style = getComputedStyle(el);
      return style.visibility !== 'hidden' && style.display !== 'none' && el.getClientRects().length > 0;
    };
    const union = (a: Box, b: DOMRect): Box => ({
      left: Math.min(a.left, b.left),
      top: Math.min(a.top, b.top),
      right: Math.max(a.right, b.right),
      bottom: Math.max(a.bottom, b.bottom),
    });
    const nameOf = (el: Element) => {
      const id = el.getAttribute('data-testid') ?? (el.id ? `#${el.id}` : '');
      const text = (el.textContent ?? '').replace(/\s+/g, ' ').trim().slice(0, 40);
      return `${el.tagName.toLowerCase()}${id ? `[${id}]` : ''}${text ? ` "${text}"` : ''}`;
    };
    const inline = (el: Element) => {
      if (el.tagName !== 'A' || getComputedStyle(el).display !== 'inline') return false;
      const parent = el.parentElement;
      return !!parent && Array.from(parent.childNodes).some((n) => n !== el && n.nodeType === Node.TEXT_NODE && (n.textContent ?? '').trim() !== '');
    };
    const targets = Array.from(document.querySelectorAll(selector)).filter(visible).map((el) => {
      let box: Box = el.getBoundingClientRect();
      const labels = (el as HTMLInputElement).labels;
      const type = (el as HTMLInputElement).type;
      if (el.tagName === 'INPUT' && (type === 'checkbox' || type === 'radio') && labels) {
        for (const l of Array.from(labels)) if (visible(l)) box = union(box, l.getBoundingClientRect());
      }
      return { el, box, w: box.right - box.left, h: box.bottom - box.top };
    });
    const small = targets.filter((t) => (t.w < MIN - 0.01 || t.h < MIN - 0.01) && !inline(t.el));
    const centre = (b: Box) => ({ x: (b.left + b.right) / 2, y: (b.top + b.bottom) / 2 });
    const circleMeetsBox = (c: { x: number; y: number }, b: Box) => {
      const dx = Math.max(b.left - c.x, 0, c.x - b.right);
      const dy = Math.max(b.top - c.y, 0, c.y - b.bottom);
      return dx * dx + dy * dy < (MIN / 2) * (MIN / 2);
    };
    const offenders = small.filter((t) => {
      const c = centre(t.box);
      return targets.some((o) => {
        if (o === t || o.el.contains(t.el) || t.el.contains(o.el)) return false;
        if (circleMeetsBox(c, o.box)) return true;
        if (!small.includes(o)) return false;
        const oc = centre(o.box);
        return Math.hypot(c.x - oc.x, c.y - oc.y) < MIN;
      });
    });
    return offenders.map((t) => ({ name: nameOf(t.el), width: Math.round(t.w * 10) / 10, height: Math.round(t.h * 10) / 10 }));
  });
}

export function formatViolations(violations: AxeViolation[]): string {
  return violations
    .map(
      (v) =>
        `- ${v.id} (${v.impact ?? 'n/a'}): ${v.help} <${v.helpUrl}>\n` +
        v.nodes.map((n) => `    at ${JSON.stringify(n.target)}${n.failureSummary ? `\n      ${n.failureSummary.replace(/\n/g, '\n      ')}` : ''}`).join('\n'),
    )
    .join('\n');
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
