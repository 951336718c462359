// The permuted stream: each task is the whole data set under its own seeded pixel permutation.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { PluginContext } from '../../../src/plugin/define-plugin.js';
import type { OptionSchema } from '../../../src/plugin/options.js';
import { resolveOptions } from '../../../src/plugin/options.js';
import type { Dataset } from '../../../src/contracts/data.js';
import { Rng } from '../../../src/tensor/rng.js';
import permuted from '../../../plugins/streams/permuted.js';

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

describe('permuted stream', () => {
  it('gives each task the whole data set under its own fixed seeded permutation (task 0 unpermuted)', async () => {
    const stream = await create(permuted, { tasks: 3 }, ctxWith(IMAGES));
    expect(stream.tasks.map((t) => t.name)).toEqual(['t0:identity', 't1:perm1', 't2:perm2']);
    expect(stream.tasks.every((t) => t.classes.length === 4)).toBe(true);
    expect(stream.tasks[0].train.features).toEqual(IMAGES.train.features);
    const t1 = stream.tasks[1].train.features;
    expect(t1).not.toEqual(IMAGES.train.features);
    // The same permutation for every image of the task, train and test: recover it from image 0.
    const perm = Array.from(t1.subarray(0, 9));
    expect([...perm].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(t1.subarray(27, 36))).toEqual(perm.map((p) => 30 + p));
    expect(Array.from(stream.tasks[1].test.features.subarray(9, 18))).toEqual(perm.map((p) => 109 + p));
    expect(stream.tasks[1].train.labels).toEqual(IMAGES.train.labels);
    // Seeded: the same permutation again.
    const again = await create(permuted, { tasks: 3 }, ctxWith(IMAGES));
    expect(again.tasks[2].train.features).toEqual(stream.tasks[2].train.features);
  });
});
