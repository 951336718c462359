import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Float32, Int32, Table, tableToIPC, vectorFromArray, makeVector, FixedSizeList, Field } from 'apache-arrow';
import type { PluginContext } from '../../src/plugin/define-plugin.js';
import type { OptionSchema } from '../../src/plugin/options.js';
import { resolveOptions } from '../../src/plugin/options.js';
import type { Dataset } from '../../src/contracts/data.js';
import { Rng } from '../../src/tensor/rng.js';
import permuted from '../../plugins/streams/permuted.js';
import rotated, { rotateImages } from '../../plugins/streams/rotated.js';
import split from '../../plugins/streams/split.js';
import arrow from '../../plugins/datasets/arrow.js';
import { scratchDir } from '../helpers.js';

function ctxWith(dataset: Dataset | undefined, dir = '/'): PluginContext {
  return {
    seed: 0,
    rng: (label) => new Rng(0).fork(label),
    resolve: async (kind) => {
      if (kind === 'dataset' && dataset) return dataset as never;
      throw new Error(`no ${kind}`);
    },
    resolvePath: (p) => join(dir, p),
    problem: async () => ({ featureShape: [], outputs: 0 }),
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

describe('arrow dataset', () => {
  function writeTable(path: string, rows: number[][], labels: number[], listSize = rows[0]?.length ?? 2) {
    const type = new FixedSizeList(listSize, new Field('item', new Float32()));
    const features = makeVector({
      type,
      length: rows.length,
      nullCount: 0,
      child: makeVector(Float32Array.from(rows.flat())).data[0],
    } as never);
    writeFileSync(path, tableToIPC(new Table({ features, label: vectorFromArray(labels, new Int32()) }), 'file'));
  }

  it('reads a fixed-size-list feature column and an integer label column', async () => {
    const dir = scratchDir('arrow');
    writeTable(
      join(dir, 'train.arrow'),
      [
        [0, 1, 2, 3],
        [4, 5, 6, 7],
        [8, 9, 10, 11],
      ],
      [0, 1, 2],
    );
    writeTable(join(dir, 'test.arrow'), [[1, 1, 1, 1]], [2]);
    const data = await create(
      arrow,
      { train: 'train.arrow', test: 'test.arrow', shape: [2, 2, 1] },
      ctxWith(undefined, dir),
    );
    expect(data.featureShape).toEqual([2, 2, 1]);
    expect(data.numClasses).toBe(3);
    expect(Array.from(data.train.features)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(Array.from(data.train.labels)).toEqual([0, 1, 2]);
  });

  it('names the problem in a malformed or mismatched file', async () => {
    const dir = scratchDir('arrow-bad');
    writeFileSync(join(dir, 'junk.arrow'), 'not arrow');
    writeTable(join(dir, 'ok.arrow'), [[0, 1]], [0]);
    const make = (input: object) => create(arrow, input, ctxWith(undefined, dir));
    await expect(make({ train: 'junk.arrow', test: 'ok.arrow' })).rejects.toThrow(
      /junk\.arrow: not a readable Arrow IPC file/,
    );
    await expect(make({ train: 'ok.arrow', test: 'ok.arrow', labelColumn: 'y' })).rejects.toThrow(
      /no column 'y'; columns: features, label/,
    );
    await expect(make({ train: 'ok.arrow', test: 'ok.arrow', shape: [3] })).rejects.toThrow(
      /shape \[3\] does not hold the 2 features/,
    );
    await expect(make({ train: 'ok.arrow', test: 'ok.arrow', numClasses: 0, featureColumn: 'label' })).rejects.toThrow(
      /must be a fixed-size list/,
    );
  });
});
