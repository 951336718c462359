import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/tensor/rng.js';

describe('seeded RNG', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.nextUint32()
      )(new Rng(1)),
    );
    const b = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.nextUint32()
      )(new Rng(1)),
    );
    const c = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.nextUint32()
      )(new Rng(2)),
    );
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('forks independent streams by label', () => {
    const r = new Rng(7);
    expect(r.fork('init').next()).toBe(new Rng(7).fork('init').next());
    expect(r.fork('init').next()).not.toBe(r.fork('order').next());
  });

  it('draws roughly uniform and normal values', () => {
    const r = new Rng(3);
    const u = Array.from({ length: 20000 }, () => r.next());
    const n = Array.from({ length: 20000 }, () => r.normal());
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(u)).toBeCloseTo(0.5, 1);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    expect(mean(n)).toBeCloseTo(0, 1);
    expect(mean(n.map((x) => x * x))).toBeCloseTo(1, 1);
  });

  it('permutes every index exactly once', () => {
    const p = new Rng(5).permutation(1000);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });
});

describe('Rng.distinct', () => {
  it('draws m distinct indices uniformly from [0, n)', () => {
    const rng = new Rng(5);
    const counts = new Array(10).fill(0);
    const out = new Int32Array(4);
    for (let r = 0; r < 5000; r++) {
      rng.distinct(10, 4, out);
      expect(new Set(out).size).toBe(4);
      for (const i of out) counts[i] += 1;
    }
    // Each index appears in 4/10 of the draws.
    for (const c of counts) expect(c / 5000).toBeCloseTo(0.4, 1);
    expect(() => rng.distinct(3, 4, out)).toThrow(/cannot draw 4 distinct indices from 3/);
  });
});
