// The permuted stream: each task is the whole data set under its own seeded pixel permutation.
import { describe, expect, it } from 'vitest';
import permuted from '../../../plugins/streams/permuted.js';
import { create, ctxWith } from '../fixture.js';
import { IMAGES } from './fixture.js';

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
