// Augmentation in runs: normalisation is the model's input everywhere, evaluation is never randomly augmented, and
// bad options are refused before training.
import { beforeAll, describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import { runEvents } from '../../src/engine/session.js';
import { selectBackend, type BackendInfo } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import type { RunEvent } from '../../src/contracts/events.js';
import { tinyConfigs } from '../helpers.js';
import { ExperimentError } from '../../src/spec/validate.js';

let backend: BackendInfo;
beforeAll(async () => {
  backend = await selectBackend('auto');
});

const IMAGES = {
  name: 'augment',
  dataset: {
    name: 'synthetic',
    classes: 4,
    features: 64,
    trainPerClass: 30,
    testPerClass: 20,
    separation: 4,
    imageShape: [8, 8, 1],
  },
  stream: { name: 'split', tasksOf: 2 },
  model: { name: 'mlp', hidden: [16] },
  optimizer: { name: 'adamw', lr: 0.02 },
  train: { epochs: 2, batchSize: 16, logEvery: 4 },
};
const run = async (extra: object, seed = 0) => {
  const { configs, registry } = tinyConfigs({ ...IMAGES, ...extra }, [seed]);
  const before = tf.memory().numTensors;
  const events: RunEvent[] = await lastValueFrom(runEvents(configs[0], registry, backend).pipe(toArray()));
  expect(events.at(-1), JSON.stringify(events.at(-1))).toMatchObject({ type: 'run-end', status: 'completed' });
  expect(tf.memory().numTensors).toBe(before);
  return events;
};
const evals = (events: RunEvent[], trained?: number) =>
  events.flatMap((e) =>
    e.type === 'eval' && (trained === undefined || e.trainedTask === trained) ? [[e.accuracy, e.loss]] : [],
  );
const losses = (events: RunEvent[]) => events.flatMap((e) => (e.type === 'step' ? [e.loss] : []));

describe('augmentation in runs', () => {
  const RANDOM = { augment: [{ name: 'random-crop', padding: 1 }, { name: 'horizontal-flip' }] };

  it(
    'trains leak-free; the same seed gives the same crops ' + 'and flips (identical runs), and they change training',
    async () => {
      const a = await run(RANDOM);
      const b = await run(RANDOM);
      expect(losses(a)).toEqual(losses(b));
      expect(evals(a)).toEqual(evals(b));
      // Same initial weights and data order (seed 0), different augmentation: the training losses differ.
      const plain = await run({});
      expect(losses(plain)).not.toEqual(losses(a));
    },
  );

  it(
    'evaluation is never randomly augmented: the untrained ' + 'model scores the same with and without crops and flips',
    async () => {
      expect(evals(await run(RANDOM), -1)).toEqual(evals(await run({}), -1));
    },
  );

  it("normalize is the model's input at evaluation too: the untrained model scores differently with it", async () => {
    const normalized = await run({ augment: [{ name: 'normalize', mean: [0.5], std: [0.25] }] });
    expect(evals(normalized, -1)).not.toEqual(evals(await run({}), -1));
    const described = normalized.find((e) => e.type === 'run-start') as Extract<RunEvent, { type: 'run-start' }>;
    expect(described.model).toMatch(/; input normalize$/);
  });

  it('bad options are refused before training, naming the field', () => {
    const bad = (augment: object[]) => {
      try {
        tinyConfigs({ ...IMAGES, augment });
        return '';
      } catch (e) {
        return (e as ExperimentError).message;
      }
    };
    expect(bad([{ name: 'normalize', mean: [0.5, 0.5], std: [0.25] }])).toContain(
      'augment[0].std: has 1 values but mean has 2',
    );
    expect(bad([{ name: 'random-crop', padding: 0 }])).toContain('augment[0].padding');
    expect(bad([{ name: 'rotate' }])).toContain(
      "augment[0].name: unknown augmentation 'rotate'; registered: horizontal-flip, normalize, random-crop",
    );
  });
});
