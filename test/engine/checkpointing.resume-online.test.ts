// An online run stopped partway resumes exactly like any other: with
// boundaries hidden (the whole stream one task, the boundary evaluations and
// continual evaluation's rows written before the stop kept once), and with
// boundaries given. Strategies that keep their memory on the backend and
// draw it before the stream (MIR, GSS, ER-ACE, online replay) included.
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { executeRuns } from '../../src/experiment/schedule.js';
import { readRows } from '../../src/results/tables.js';
import { selectBackend, type BackendInfo } from '../../src/tensor/backend.js';
import type { RunEvent } from '../../src/contracts/events.js';
import { scratchDir, tinyConfigs } from '../helpers.js';

let backend: BackendInfo;
beforeAll(async () => {
  backend = await selectBackend('auto');
});

// Three tasks of 80 examples in steps of 8: 30 steps; checkpoints every 4 steps, continual evaluation every 3.
const BASE = {
  name: 'resume-online',
  dataset: { name: 'synthetic', classes: 6, features: 12, trainPerClass: 40, testPerClass: 20, separation: 4 },
  stream: { name: 'split', tasksOf: 2 },
  model: { name: 'mlp', hidden: [24] },
  optimizer: { name: 'sgd', lr: 0.1 },
  train: { batchSize: 8, logEvery: 2 },
  online: { boundaries: 'hidden', transition: 16 },
  eval: { every: 3, subset: 10 },
  checkpoint: { everySteps: 4 },
};

const CASES: [string, object][] = [
  ['mir, boundaries hidden', { strategy: { name: 'mir', size: 24, candidates: 12 } }],
  ['gss, boundaries hidden', { strategy: { name: 'gss', size: 24 } }],
  ['er-ace, boundaries hidden', { strategy: { name: 'er-ace', size: 24 } }],
  ['online replay, boundaries given', { online: {}, strategy: { name: 'replay', fill: 'online', size: 24 } }],
];

function tables(dir: string) {
  const [run] = readdirSync(dir).filter((d) => !d.startsWith('.'));
  return {
    record: JSON.parse(readFileSync(join(dir, run, 'run.json'), 'utf8')) as {
      checkpoints: { resumedFrom: { task: number; step: number } | null };
    },
    evals: readFileSync(join(dir, run, 'evals.arrow')),
    steps: readRows<Record<string, number>>(join(dir, run, 'steps.arrow')).map(
      ({ examples_per_second: _e, ...r }) => r,
    ),
  };
}

describe('an interrupted online run resumes exactly', () => {
  for (const [label, extra] of CASES) {
    it(`${label}: evals.arrow byte for byte, steps row for row`, async () => {
      const { configs, registry } = tinyConfigs({ ...BASE, ...extra });
      const root = scratchDir('resume-online');
      await executeRuns(configs, registry, backend, { out: join(root, 'whole') });
      const parted = join(root, 'parted');
      const controller = new AbortController();
      const first = await executeRuns(configs, registry, backend, {
        out: parted,
        signal: controller.signal,
        observe: (events) =>
          events.subscribe((e: RunEvent) => {
            // Past the first boundary of the stream (step 10), between checkpoints.
            if (e.type === 'step' && e.task + e.step / 10 >= 1.4) controller.abort();
          }),
      });
      expect(first[0].status).toBe('interrupted');
      const second = await executeRuns(configs, registry, backend, { out: parted });
      expect(second[0].status).toBe('completed');
      const a = tables(join(root, 'whole', configs[0].experiment));
      const b = tables(join(parted, configs[0].experiment));
      // Resumed from a checkpoint within the stream (or the second task), not from the start.
      expect(b.record.checkpoints.resumedFrom!.step).toBeGreaterThan(0);
      expect(Buffer.compare(a.evals, b.evals)).toBe(0);
      expect(b.steps).toEqual(a.steps);
    });
  }
});
