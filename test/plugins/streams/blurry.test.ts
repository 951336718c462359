// The i-Blurry-N-M stream: which classes are disjoint, how many examples of a
// blurry class move to other tasks, test splits of each task's own classes.
import { describe, expect, it } from 'vitest';
import blurry from '../../../plugins/streams/blurry.js';
import { resolveOptions } from '../../../src/plugin/options.js';
import type { Dataset } from '../../../src/contracts/data.js';
import { create, ctxWith } from '../fixture.js';

/** Ten classes of 100 training and 20 test examples, one feature each (its class). */
const TEN: Dataset = {
  name: 'ten',
  featureShape: [1],
  numClasses: 10,
  train: {
    features: Float32Array.from({ length: 1000 }, (_, i) => i % 10),
    labels: Int32Array.from({ length: 1000 }, (_, i) => i % 10),
    count: 1000,
  },
  test: {
    features: Float32Array.from({ length: 200 }, (_, i) => i % 10),
    labels: Int32Array.from({ length: 200 }, (_, i) => i % 10),
    count: 200,
  },
};

const countsOf = (labels: Int32Array) =>
  [...labels].reduce((m, l) => m.set(l, (m.get(l) ?? 0) + 1), new Map<number, number>());

describe('blurry stream', () => {
  it('i-Blurry-50-10: half the classes in one task only, 10 % of each other class in other tasks', async () => {
    const stream = await create(blurry, { tasks: 5, disjoint: 50, blurry: 10, classOrder: 'natural' }, ctxWith(TEN));
    expect(stream.tasks).toHaveLength(5);
    // Natural order: classes 0-4 disjoint (one per task), 5-9 blurry (one per task).
    expect(stream.tasks.map((t) => t.name)).toEqual(['t0:{0,5}', 't1:{1,6}', 't2:{2,7}', 't3:{3,8}', 't4:{4,9}']);
    const inTask = stream.tasks.map((t) => countsOf(t.train.labels));
    for (let k = 0; k < 5; k++) {
      // The disjoint class whole in its task and nowhere else; the blurry class 90 % at home.
      expect(inTask[k].get(k)).toBe(100);
      expect(inTask.filter((m) => m.has(k))).toHaveLength(1);
      expect(inTask[k].get(5 + k)).toBe(90);
      const elsewhere = inTask.reduce((a, m, j) => a + (j === k ? 0 : (m.get(5 + k) ?? 0)), 0);
      expect(elsewhere).toBe(10);
    }
    // Every training example is somewhere, once.
    expect(stream.tasks.reduce((a, t) => a + t.train.count, 0)).toBe(1000);
    // Test splits: each task's own classes only.
    for (const [k, t] of stream.tasks.entries()) expect([...countsOf(t.test.labels).keys()].sort()).toEqual([k, 5 + k]);
  });

  it('N = 100 is a plain class split; M = 0 moves nothing', async () => {
    const stream = await create(blurry, { tasks: 2, disjoint: 100, blurry: 30 }, ctxWith(TEN));
    const classes = stream.tasks.map((t) => [...countsOf(t.train.labels).keys()].sort((a, b) => a - b));
    expect(classes[0].filter((c) => classes[1].includes(c))).toEqual([]);
    const still = await create(blurry, { tasks: 2, disjoint: 0, blurry: 0 }, ctxWith(TEN));
    expect(still.tasks.map((t) => t.train.count)).toEqual([500, 500]);
  });

  it('draws the same stream from the same seed', async () => {
    const a = await create(blurry, { tasks: 5 }, ctxWith(TEN));
    const b = await create(blurry, { tasks: 5 }, ctxWith(TEN));
    expect(a.tasks.map((t) => Array.from(t.train.labels))).toEqual(b.tasks.map((t) => Array.from(t.train.labels)));
  });

  it('refuses percentages outside [0, 100], naming the option', () => {
    for (const [field, value] of [
      ['disjoint', 150],
      ['blurry', -5],
    ] as const) {
      const { problems } = resolveOptions(blurry.options, { [field]: value }, 'stream');
      expect(problems).toEqual([{ path: `stream.${field}`, message: expect.stringMatching(/>= 0 and <= 100/) }]);
    }
  });
});
