// What the end-to-end tests that open a page in a real browser share: Debian's Chromium (driven by playwright-core),
// where screenshots go, and how a report's figures are checked for drawn marks.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ROOT } from '../helpers.js';

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = join(ROOT, 'test', '.tmp', 'screenshots');
export const NO_CHROMIUM = `${CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)`;

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/** Per figure of a report page: its size and the Vega marks it drew (groups of class mark-<type> with elements). */
export function drawnFigures(
  page: Page,
): Promise<{ id: string | null; width: number; height: number; drawn: number; items: number }[]> {
  return page.$$eval('figure[data-figure]', (figures) =>
    figures.map((f) => {
      const box = f.querySelector('svg')?.getBoundingClientRect();
      const drawn = [...f.querySelectorAll('g[class*="mark-"]')].filter(
        (g) => /mark-(rect|line|area|symbol|text|rule)/.test(g.getAttribute('class') ?? '') && g.children.length > 0,
      );
      return {
        id: f.getAttribute('data-figure'),
        width: box?.width ?? 0,
        height: box?.height ?? 0,
        drawn: drawn.length,
        items: drawn.reduce((a, g) => a + g.children.length, 0),
      };
    }),
  );
}
