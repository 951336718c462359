// `anchorage soup`: uniform and greedy model soups of runs fine-tuned from one
// pre-trained model, evaluated and written as runs that compare reads; and
// the soups that cannot be made (no saved weights, other pre-trained models,
// greedy without validation data) refused before anything is written.
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { readRows, type EvalRow } from '../../src/results/tables.js';
import { averageWeights, checkIngredients, cookSoups, type Ingredient } from '../../src/soup/soup.js';
import { selectBackend } from '../../src/tensor/backend.js';
import { PluginRegistry } from '../../src/plugin/registry.js';
import { builtinPlugins } from '../../plugins/index.js';
import type { RunConfig } from '../../src/spec/spec.js';
import { runCli, scratchDir, writeExperiment, regex } from '../helpers.js';

const DATA = { name: 'synthetic', classes: 4, features: 16, trainPerClass: 60, testPerClass: 20, separation: 2.5 };

let dir: string;
let out: string;
beforeAll(() => {
  dir = scratchDir('soup');
  out = join(dir, 'results');
  const pre = runCli([
    'run',
    writeExperiment(
      dir,
      {
        name: 'pre',
        dataset: { ...DATA, separation: 4 },
        stream: { name: 'split', tasks: [[0, 1, 2, 3]] },
        model: { name: 'mlp', hidden: [16] },
        optimizer: { name: 'adamw', lr: 0.02 },
        train: { epochs: 3, batchSize: 16 },
        saveModel: 'backbones/{seed}',
        seeds: [0, 1],
      },
      'pre.ts',
    ),
    '--out',
    out,
    '--quiet',
  ]);
  expect(pre.code, pre.stderr).toBe(0);
});

const FINE = {
  name: 'fine',
  dataset: DATA,
  stream: { name: 'shifted', shifts: ['inversion-5'] },
  model: { name: 'pretrained', path: 'results/backbones/0', head: 'keep' },
  axes: {
    optimizer: [
      { name: 'adamw', lr: 0.003 },
      { name: 'adamw', lr: 0.03 },
    ],
  },
  eval: { ood: [{ corruption: 'inversion', severity: 5 }] },
  train: { steps: 80, batchSize: 16, logEvery: 20 },
  select: { validation: 0.2 },
  saveModel: 'fine-models/{runId}',
  seeds: [0, 1],
};

const runsOf = (experiment: string) =>
  readdirSync(join(out, experiment)).filter(
    (d) => !d.startsWith('.') && existsSync(join(out, experiment, d, 'run.json')),
  );

/** Runs the CLI and expects it to succeed, showing what it said when it does not. */
function expectRan(args: string[]): void {
  const r = runCli(args);
  expect(r.code, r.stderr || r.stdout).toBe(0);
}

