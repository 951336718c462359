// Online continual learning from the command line, as a user runs it: a
// stream with hidden boundaries evaluated continually, the metrics `compare`
// derives, the report's curves, and every bad setting refused before training
// with one line naming its field, exit 2, leaving earlier results untouched.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readRows } from '../../src/results/tables.js';
import { runCli, scratchDir, writeExperiment } from '../helpers.js';
import { CHROMIUM, NO_CHROMIUM, SCREENSHOTS, drawnFigures, launchChromium } from './browser.js';

const SPEC = {
  name: 'online-cli',
  dataset: { name: 'synthetic', classes: 6, features: 16, trainPerClass: 40, testPerClass: 20, separation: 6 },
  stream: { name: 'split', tasksOf: 2 },
  model: { name: 'mlp', hidden: [24] },
  optimizer: { name: 'sgd', lr: 0.1 },
  train: { batchSize: 10, logEvery: 4 },
  online: { boundaries: 'hidden' },
  eval: { every: 4, subset: 15 },
  axes: {
    strategy: [
      { name: 'naive' },
      { name: 'replay', fill: 'online', size: 40, batchSize: 10 },
      { name: 'mir', size: 40 },
    ],
  },
};

describe('online continual learning from the command line', () => {
  const dir = scratchDir('online-cli');
  const out = join(dir, 'results');

  it('records continual evaluation, compares its metrics and draws the curves', () => {
    const run = runCli(['run', writeExperiment(dir, SPEC), '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    const runDirs = readdirSync(join(out, 'online-cli')).filter((d) => !d.startsWith('.'));
    expect(runDirs).toHaveLength(3);
    const evals = readRows<{ eval_set: string; step: number | null; seen: number | null; examples: number }>(
      join(out, 'online-cli', runDirs[0], 'evals.arrow'),
    );
    const continual = evals.filter((e) => e.eval_set === 'continual');
    expect(continual.length).toBeGreaterThan(3 * 6);
    expect(continual.every((e) => e.examples === 15 && e.step !== null && e.seen === e.step * 10)).toBe(true);

    const compared = runCli(['compare', out, '--by', 'strategy']);
    expect(compared.code, compared.stderr).toBe(0);
    expect(compared.stdout).toMatch(/AAA\s+A_AUC\s+min-ACC\s+WC-ACC\s+WF\^10\s+stability gap\s+LA\s+intransigence/);
    const json = JSON.parse(runCli(['compare', out, '--by', 'strategy', '--format', 'json']).stdout) as {
      groups: { strategy: string; continual: Record<string, { mean: number | null }> }[];
    };
    for (const g of json.groups) {
      for (const key of ['AAA', 'A_AUC', 'min-ACC', 'WC-ACC', 'LA'])
        expect(g.continual[key].mean, `${g.strategy} ${key}`).toBeGreaterThanOrEqual(0);
    }

    const report = runCli(['report', out]);
    expect(report.code, report.stderr).toBe(0);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/Accuracy of every task over training/);
    expect(html).toMatch(/Stability gap per task/);
  });

  const inBrowser = `the curves open in a real browser (${CHROMIUM}) with drawn lines and task switches`;
  it(`${inBrowser}; screenshot saved`, async (ctx) => {
    if (!existsSync(CHROMIUM)) ctx.skip(NO_CHROMIUM);
    const report = join(out, 'report.html');
    if (!existsSync(report)) expect(runCli(['report', out]).code).toBe(0);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(`file://${report}`);
      const figures = await drawnFigures(page);
      const curves = figures.filter((f) => f.id?.startsWith('anytime-'));
      // One figure per strategy; lines for three tasks and a rule per task switch.
      expect(curves).toHaveLength(3);
      for (const f of curves) {
        expect(f.width, f.id!).toBeGreaterThan(100);
        expect(f.items, f.id!).toBeGreaterThanOrEqual(3 + 2);
      }
      expect(figures.find((f) => f.id === 'stability-gap')?.items).toBeGreaterThanOrEqual(3 * 2);
      expect(problems).toEqual([]);
      mkdirSync(SCREENSHOTS, { recursive: true });
      const shot = join(SCREENSHOTS, 'report-online.png');
      await page.locator('figure[data-figure="anytime-1"]').screenshot({ path: shot });
      expect(readFileSync(shot).byteLength).toBeGreaterThan(10_000);
      console.log(`screenshot: ${shot}`);
    } finally {
      await browser.close();
    }
  });

  it('refuses bad online and continual-evaluation settings before training, one line each, exit 2', () => {
    const dir = scratchDir('online-bad');
    const out = join(dir, 'results');
    const cases: [object, RegExp][] = [
      [{ eval: { every: 0 } }, /eval\.every: must be an integer >= 1, got 0/],
      [{ eval: { every: 4, subset: 500 } }, /eval\.subset: 500 test examples per task, but task t0:\{0,1\} has 40/],
      [{ train: { batchSize: 500 } }, /train\.batchSize: 500 is larger than the stream: its 3 tasks have 240/],
      [{ online: {}, train: { batchSize: 100 } }, /train\.batchSize: 100 is larger than task t0:\{0,1\}, which has 80/],
      [{ stream: { name: 'blurry', tasks: 3, blurry: 150 } }, /stream\.blurry: must be >= 0 and <= 100, got 150/],
      [{ strategy: { name: 'ewc' } }, /strategy: strategy 'ewc' needs task boundaries, which stream 'split' with/],
      [{ online: { boundaries: 'hidden', transition: 100 } }, /online\.transition: a transition of 100 examples/],
    ];
    for (const [change, message] of cases) {
      const { axes: _axes, ...base } = SPEC;
      const file = writeExperiment(dir, { ...base, ...change });
      const r = runCli(['run', file, '--out', out]);
      expect(r.code, JSON.stringify(change)).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(existsSync(out)).toBe(false);
    }
  });
});
