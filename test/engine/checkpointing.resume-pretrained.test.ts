// The methods on a pre-trained backbone resume exactly: stopped after the first task (SimpleCIL's and APER's
// prototypes, RanPAC's float64 Gram matrices and chosen λ, SLCA's class Gaussians and aligned head come back from
// the task-boundary checkpoint) or within the second task (SLCA's slow learner), a resumed run writes the very
// evals.arrow and steps an uninterrupted one writes.
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { executeRuns } from '../../src/experiment/schedule.js';
import { readRows } from '../../src/results/tables.js';
import { selectBackend, type BackendInfo } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import type { RunEvent } from '../../src/contracts/events.js';
import { scratchDir, tinyConfigs } from '../helpers.js';
import { pretrainBackbone, targetSpec } from '../plugins/strategies/fixture-pretrained.js';

let backend: BackendInfo;
let backbone: string;
beforeAll(async () => {
  backend = await selectBackend('auto');
  backbone = await pretrainBackbone(backend);
});

function tables(dir: string) {
  const [run] = readdirSync(dir).filter((d) => !d.startsWith('.'));
  const at = join(dir, run);
  return {
    evals: readFileSync(join(at, 'evals.arrow')),
    steps: readRows<Record<string, number>>(join(at, 'steps.arrow')).map(({ examples_per_second: _e, ...r }) => r),
    resumedFrom: (JSON.parse(readFileSync(join(at, 'run.json'), 'utf8')) as { checkpoints: { resumedFrom: unknown } })
      .checkpoints.resumedFrom,
  };
}

/** Where a run stops: after the first task's evaluation, or at a step of the second task. */
type Stop = { afterTask: 0 } | { step: number };

const CASES: [string, object, Stop][] = [
  ['simplecil', { name: 'simplecil' }, { afterTask: 0 }],
  ['ranpac', { name: 'ranpac', projection: 64 }, { afterTask: 0 }],
  ['aper', { name: 'aper' }, { afterTask: 0 }],
  ['slca, between tasks', { name: 'slca', samples: 32, alignEpochs: 2 }, { afterTask: 0 }],
  ['slca, within a task', { name: 'slca', samples: 32, alignEpochs: 2 }, { step: 7 }],
];

describe('methods on a pre-trained backbone resume exactly', () => {
  for (const [label, strategy, stop] of CASES) {
    it(`${label}: evals.arrow byte for byte, steps row for row`, async () => {
      const spec = targetSpec(backbone, { strategy, checkpoint: { everySteps: 5 } });
      const { configs, registry } = tinyConfigs(spec);
      const root = scratchDir('resume-pretrained');
      await executeRuns(configs, registry, backend, { out: join(root, 'whole') });
      const parted = join(root, 'parted');
      const controller = new AbortController();
      const before = tf.memory().numTensors;
      const first = await executeRuns(configs, registry, backend, {
        out: parted,
        signal: controller.signal,
        observe: (events) =>
          events.subscribe((e: RunEvent) => {
            if (
              'afterTask' in stop
                ? e.type === 'eval' && e.trainedTask === 0
                : e.type === 'step' && e.task === 1 && e.step >= stop.step
            )
              controller.abort();
          }),
      });
      expect(first[0].status).toBe('interrupted');
      const second = await executeRuns(configs, registry, backend, { out: parted });
      expect(second[0].status).toBe('completed');
      expect(tf.memory().numTensors).toBe(before);
      const a = tables(join(root, 'whole', configs[0].experiment));
      const b = tables(join(parted, configs[0].experiment));
      expect(b.resumedFrom).toMatchObject({ task: 1 });
      expect(Buffer.compare(a.evals, b.evals)).toBe(0);
      expect(b.steps).toEqual(a.steps);
    });
  }
});
