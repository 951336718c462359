// The fraction sampler: a stratified share of each task's training examples.
import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../../src/plugin/options.js';
import { Rng } from '../../../src/tensor/rng.js';
import fraction from '../../../plugins/samplers/fraction.js';
import { counts, make, task } from './fixture.js';

describe('fraction sampler', () => {
  it('is stratified by class and nested across fractions for one seed', () => {
    const picks = [0.01, 0.05, 0.1, 1].map((p) => make(fraction, { fraction: p }).subset(task, new Rng(7)));
    expect(counts(picks[0])).toEqual([1, 2, 3]);
    expect(counts(picks[1])).toEqual([5, 10, 15]);
    expect(counts(picks[3])).toEqual([100, 200, 300]);
    for (let i = 0; i + 1 < picks.length; i++) {
      const bigger = new Set(picks[i + 1]);
      expect([...picks[i]].every((x) => bigger.has(x))).toBe(true);
    }
    // Another seed, another subset.
    expect(make(fraction, { fraction: 0.05 }).subset(task, new Rng(8))).not.toEqual(picks[1]);
  });

  it('rejects a fraction with fewer examples than classes, and a fraction of 0', () => {
    expect(() => make(fraction, { fraction: 0.004 }).subset(task, new Rng(1))).toThrow(
      /fraction 0\.004 of task t0's 600 examples is 2, fewer than its 3 classes/,
    );
    expect(resolveOptions(fraction.options, { fraction: 0 }, 'sampler').problems[0].message).toBe(
      'must be > 0 and <= 1, got 0',
    );
  });
});
