// The rotated stream: quarter turns exactly, labels kept, images required.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { PluginContext } from '../../../src/plugin/define-plugin.js';
import type { OptionSchema } from '../../../src/plugin/options.js';
import { resolveOptions } from '../../../src/plugin/options.js';
import type { Dataset } from '../../../src/contracts/data.js';
import { Rng } from '../../../src/tensor/rng.js';
import rotated, { rotateImages } from '../../../plugins/streams/rotated.js';

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

describe('rotated stream', () => {
  it('rotates by quarter turns exactly and keeps labels', async () => {
    const img = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // 90° counter-clockwise: the right column becomes the top row.
    expect(Array.from(rotateImages(img, [3, 3, 1], 90)).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([
      3, 6, 9, 2, 5, 8, 1, 4, 7,
    ]);
    expect(Array.from(rotateImages(img, [3, 3, 1], 180)).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([
      9, 8, 7, 6, 5, 4, 3, 2, 1,
    ]);
    const stream = await create(rotated, { angles: [0, 90] }, ctxWith(IMAGES));
    expect(stream.tasks.map((t) => t.name)).toEqual(['t0:0deg', 't1:90deg']);
    expect(stream.tasks[0].test.features).toEqual(IMAGES.test.features);
    expect(stream.tasks[1].train.labels).toEqual(IMAGES.train.labels);
  });

  it('needs images', async () => {
    const flat = { ...IMAGES, featureShape: [9] };
    const { options } = resolveOptions(rotated.options, {}, 'x');
    await expect(rotated.create(options, ctxWith(flat))).rejects.toThrow(/needs images \[height, width, channels\]/);
  });
});
