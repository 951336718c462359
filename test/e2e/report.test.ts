// `anchorage report` on real runs: one self-contained HTML page (nothing
// fetched), every figure drawn, SVG and PNG copies, bad input handled — and
// the page opened in a real browser (Debian's Chromium, driven by
// playwright-core), which must draw marks in every chart and log no errors.
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TINY_SPEC, runCli, scratchDir, writeExperiment } from '../helpers.js';
import { CHROMIUM, NO_CHROMIUM, SCREENSHOTS, drawnFigures, launchChromium } from './browser.js';

// Continual runs: two strategies × two optimizers (one anchored, for the constraint figures) × two seeds.
const { optimizer: _optimizer, ...TINY_BASE } = TINY_SPEC;
const CONTINUAL = {
  ...TINY_BASE,
  name: 'report-cl',
  stream: { name: 'split', tasksOf: 2 },
  dataset: { ...TINY_SPEC.dataset, classes: 6 },
  axes: {
    strategy: [{ name: 'naive' }, { name: 'replay', size: 30 }],
    optimizer: [
      { name: 'adamw', lr: 0.03 },
      { name: 'ftp', lr: 0.03 },
    ],
  },
  seeds: [0, 1],
};
// A low-label sweep with OOD sets: the labels curve and the robustness trade-off.
const SWEEP = {
  name: 'report-sweep',
  dataset: {
    name: 'synthetic',
    classes: 4,
    features: 64,
    trainPerClass: 40,
    testPerClass: 20,
    separation: 4,
    imageShape: [8, 8, 1],
  },
  stream: { name: 'split', tasks: [[0, 1, 2, 3]] },
  model: { name: 'mlp', hidden: [32] },
  axes: {
    sampler: [{ name: 'fraction', fraction: 0.25 }, { name: 'shuffled' }],
    optimizer: [
      { name: 'adamw', lr: 0.02 },
      { name: 'l2sp', lr: 0.02, alpha: 0.01 },
    ],
  },
  eval: { ood: [{ corruption: 'gaussian-noise', severity: 2 }] },
  train: { epochs: 2, batchSize: 16, logEvery: 5 },
  seeds: [0, 1],
};

