// A run stopped within a task resumes from its checkpoint and ends with the
// very tables an uninterrupted run writes: every strategy (memories,
// importances, reservoirs on the backend, a previous model, exemplar means,
// a model reset) and every kind of optimizer state (moments, FTP's
// projection from a per-task anchor, TPGM's validation phase).
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { executeRuns } from '../../src/experiment/schedule.js';
import { checkpointDir } from '../../src/checkpoint/store.js';
import { readRows } from '../../src/results/tables.js';
import { selectBackend, type BackendInfo } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import { Rng } from '../../src/tensor/rng.js';
import type { RunEvent } from '../../src/contracts/events.js';
import { scratchDir, tinyConfigs } from '../helpers.js';

let backend: BackendInfo;
beforeAll(async () => {
  backend = await selectBackend('auto');
});

const BASE = {
  name: 'resume',
  dataset: { name: 'synthetic', classes: 6, features: 12, trainPerClass: 40, testPerClass: 20, separation: 4 },
  stream: { name: 'split', tasksOf: 2 },
  model: { name: 'mlp', hidden: [24] },
  optimizer: { name: 'adamw', lr: 0.02 },
  train: { epochs: 6, batchSize: 16, logEvery: 4 },
  // Periodic checkpoints every 7 steps as well as the one written on the stop.
  checkpoint: { everySteps: 7 },
};

const CASES: [string, object][] = [
  [
    'replay + ewc',
    {
      strategies: [
        { name: 'replay', size: 30 },
        { name: 'ewc', lambda: 5, fisherSamples: 30 },
      ],
    },
  ],
  ['der++', { strategy: { name: 'derpp', size: 30, alpha: 0.5, beta: 0.5 }, optimizer: { name: 'sgd', lr: 0.05 } }],
  ['er-ace', { strategy: { name: 'er-ace', size: 30 } }],
  [
    'si + lwf',
    {
      strategies: [
        { name: 'si', c: 0.5 },
        { name: 'lwf', alpha: 1 },
      ],
    },
  ],
  ['mas', { strategy: { name: 'mas', lambda: 0.5, samples: 40 } }],
  ['rwalk', { strategy: { name: 'rwalk', lambda: 0.5 } }],
  ['dgr (generator in the step state)', { strategy: { name: 'dgr', recon: 'mse', latent: 4, hidden: [16] } }],
  ['dgr, distilled', { strategy: { name: 'dgr', recon: 'mse', latent: 4, hidden: [16], targets: 'soft' } }],
  ['a-gem', { strategy: { name: 'agem', size: 30 } }],
  ['gem', { strategy: { name: 'gem', size: 30 } }],
  ['icarl', { strategy: { name: 'icarl', size: 30 } }],
  ['gdumb', { strategy: { name: 'gdumb', size: 80 } }],
  ['ftp, anchored at each task', { optimizer: { name: 'ftp', lr: 0.03, anchor: 'task-start' } }],
  [
    'random crops and flips',
    {
      dataset: { ...BASE.dataset, imageShape: [3, 4, 1] },
      augment: [{ name: 'random-crop', padding: 1 }, { name: 'horizontal-flip' }],
    },
  ],
  ['dropout', { model: { name: 'mlp', hidden: [24], dropout: 0.3 } }],
  [
    'batch norm (resnet18)',
    {
      dataset: { ...BASE.dataset, imageShape: [2, 2, 3] },
      model: { name: 'resnet18', width: 3, blocks: [1, 1] },
      train: { ...BASE.train, epochs: 4 },
    },
  ],
  ['a linear probe (train.params)', { train: { ...BASE.train, params: ['head.*'] } }],
  [
    'lp-ft phases, stopped in the second',
    {
      phases: [
        { name: 'lp', steps: 6, train: ['head.*'] },
        { name: 'ft', steps: 20, optimizer: { name: 'ftp', lr: 0.03 } },
      ],
    },
  ],
  ['tpgm (validation phase)', { optimizer: { name: 'tpgm', lr: 0.03, valFraction: 0.25, projEvery: 2 } }],
];

/** The tables' deterministic content: evals whole; steps and constraints without the throughput column. */
function tables(dir: string) {
  const [run] = readdirSync(dir).filter((d) => !d.startsWith('.'));
  const at = join(dir, run);
  return {
    evals: readFileSync(join(at, 'evals.arrow')),
    steps: readRows<Record<string, number>>(join(at, 'steps.arrow')).map(({ examples_per_second: _e, ...r }) => r),
    constraints: readRows<Record<string, number>>(join(at, 'constraints.arrow')),
    record: JSON.parse(readFileSync(join(at, 'run.json'), 'utf8')) as {
      status: string;
      timings: { steps: number };
      checkpoints: { resumedFrom: { task: number; step: number } | null };
    },
  };
}

describe('resume within a task reproduces the uninterrupted run', () => {
  const pick = new Rng(2026);
  for (const [label, extra] of CASES) {
    it(`${label}: evals.arrow byte for byte, steps and constraints row for row`, async () => {
      const { configs, registry } = tinyConfigs({ ...BASE, ...extra });
      const config = configs[0];
      const root = scratchDir('resume');
      const whole = join(root, 'whole');
      await executeRuns(configs, registry, backend, { out: whole });

      // Stop at a random step of the second task (after its first periodic checkpoint, well before its end: its tasks
      // have 24 to 30 steps).
      const parted = join(root, 'parted');
      const stopAt = 9 + pick.int(10);
      const controller = new AbortController();
      const before = tf.memory().numTensors;
      const first = await executeRuns(configs, registry, backend, {
        out: parted,
        signal: controller.signal,
        observe: (events) =>
          events.subscribe((e: RunEvent) => {
            if (e.type === 'step' && e.task === 1 && e.step >= stopAt) controller.abort();
          }),
      });
      expect(first[0].status).toBe('interrupted');
      expect(tf.memory().numTensors).toBe(before);
      const kept = checkpointDir(parted, config.experiment, config.runId);
      const position = JSON.parse(readFileSync(join(kept, 'position.json'), 'utf8')) as {
        task: number;
        mid: { step: number } | null;
      };
      expect(position.task).toBe(1);
      expect(position.mid!.step).toBeGreaterThanOrEqual(stopAt);

      const second = await executeRuns(configs, registry, backend, { out: parted });
      expect(second[0].status).toBe('completed');
      expect(tf.memory().numTensors).toBe(before);
      expect(existsSync(kept)).toBe(false); // removed once the run completed

      const a = tables(join(whole, config.experiment));
      const b = tables(join(parted, config.experiment));
      expect(b.record.checkpoints.resumedFrom).toEqual({ task: 1, step: position.mid!.step });
      expect(Buffer.compare(a.evals, b.evals)).toBe(0);
      expect(b.steps).toEqual(a.steps);
      expect(b.constraints).toEqual(a.constraints);
      expect(b.record.timings.steps).toBe(a.record.timings.steps);
    });
  }
});
