// The per-class sampler: k training examples of each class.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/tensor/rng.js';
import perClass from '../../../plugins/samplers/per-class.js';
import { counts, make, task } from './fixture.js';

describe('per-class sampler', () => {
  it('takes k of each class, nested across k, shuffled every epoch', () => {
    const s = make(perClass, { k: 4 });
    const four = s.subset(task, new Rng(1));
    const ten = make(perClass, { k: 10 }).subset(task, new Rng(1));
    expect(counts(four)).toEqual([4, 4, 4]);
    expect([...four].every((x) => ten.includes(x))).toBe(true);
    const e0 = s.order(four, 0, new Rng(1).fork('e0'));
    const e1 = s.order(four, 1, new Rng(1).fork('e1'));
    expect([...e0].sort()).toEqual([...four].sort());
    expect(e0).not.toEqual(e1);
  });

  it('rejects k beyond the examples of a class', () => {
    expect(() => make(perClass, { k: 101 }).subset(task, new Rng(1))).toThrow(
      /k = 101 but class 0 of task t0 has only 100 training examples/,
    );
  });
});
