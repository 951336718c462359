// Augmentation on the backend: crops and flips exactly as drawn on the host
// (seeded), normalisation as the model's input everywhere, evaluation never
// randomly augmented, and bad options refused before training.
import { beforeAll, describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import randomCrop from '../../plugins/augmentations/random-crop.js';
import horizontalFlip from '../../plugins/augmentations/horizontal-flip.js';
import { runEvents } from '../../src/engine/session.js';
import { selectBackend, type BackendInfo } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import { Rng } from '../../src/tensor/rng.js';
import type { PluginContext } from '../../src/plugin/define-plugin.js';
import type { RunEvent } from '../../src/contracts/events.js';
import { tinyConfigs } from '../helpers.js';
import { ExperimentError } from '../../src/spec/validate.js';

let backend: BackendInfo;
beforeAll(async () => {
  backend = await selectBackend('auto');
});

const noCtx = {} as PluginContext;
/** n images of h×w×c with distinct values: value = 1000·i + 100·y + 10·x + ch. */
function images(n: number, h: number, w: number, c: number): number[][][][] {
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: h }, (_, y) =>
      Array.from({ length: w }, (_, x) => Array.from({ length: c }, (_, ch) => 1000 * i + 100 * y + 10 * x + ch)),
    ),
  );
}

describe('random-crop and horizontal-flip', () => {
  it('random-crop shifts each image by the offsets drawn on the host, with zero padding', async () => {
    const [n, h, w, c, p] = [5, 6, 7, 2, 2];
    const aug = await randomCrop.create({ padding: p }, noCtx);
    aug.planTask!(3, 8, new Rng(42));
    const host = images(n, h, w, c);
    const out = tf.tidy(() => aug.apply(tf.tensor4d(host), 2)).arraySync();
    // The same draws on the host: [steps, rows, (dy, dx)], step 2 is the second block.
    const rng = new Rng(42);
    const offsets = Array.from({ length: 3 * 8 * 2 }, () => rng.int(2 * p + 1));
    for (let i = 0; i < n; i++) {
      const [dy, dx] = [offsets[(8 + i) * 2], offsets[(8 + i) * 2 + 1]];
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          for (let ch = 0; ch < c; ch++) {
            const [sy, sx] = [y + dy - p, x + dx - p];
            const want = sy >= 0 && sy < h && sx >= 0 && sx < w ? host[i][sy][sx][ch] : 0;
            expect(out[i][y][x][ch]).toBe(want);
          }
    }
    aug.dispose!();
  });

  it('horizontal-flip mirrors exactly the images whose coin came up, p = 0 and p = 1 included', async () => {
    const host = images(6, 3, 4, 1);
    for (const prob of [0, 0.5, 1]) {
      const aug = await horizontalFlip.create({ p: prob }, noCtx);
      aug.planTask!(1, 6, new Rng(7));
      const rng = new Rng(7);
      const coins = Array.from({ length: 6 }, () => rng.next() < prob);
      const out = tf.tidy(() => aug.apply(tf.tensor4d(host), 1)).arraySync();
      for (let i = 0; i < 6; i++) expect(out[i]).toEqual(coins[i] ? host[i].map((row) => [...row].reverse()) : host[i]);
      if (prob === 0.5) expect(coins.some(Boolean) && !coins.every(Boolean)).toBe(true);
      aug.dispose!();
    }
  });
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