let dir: string;
let results: string;
beforeAll(() => {
  dir = scratchDir('report');
  results = join(dir, 'results');
  for (const spec of [CONTINUAL, SWEEP]) {
    const r = runCli(['run', writeExperiment(dir, spec, `${spec.name}.ts`), '--out', results, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
  }
});

const figureIds = (html: string) => [...html.matchAll(/data-figure="([^"]+)"/g)].map((m) => m[1]);

describe('anchorage report', () => {
  it('writes one self-contained page with every figure, and each figure as SVG and PNG', () => {
    const figs = join(dir, 'figs');
    const r = runCli(['report', join(results, 'report-cl'), '--by', 'strategy,optimizer', '--figures', figs]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/report: .*report-cl\/report\.html \(\d+ figures, \d+ KB\) in \d+\.\d s/);
    const html = readFileSync(join(results, 'report-cl', 'report.html'), 'utf8');
    // Nothing to fetch: no scripts, stylesheets, images or fonts from anywhere.
    expect(html).not.toMatch(/<script|<link|<img|@import|url\((?!#)/i);
    // Each inline SVG's ids (gradients, clip paths) are its own: several charts on one page never share one.
    const ids = [...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
    const figures = figureIds(html);
    expect(figures).toEqual([
      'metrics',
      'matrix-1',
      'matrix-2',
      'matrix-3',
      'matrix-4',
      'forgetting-1',
      'forgetting-2',
      'forgetting-3',
      'forgetting-4',
      'loss',
      'constraints-2',
      'constraints-4',
    ]);
    // The summary table first: groups by strategy and optimizer, two seeds each.
    expect(html.indexOf('id="summary"')).toBeLessThan(html.indexOf('data-figure="metrics"'));
    expect(html).toMatch(/<td>replay\(30\)<\/td><td>ftp<\/td><td class="num">2<\/td><td>0 1<\/td>/);
    for (const id of figures) {
      expect(readFileSync(join(figs, `${id}.svg`), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>$/);
      const png = readFileSync(join(figs, `${id}.png`));
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect(png.byteLength).toBeGreaterThan(5000);
    }
  });

  it('draws the labels curve and the ID–OOD trade-off for a low-label sweep with OOD sets', () => {
    const r = runCli(['report', join(results, 'report-sweep'), '--by', 'optimizer,labels']);
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(join(results, 'report-sweep', 'report.html'), 'utf8');
    expect(figureIds(html).slice(0, 3)).toEqual(['metrics', 'labels', 'robustness']);
    expect(html).toContain('gaussian-noise-2');
  });

  it(
    'bad input: no runs is exit 2; a corrupt table and mixed experiments are reported and the readable runs still ' +
      'are',
    () => {
      const empty = join(dir, 'empty');
      mkdirSync(empty);
      const none = runCli(['report', empty]);
      expect(none.code).toBe(2);
      expect(none.stderr).toContain(`no runs under ${empty}`);

      const [broken] = readdirSync(join(results, 'report-sweep')).filter(
        (d) => !d.startsWith('.') && !d.endsWith('.html'),
      );
      truncateSync(join(results, 'report-sweep', broken, 'evals.arrow'), 200);
      const mixed = runCli(['report', results, '--by', 'optimizer', '--out', join(dir, 'mixed.html')]);
      expect(mixed.code, mixed.stderr).toBe(0);
      expect(mixed.stderr).toContain(
        'holds runs of 2 experiments (report-cl, report-sweep); they are grouped by experiment as well',
      );
      expect(mixed.stderr).toContain('1 run is not complete and not averaged');
      const html = readFileSync(join(dir, 'mixed.html'), 'utf8');
      expect(html).toMatch(new RegExp(`${broken}: unreadable: evals\\.arrow does not read back`));
      expect(html).toMatch(/<td>report-cl<\/td><td>ftp<\/td><td class="num">4<\/td>/);
      expect(html).toMatch(/<td>report-sweep<\/td><td>l2sp<\/td><td class="num">4<\/td>/);
      expect(html).toMatch(/<td>report-sweep<\/td><td>adamw<\/td><td class="num">3<\/td>/);
    },
  );

  it('never writes into a run folder or over a file that is not an earlier report; each refusal is one line', () => {
    const cl = join(results, 'report-cl');
    const [run] = readdirSync(cl).filter((d) => !d.startsWith('.') && !d.endsWith('.html'));
    const evals = join(cl, run, 'evals.arrow');
    const before = readFileSync(evals);
    writeFileSync(join(dir, 'notes.html'), 'my notes');
    writeFileSync(join(dir, 'a-file'), 'a file');
    for (const [args, message] of [
      [['--out', evals], /--out: \S+evals\.arrow lies inside the run folder \S+; report never writes into a run/],
      [['--out', join(cl, run, 'report.html')], /lies inside the run folder/],
      [['--out', join(dir, 'notes.html')], /notes\.html exists and is not an earlier report; it is left as it is/],
      [['--out', results], /--out: \S+ is a folder; give a file name/],
      [['--out', join(dir, 'a-file', 'r.html')], /--out: \S+a-file is a file, not a folder/],
      [
        ['--out', join(dir, 'ok.html'), '--figures', join(dir, 'a-file')],
        /--figures: \S+a-file is a file, not a folder/,
      ],
    ] as const) {
      const r = runCli(['report', cl, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(readFileSync(evals).equals(before)).toBe(true);
    expect(readFileSync(join(dir, 'notes.html'), 'utf8')).toBe('my notes');
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
    // An earlier report of its own is replaced.
    expect(runCli(['report', cl, '--out', join(dir, 'again.html')]).code).toBe(0);
    expect(runCli(['report', cl, '--out', join(dir, 'again.html')]).code).toBe(0);
  });

  const inBrowser = `opens in a real browser (${CHROMIUM}): every chart has drawn marks, no errors, no requests`;
  it(`${inBrowser}; screenshot saved`, async (ctx) => {
    if (!existsSync(CHROMIUM)) ctx.skip(NO_CHROMIUM);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
      page.on('pageerror', (e) => problems.push(`page: ${e.message}`));
      page.on('request', (r) => !r.url().startsWith('file://') && requests.push(r.url()));
      const file = join(results, 'report-cl', 'report.html');
      await page.goto(`file://${file}`);
      const marks = await drawnFigures(page);
      expect(marks.length).toBe(12);
      for (const m of marks) {
        expect(m.width, m.id!).toBeGreaterThan(100);
        expect(m.height, m.id!).toBeGreaterThan(100);
        expect(m.drawn, m.id!).toBeGreaterThan(0);
        expect(m.items, m.id!).toBeGreaterThan(3);
      }
      // The heat map of a 3-task run: the untrained row and one per task, 3 cells each.
      expect(
        await page.$$eval('figure[data-figure="matrix-1"] g.mark-rect.role-mark path', (cells) => cells.length),
      ).toBe(12);
      expect(problems).toEqual([]);
      expect(requests).toEqual([]);
      mkdirSync(SCREENSHOTS, { recursive: true });
      const shot = join(SCREENSHOTS, 'report-cl.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(readFileSync(shot).byteLength).toBeGreaterThan(50_000);
      console.log(`screenshot: ${shot}`);
    } finally {
      await browser.close();
    }
  });
});
