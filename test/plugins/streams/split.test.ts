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
});