describe('anchorage soup', () => {
  it(
    'writes the uniform and the greedy soup as runs: every eval set scored, the ingredients and the greedy trace ' +
      'recorded; compare lists them apart',
    () => {
      expectRan(['run', writeExperiment(dir, FINE, 'fine.ts'), '--out', out, '--quiet']);
      const r = runCli(['soup', join(out, 'fine'), '--greedy']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/experiment=fine, optimizer=adamw\s+uniform\s+4 of 4/);
      expect(r.stdout).toMatch(/greedy\s+[1-4] of 4/);
      const soups = runsOf('fine').filter((d) => d.startsWith('soup-'));
      expect(soups.map((d) => d.split('-')[1]).sort()).toEqual(['greedy', 'uniform']);
      for (const s of soups) {
        const record = JSON.parse(readFileSync(join(out, 'fine', s, 'run.json'), 'utf8'));
        expect(record.status).toBe('completed');
        const soup = record.config.soup;
        expect(soup.candidates).toHaveLength(4);
        // Candidates best first on the soup's validation data (held out by the first run, trained on by none).
        const scores = soup.candidates.map((c: { validation: number }) => c.validation);
        expect(scores).toEqual([...scores].sort((a: number, b: number) => b - a));
        expect(soup.validationExamples[0]).toBeGreaterThan(0);
        if (soup.kind === 'uniform') expect(soup.ingredients).toHaveLength(4);
        else {
          expect(soup.trace).toHaveLength(4);
          expect(soup.ingredients).toEqual(
            soup.trace.filter((t: { kept: boolean }) => t.kept).map((t: { runId: string }) => t.runId),
          );
          expect(soup.ingredients[0]).toBe(soup.candidates[0].runId);
          // Greedy never ends below its best ingredient on validation data, and here that is a model that learned the
          // target.
          expect(
            Math.max(
              ...soup.trace.filter((t: { kept: boolean }) => t.kept).map((t: { accuracy: number }) => t.accuracy),
            ),
          ).toBeGreaterThanOrEqual(soup.candidates[0].validation);
          const test = readRows<EvalRow>(join(out, 'fine', s, 'evals.arrow')).filter(
            (e) => e.eval_set === 'test' && e.trained_task === 0,
          );
          expect(test[0].accuracy).toBeGreaterThan(0.5);
        }
        const evals = readRows<EvalRow>(join(out, 'fine', s, 'evals.arrow'));
        for (const set of ['test', 'validation', 'ood:inversion-5']) {
          expect(
            evals
              .filter((e) => e.eval_set === set)
              .map((e) => e.trained_task)
              .sort(),
          ).toEqual([-1, 0]);
        }
      }
      const cmp = runCli(['compare', join(out, 'fine'), '--by', 'optimizer', '--format', 'json']);
      expect(cmp.code).toBe(0);
      const groups = JSON.parse(cmp.stdout).groups as { optimizer: string; soup: string; runs: string[] }[];
      expect(groups.map((g) => [g.soup, g.runs.length])).toEqual(
        expect.arrayContaining([
          ['-', 4],
          ['uniform (4 of 4)', 1],
        ]),
      );
      // Run again: the same soups, replaced in place.
      expect(runCli(['soup', join(out, 'fine'), '--greedy']).code).toBe(0);
      expect(runsOf('fine').filter((d) => d.startsWith('soup-'))).toHaveLength(2);
    },
  );

  it("a soup of one run's weights twice scores exactly as that run", async () => {
    const [id] = runsOf('fine').filter((d) => !d.startsWith('soup-'));
    const record = JSON.parse(readFileSync(join(out, 'fine', id, 'run.json'), 'utf8'));
    const run: Ingredient = { runId: id, dir: join(out, 'fine', id), config: record.config as RunConfig };
    const runs = [run, { ...run, runId: `${id}-again` }];
    const weights = checkIngredients('twice', runs, () => out, ['uniform']);
    expect(averageWeights(weights).get('fc1.weight')!.values).toEqual(weights[0].get('fc1.weight')!.values);
    const [soup] = await cookSoups({ label: 'twice', runs, weights }, ['uniform'], {
      registry: new PluginRegistry(builtinPlugins),
      backend: await selectBackend('auto'),
      root: join(dir, 'twice'),
    });
    const own = readRows<EvalRow>(join(run.dir, 'evals.arrow')).filter(
      (e) => e.eval_set === 'test' && e.trained_task === 0,
    );
    const souped = readRows<EvalRow>(join(soup.dir, 'evals.arrow')).filter(
      (e) => e.eval_set === 'test' && e.trained_task === 0,
    );
    expect(souped.map((e) => [e.accuracy, e.loss])).toEqual(own.map((e) => [e.accuracy, e.loss]));
  });

  it(
    'runs without saved weights, from other pre-trained models or from different random starts, and a greedy soup ' +
      'without validation data are refused; nothing is written',
    () => {
      const cases: [string, object, string[], RegExp][] = [
        [
          'unsaved',
          { ...FINE, name: 'unsaved', saveModel: undefined },
          [],
          /runs .* saved no final weights \(give the experiment `saveModel`/,
        ],
        [
          'two-backbones',
          {
            ...FINE,
            name: 'two-backbones',
            model: undefined,
            axes: {
              model: [
                { name: 'pretrained', path: 'results/backbones/0', head: 'keep' },
                { name: 'pretrained', path: 'results/backbones/1', head: 'keep' },
              ],
            },
            optimizer: { name: 'adamw', lr: 0.01 },
            seeds: [0],
          },
          ['--by', 'experiment'],
          regex(
            /start from another model \(pretrained .*backbones\/1.*\) /,
            /than .*; a soup averages runs of one pre-trained model/,
          ),
        ],
        [
          'from-scratch',
          {
            ...FINE,
            name: 'from-scratch',
            model: { name: 'mlp', hidden: [16] },
            stream: { name: 'split', tasks: [[0, 1, 2, 3]] },
            axes: undefined,
            optimizer: { name: 'adamw', lr: 0.01 },
          },
          [],
          regex(
            /runs \S+ started from other weights than \S+ \(seeds 0, 1, no common pre-trained model\); /,
            /a soup averages/,
          ),
        ],
        [
          'no-validation',
          {
            ...FINE,
            name: 'no-validation',
            select: undefined,
            axes: undefined,
            optimizer: { name: 'adamw', lr: 0.01 },
          },
          ['--greedy'],
          /a greedy soup ranks runs on held-out validation data; .* held none out/,
        ],
      ];
      for (const [name, spec, flags, message] of cases) {
        expectRan(['run', writeExperiment(dir, spec, `${name}.ts`), '--out', out, '--quiet']);
        const before = runsOf(name).length;
        const r = runCli(['soup', join(out, name), ...flags]);
        expect(r.code, r.stdout).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(runsOf(name)).toHaveLength(before);
      }
    },
  );

  it('damaged or deleted saved weights are named, not blamed on saveModel; nothing is written', () => {
    const spec = { ...FINE, name: 'damaged', axes: undefined, optimizer: { name: 'adamw', lr: 0.01 } };
    expectRan(['run', writeExperiment(dir, spec, 'damaged.ts'), '--out', out, '--quiet']);
    const [first] = runsOf('damaged');
    const weights = join(out, 'fine-models', first);
    const bin = readdirSync(weights).find((f) => f.endsWith('.bin'))!;
    truncateSync(join(weights, bin), 100);
    const truncated = runCli(['soup', join(out, 'damaged')]);
    expect(truncated.code).toBe(2);
    expect(truncated.stderr).toMatch(new RegExp(`the saved weights of ${first} in \\S+ do not read back`));
    rmSync(weights, { recursive: true });
    const deleted = runCli(['soup', join(out, 'damaged')]);
    expect(deleted.code).toBe(2);
    expect(deleted.stderr).toMatch(
      new RegExp(`the saved weights of ${first} are missing .*train it again with --rerun`),
    );
    expect(runsOf('damaged').filter((d) => d.startsWith('soup-'))).toEqual([]);
  });

  it('a soup of a multi-task experiment is compared and reported as a method, not as an unreadable run', () => {
    const spec = {
      ...FINE,
      name: 'two-tasks',
      stream: { name: 'split', tasksOf: 2 },
      axes: undefined,
      optimizer: { name: 'adamw', lr: 0.01 },
    };
    expectRan(['run', writeExperiment(dir, spec, 'two-tasks.ts'), '--out', out, '--quiet']);
    expect(runCli(['soup', join(out, 'two-tasks')]).code).toBe(0);
    const compared = runCli(['compare', join(out, 'two-tasks'), '--format', 'json']);
    expect(compared.code, compared.stderr).toBe(0);
    type Metric = { mean: number | null };
    const json = JSON.parse(compared.stdout) as {
      groups: ({ soup?: string; meanAccuracyMatrix?: unknown } & Record<string, unknown>)[];
      notComplete: unknown[];
    };
    expect(json.notComplete).toEqual([]);
    const soup = json.groups.find((g) => g.soup?.startsWith('uniform'))!;
    // One model after the last task: its accuracy is defined, its forgetting is not (and is not made up).
    expect((soup.ACC as Metric).mean).toBeGreaterThan(0);
    expect((soup.forgetting_best_minus_final as Metric).mean).toBeNull();
    expect(soup.meanAccuracyMatrix).toBeUndefined();
    const reported = runCli(['report', join(out, 'two-tasks')]);
    expect(reported.code, reported.stderr).toBe(0);
    const html = readFileSync(join(out, 'two-tasks', 'report.html'), 'utf8');
    expect(html).toContain('uniform (2 of 2)');
    expect(html).not.toContain('Runs not averaged');
  });
});
