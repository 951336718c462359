// A backbone pre-trained on four classes of a synthetic data set, and the
// class-incremental stream of its four other classes that the methods on a
// pre-trained model learn (two tasks of two): a disjoint source, as LAMDA-PILOT's
// protocol has it, at the size of a unit test.
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { expect } from 'vitest';
import { runEvents } from '../../../src/engine/session.js';
import type { BackendInfo } from '../../../src/tensor/backend.js';
import { scratchDir, tinyConfigs } from '../../helpers.js';
import { runToSummary, type RunSummary } from '../../run-summary.js';

export const DATA = {
  name: 'synthetic',
  classes: 8,
  features: 16,
  trainPerClass: 60,
  testPerClass: 30,
  separation: 5,
};

/** Pre-trains the backbone (an MLP 16-32-32) on classes 0–3 and returns the folder of its saved Layers model. */
export async function pretrainBackbone(backend: BackendInfo): Promise<string> {
  const dir = scratchDir('backbone');
  const { configs, registry } = tinyConfigs({
    name: 'source',
    dataset: DATA,
    stream: { name: 'split', tasks: [[0, 1, 2, 3]] },
    model: { name: 'mlp', hidden: [32, 32] },
    optimizer: { name: 'adamw', lr: 0.01 },
    train: { epochs: 4, batchSize: 32, logEvery: 10 },
    saveModel: 'backbone',
  });
  const events = await lastValueFrom(runEvents(configs[0], registry, backend, { out: dir }).pipe(toArray()));
  expect(events.at(-1)).toMatchObject({ type: 'run-end', status: 'completed' });
  return join(dir, 'backbone');
}

/** The target stream: classes 4–7 in two tasks, class-incremental, on the backbone with a new head. */
export function targetSpec(backbone: string, extra: object = {}): object {
  return {
    name: 'target',
    dataset: DATA,
    stream: {
      name: 'split',
      tasks: [
        [4, 5],
        [6, 7],
      ],
    },
    model: { name: 'pretrained', path: backbone },
    optimizer: { name: 'sgd', lr: 0.05, momentum: 0.9 },
    train: { epochs: 2, batchSize: 20, logEvery: 5 },
    ...extra,
  };
}

/** Runs one configuration of `spec` to completion with flat memory. */
export const runTarget = (spec: object, backend: BackendInfo): Promise<RunSummary> => runToSummary(spec, backend);
