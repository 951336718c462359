// The split stream: tasks by explicit class lists or by a seeded class order.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { PluginContext } from '../../../src/plugin/define-plugin.js';
import type { OptionSchema } from '../../../src/plugin/options.js';
import { resolveOptions } from '../../../src/plugin/options.js';
import type { Dataset } from '../../../src/contracts/data.js';
import { Rng } from '../../../src/tensor/rng.js';
import split from '../../../plugins/streams/split.js';

function ctxWith(dataset: Dataset | undefined, dir = '/'): PluginContext {
  return {
    seed: 0,
    rng: (label) => new Rng(0).fork(label),
    resolve: async (kind) => {
      if (kind === 'dataset' && dataset) return dataset as never;
      throw new Error(`no ${kind}`);
    },
    resolvePath: (p) => join(dir, p),
    problem: async () => ({ featureShape: [], outputs: 0, batchSize: 1 }),
  };
}

/** 4 images 3×3×1, pixel i of image e = 10e + i, labels 0..3. */
const IMAGES: Dataset = {
  name: 'tiny',
  featureShape: [3, 3, 1],
  numClasses: 4,
  train: {
    features: Float32Array.from({ length: 36 }, (_, k) => 10 * Math.floor(k / 9) + (k % 9)),
    labels: Int32Array.from([0, 1, 2, 3]),
    count: 4,
  },
  test: {
    features: Float32Array.from({ length: 36 }, (_, k) => 100 + k),
    labels: Int32Array.from([0, 1, 2, 3]),
    count: 4,
  },
};

const create = async <T>(
  plugin: { options: OptionSchema; create: (o: never, c: PluginContext) => T | Promise<T> },
  input: object,
  ctx: PluginContext,
) => {
  const { options, problems } = resolveOptions(plugin.options, input as Record<string, unknown>, 'x');
  expect(problems).toEqual([]);
  return plugin.create(options as never, ctx);
};

describe('split stream', () => {
  it('splits by explicit class lists and by seeded class order', async () => {
    const explicit = await create(split, { tasks: [[3, 0], [1]] }, ctxWith(IMAGES));
    expect(explicit.tasks.map((t) => [t.classes, t.train.count, Array.from(t.train.labels)])).toEqual([
      [[3, 0], 2, [0, 3]],
      [[1], 1, [1]],
    ]);
    const seeded = await create(split, { tasksOf: 2, classOrder: 'seeded' }, ctxWith(IMAGES));
    expect(seeded.tasks.flatMap((t) => t.classes).sort()).toEqual([0, 1, 2, 3]);
  });
});
