import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { Page, Request } from 'playwright-core';

/** Screenshots of every console page land here (gitignored; CI keeps the folder). */
export const SCREENSHOTS = resolve(import.meta.dirname, '..', '..', 'artifacts', 'screenshots');

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * axe-core from its file, run on the whole page. It is evaluated through the
 * DevTools protocol: the console's CSP (rightly) refuses an inline script tag.
 */
export async function assertAccessible(page: Page, where: string): Promise<void> {
  await page.evaluate(AXE_SOURCE);
  // Page-side code is a string: the test project has no DOM types.
  const violations = await page.evaluate<AxeViolation[]>(
    `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => JSON.stringify(n.target)) })))`,
  );
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(serious, [], `${where}: axe found serious or critical violations`);
}

/** What the page sent: URLs and bodies of every request, and the bodies of every response, to grep for secrets. */
export class Traffic {
  readonly requests: string[] = [];
  readonly responses: Array<{ url: string; body: string }> = [];

  constructor(page: Page) {
    page.on('request', (request: Request) => {
      this.requests.push(`${request.method()} ${request.url()}\n${request.postData() ?? ''}`);
    });
    page.on('response', (response) => {
      void response.text().then(
        (body) => this.responses.push({ url: response.url(), body }),
        () => undefined,
      );
    });
  }

  requestText(): string {
    return this.requests.join('\n');
  }
}

/** Everything JS in the page can read: the DOM, both storages, and document.cookie. */
export async function pageReadable(page: Page): Promise<string> {
  return page.evaluate<string>(`(() => {
    const store = (s) => Array.from({ length: s.length }, (_, i) => s.key(i) + '=' + s.getItem(s.key(i))).join('\\n');
    return [document.documentElement.outerHTML, store(localStorage), store(sessionStorage), document.cookie, location.href].join('\\n');
  })()`);
}

/** Tabs until the element matching `selector` has focus (every action must be reachable by keyboard). */
export async function tabTo(page: Page, selector: string, maxTabs = 80): Promise<void> {
  for (let i = 0; i < maxTabs; i += 1) {
    await page.keyboard.press('Tab');
    const hit = await page.evaluate<boolean>(`document.activeElement?.matches(${JSON.stringify(selector)}) === true`);
    if (hit) return;
  }
  assert.fail(`${selector} is not reachable with Tab`);
}
