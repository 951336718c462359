// NumPy's legacy permutation, reproduced exactly (values printed by NumPy:
// np.random.RandomState(s).permutation(10)), and the split stream's
// 'van-de-ven' class order built on it.
import { describe, expect, it } from 'vitest';
import { numpyPermutation } from '../../src/tensor/numpy-random.js';
import split from '../../plugins/streams/split.js';
import { Rng } from '../../src/tensor/rng.js';
import type { Dataset } from '../../src/contracts/data.js';
import type { PluginContext } from '../../src/plugin/define-plugin.js';

describe('numpyPermutation', () => {
  it('equals np.random.seed(s); np.random.permutation(n)', () => {
    expect(numpyPermutation(0, 10)).toEqual([2, 8, 4, 9, 1, 6, 7, 3, 0, 5]);
    expect(numpyPermutation(1, 10)).toEqual([2, 9, 6, 4, 0, 3, 1, 7, 8, 5]);
    expect(numpyPermutation(2, 10)).toEqual([4, 1, 5, 0, 7, 2, 3, 6, 9, 8]);
    expect(numpyPermutation(3, 10)).toEqual([5, 4, 1, 2, 9, 6, 7, 0, 3, 8]);
    expect(numpyPermutation(12345, 10)).toEqual([0, 7, 3, 9, 6, 4, 1, 8, 5, 2]);
    expect(numpyPermutation(7, 1000).slice(0, 8)).toEqual([778, 334, 271, 802, 216, 408, 812, 94]);
    expect(() => numpyPermutation(2 ** 32, 10)).toThrow(/from 0 to 2\^32 - 1/);
  });
});

describe("split stream, classOrder 'van-de-ven'", () => {
  const labels = Int32Array.from({ length: 100 }, (_, i) => i % 10);
  const data: Dataset = {
    name: 'ten',
    featureShape: [1],
    numClasses: 10,
    train: { features: new Float32Array(100), labels, count: 100 },
    test: { features: new Float32Array(100), labels, count: 100 },
  };
  const ctx = (seed: number) =>
    ({ seed, rng: (l: string) => new Rng(seed).fork(l), resolve: async () => data }) as unknown as PluginContext;

  it('keeps the natural order for seed 0 and otherwise groups digit y by its new label p[y]', async () => {
    const tasks = async (seed: number) =>
      (await split.create({ tasksOf: 2, tasks: [], classOrder: 'van-de-ven' }, ctx(seed))).tasks.map((t) => t.classes);
    expect(await tasks(0)).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
      [6, 7],
      [8, 9],
    ]);
    // Seed 1: p = [2,9,6,4,0,3,1,7,8,5]; new label 0 is digit 4, 1 is digit 6, 2 is digit 0, 3 is digit 5, …
    expect(await tasks(1)).toEqual([
      [4, 6],
      [0, 5],
      [3, 9],
      [2, 7],
      [8, 1],
    ]);
  });
});
