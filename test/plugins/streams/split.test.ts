// The split stream: tasks by explicit class lists or by a seeded class order.
import { describe, expect, it } from 'vitest';
import split from '../../../plugins/streams/split.js';
import { create, ctxWith } from '../fixture.js';
import { IMAGES } from './fixture.js';

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

  it("copies a task's training rows out of the data set when read, keeping only the last task's copy", async () => {
    const bytes = {
      ...IMAGES,
      train: { ...IMAGES.train, features: Uint8Array.from(IMAGES.train.features) },
      test: { ...IMAGES.test, features: Uint8Array.from(IMAGES.test.features) },
    };
    const stream = await create(split, { tasks: [[3, 0], [1]] }, ctxWith(bytes));
    const [first, second] = stream.tasks;
    const train = first.train;
    expect(first.train).toBe(train);
    // Bytes stay bytes; rows in the data set's order (image 0, then image 3).
    expect(train.features).toBeInstanceOf(Uint8Array);
    expect(Array.from(train.features.subarray(0, 2))).toEqual([0, 1]);
    expect(Array.from(train.features.subarray(9, 11))).toEqual([30, 31]);
    expect(Array.from(second.train.features)).toEqual(Array.from({ length: 9 }, (_, i) => 10 + i));
    // Reading the second task let the first's copy go: a new one, equal to it.
    expect(first.train).not.toBe(train);
    expect(first.train).toEqual(train);
    expect(first.test.features).toBeInstanceOf(Uint8Array);
    expect(first.test).toBe(first.test);
  });
});
