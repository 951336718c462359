import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../src/plugin/options.js';
import { Rng } from '../../src/tensor/rng.js';
import type { Task } from '../../src/contracts/stream.js';
import type { PluginContext } from '../../src/plugin/define-plugin.js';
import fraction from '../../plugins/samplers/fraction.js';
import perClass from '../../plugins/samplers/per-class.js';

// 3 classes of 100, 200 and 300 examples, interleaved.
const labels = Int32Array.from({ length: 600 }, (_, i) => (i % 6 === 0 ? 0 : i % 6 < 3 ? 1 : 2));
const task: Task = {
  index: 0,
  name: 't0',
  classes: [0, 1, 2],
  train: { features: new Float32Array(600), labels, count: 600 },
  test: { features: new Float32Array(0), labels: new Int32Array(0), count: 0 },
};
const ctx = {} as PluginContext;
const make = (plugin: typeof fraction | typeof perClass, input: object) =>
  plugin.create(resolveOptions(plugin.options as never, input as never, 's').options, ctx) as {
    select: (t: Task, r: Rng) => Int32Array;
    order: (s: Int32Array, e: number, r: Rng) => Int32Array;
  };
const counts = (idx: Int32Array) => [0, 1, 2].map((c) => [...idx].filter((i) => labels[i] === c).length);

describe('low-label samplers', () => {
  it('fraction: stratified by class and nested across fractions for one seed', () => {
    const picks = [0.01, 0.05, 0.1, 1].map((p) => make(fraction, { fraction: p }).select(task, new Rng(7)));
    expect(counts(picks[0])).toEqual([1, 2, 3]);
    expect(counts(picks[1])).toEqual([5, 10, 15]);
    expect(counts(picks[3])).toEqual([100, 200, 300]);
    for (let i = 0; i + 1 < picks.length; i++) {
      const bigger = new Set(picks[i + 1]);
      expect([...picks[i]].every((x) => bigger.has(x))).toBe(true);
    }
    // Another seed, another subset.
    expect(make(fraction, { fraction: 0.05 }).select(task, new Rng(8))).not.toEqual(picks[1]);
  });

  it('per-class: k of each class, nested across k, shuffled every epoch', () => {
    const s = make(perClass, { k: 4 });
    const four = s.select(task, new Rng(1));
    const ten = make(perClass, { k: 10 }).select(task, new Rng(1));
    expect(counts(four)).toEqual([4, 4, 4]);
    expect([...four].every((x) => ten.includes(x))).toBe(true);
    const e0 = s.order(four, 0, new Rng(1).fork('e0'));
    const e1 = s.order(four, 1, new Rng(1).fork('e1'));
    expect([...e0].sort()).toEqual([...four].sort());
    expect(e0).not.toEqual(e1);
  });

  it('rejects a fraction with fewer examples than classes, and k beyond a class', () => {
    expect(() => make(fraction, { fraction: 0.004 }).select(task, new Rng(1))).toThrow(
      /fraction 0\.004 of task t0's 600 examples is 2, fewer than its 3 classes/,
    );
    expect(() => make(perClass, { k: 101 }).select(task, new Rng(1))).toThrow(
      /k = 101 but class 0 of task t0 has only 100 training examples/,
    );
    expect(resolveOptions(fraction.options, { fraction: 0 }, 'sampler').problems[0].message).toBe(
      'must be > 0 and <= 1, got 0',
    );
  });
});
