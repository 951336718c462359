// Continual evaluation's seeded subsets and when an evaluation point falls due.
import { describe, expect, it } from 'vitest';
import { ContinualEvaluation, continualSubset } from '../../src/engine/continual-eval.js';
import { Rng } from '../../src/tensor/rng.js';
import type { Evaluator } from '../../src/engine/evaluate.js';

describe('continual evaluation', () => {
  it('draws a seeded subset of distinct, sorted test indices; 0 takes them all', () => {
    const a = continualSubset(100, 10, new Rng(3));
    expect(a).toEqual(continualSubset(100, 10, new Rng(3)));
    expect(new Set(a).size).toBe(10);
    expect(Array.from(a)).toEqual(Array.from(a).sort((x, y) => x - y));
    expect(a.every((i) => i >= 0 && i < 100)).toBe(true);
    expect(Array.from(continualSubset(4, 0, new Rng(3)))).toEqual([0, 1, 2, 3]);
    expect(() => continualSubset(4, 5, new Rng(3))).toThrow(/5 from 4/);
  });

  it('is due when a step crosses a multiple of the interval, in steps or in examples', () => {
    const registered: number[] = [];
    const evaluator = { continualSubset: (t: { index: number }) => registered.push(t.index) } as unknown as Evaluator;
    const task = (index: number) => ({
      index,
      name: `t${index}`,
      classes: [],
      train: EMPTY,
      test: { ...EMPTY, count: 5 },
    });
    const bySteps = new ContinualEvaluation(
      { every: 5, unit: 'steps', subset: 0 },
      evaluator,
      [task(0), task(1)],
      new Rng(1),
    );
    expect(registered).toEqual([0, 1]);
    expect(bySteps.due({ step: 4, seen: 40 }, { step: 5, seen: 50 })).toBe(true);
    expect(bySteps.due({ step: 5, seen: 50 }, { step: 6, seen: 60 })).toBe(false);
    const byExamples = new ContinualEvaluation({ every: 25, unit: 'examples', subset: 0 }, evaluator, [], new Rng(1));
    // A batch of 10 crossing 50 (40 → 50) and one landing short of 75 (60 → 70).
    expect(byExamples.due({ step: 4, seen: 40 }, { step: 5, seen: 50 })).toBe(true);
    expect(byExamples.due({ step: 6, seen: 60 }, { step: 7, seen: 70 })).toBe(false);
    expect(byExamples.due({ step: 7, seen: 70 }, { step: 8, seen: 80 })).toBe(true);
  });
});

const EMPTY = { features: new Float32Array(0), labels: new Int32Array(0), count: 0 };
