// What the engine computes, pinned: a fixed set of small runs (strategies
// that add rows, loss terms, gradient stages and prediction overrides;
// anchored optimizers with a projection and a periodic phase; phases; a
// resumed checkpoint; a group trained together) and the digest of each
// run's evaluations and logged losses, per backend. A restructuring of the
// engine must leave every digest as it was. Record them anew only for a
// change that is meant to change results:
//   ANCHORAGE_RECORD_DIGESTS=1 ANCHORAGE_BACKEND=<backend> npx vitest run test/engine/session.digests.test.ts
import { beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { executeRuns } from '../../src/experiment/schedule.js';
import { readRows } from '../../src/results/tables.js';
import { selectBackend, type BackendInfo } from '../../src/tensor/backend.js';
import type { RunConfig } from '../../src/spec/spec.js';
import { ROOT, scratchDir, tinyConfigs } from '../helpers.js';

const FIXTURE = join(ROOT, 'test', 'fixtures', 'digests.json');
const RECORD = process.env.ANCHORAGE_RECORD_DIGESTS === '1';

const BASE = {
  name: 'digests',
  dataset: { name: 'synthetic', classes: 6, features: 12, trainPerClass: 40, testPerClass: 20, separation: 4 },
  stream: { name: 'split', tasksOf: 2 },
  model: { name: 'mlp', hidden: [24] },
  optimizer: { name: 'adamw', lr: 0.02 },
  train: { epochs: 3, batchSize: 16, logEvery: 4 },
};

const CASES: Record<string, object> = {
  naive: {},
  replay: { strategy: { name: 'replay', size: 30 } },
  ewc: { strategy: { name: 'ewc', lambda: 5, fisherSamples: 30 } },
  'der++': { strategy: { name: 'derpp', size: 30, alpha: 0.5, beta: 0.5 } },
  'a-gem': { strategy: { name: 'agem', size: 30 } },
  icarl: { strategy: { name: 'icarl', size: 30 } },
  ftp: { optimizer: { name: 'ftp', lr: 0.03, anchor: 'task-start' } },
  tpgm: { optimizer: { name: 'tpgm', lr: 0.03, valFraction: 0.25, projEvery: 2 } },
  'lp-ft': {
    phases: [
      { name: 'lp', steps: 6, train: ['head.*'] },
      { name: 'ft', steps: 12, optimizer: { name: 'ftp', lr: 0.03 } },
    ],
  },
  cnn: { dataset: { ...BASE.dataset, imageShape: [2, 2, 3] }, model: { name: 'cnn', channels: [4], hidden: 8 } },
};

/** One digest of a run's evaluations (every column but the run id) and its logged losses and learning rates. */
function digest(out: string, c: RunConfig): string {
  const dir = join(out, c.experiment, c.runId);
  const evals = readRows<Record<string, number | string | null>>(join(dir, 'evals.arrow')).map((r) => [
    r.trained_task,
    r.eval_task,
    r.eval_set,
    r.accuracy,
    r.loss,
    r.examples,
    r.alpha,
  ]);
  const steps = readRows<Record<string, number>>(join(dir, 'steps.arrow')).map((r) => [
    r.task,
    r.epoch,
    r.step,
    r.phase,
    r.loss,
    r.learning_rate,
  ]);
  // Numbers as their exact decimal text: any change of a bit changes the digest.
  const text = JSON.stringify({ evals, steps }, (_k, v: unknown) => (typeof v === 'number' ? v.toPrecision(17) : v));
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

let backend: BackendInfo;
const found: Record<string, string> = {};
const fixture: Record<string, Record<string, string>> = existsSync(FIXTURE)
  ? JSON.parse(readFileSync(FIXTURE, 'utf8'))
  : {};

beforeAll(async () => {
  backend = await selectBackend((process.env.ANCHORAGE_BACKEND as 'auto') ?? 'auto');
});

function check(name: string, value: string): void {
  found[name] = value;
  if (RECORD) return;
  expect(value, `${name} on ${backend.name}`).toBe(fixture[backend.name][name]);
}

const recorded = (): boolean => RECORD || fixture[backend?.name] !== undefined;

describe('evaluation digests are those recorded before the engine was restructured', () => {
  for (const [name, extra] of Object.entries(CASES)) {
    it(`${name}`, async (ctx) => {
      if (!recorded()) ctx.skip(`no digests recorded for the ${backend.name} backend`);
      const { configs, registry } = tinyConfigs({ ...BASE, ...extra });
      const out = scratchDir('digest');
      const [outcome] = await executeRuns(configs, registry, backend, { out });
      expect(outcome.status).toBe('completed');
      check(name, digest(out, configs[0]));
    });
  }

  it('a run interrupted within its second task and resumed from the checkpoint', async (ctx) => {
    if (!recorded()) ctx.skip(`no digests recorded for the ${backend.name} backend`);
    const { configs, registry } = tinyConfigs({
      ...BASE,
      strategy: { name: 'replay', size: 30 },
      checkpoint: { everySteps: 5 },
    });
    const out = scratchDir('digest-resume');
    const controller = new AbortController();
    const [first] = await executeRuns(configs, registry, backend, {
      out,
      signal: controller.signal,
      observe: (events) =>
        events.subscribe((e) => {
          if (e.type === 'step' && e.task === 1 && e.step >= 12) controller.abort();
        }),
    });
    expect(first.status).toBe('interrupted');
    const [second] = await executeRuns(configs, registry, backend, { out });
    expect(second.status).toBe('completed');
    const value = digest(out, configs[0]);
    // Resuming changes nothing: the digest is the uninterrupted replay run's.
    if (found.replay) expect(value).toBe(found.replay);
    check('resumed', value);
  });

  it('three runs trained together', async (ctx) => {
    if (!recorded()) ctx.skip(`no digests recorded for the ${backend.name} backend`);
    const { optimizer: _shared, ...base } = BASE;
    const { configs, registry } = tinyConfigs({
      ...base,
      name: 'digests-together',
      variants: [
        { strategy: { name: 'naive' }, optimizer: { name: 'adamw', lr: 0.02 } },
        { strategy: { name: 'ewc', lambda: 5, fisherSamples: 30 }, optimizer: { name: 'adamw', lr: 0.03 } },
        { strategy: { name: 'si', c: 0.5 }, optimizer: { name: 'adamw', lr: 0.01 } },
      ],
    });
    expect(configs).toHaveLength(3);
    const out = scratchDir('digest-together');
    const outcomes = await executeRuns(configs, registry, backend, { out, together: [configs] });
    expect(outcomes.map((o) => o.status)).toEqual(['completed', 'completed', 'completed']);
    for (const c of configs) {
      expect(JSON.parse(readFileSync(join(out, c.experiment, c.runId, 'run.json'), 'utf8')).together).toHaveLength(3);
    }
    check('together', configs.map((c) => digest(out, c)).join(','));
  });

  it.runIf(RECORD)('records the digests', () => {
    fixture[backend.name] = found;
    writeFileSync(FIXTURE, `${JSON.stringify(fixture, null, 2)}\n`);
  });
});
