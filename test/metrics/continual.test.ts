import { describe, expect, it } from 'vitest';
import {
  accuracyMatrix,
  averageForgetting,
  averageIncrementalAccuracy,
  backwardTransfer,
  finalAverageAccuracy,
  forwardTransfer,
  summarize,
} from '../../src/metrics/continual.js';

// Worked by hand. R[i][j]: accuracy on task j after training task i.
const R = [
  [0.9, 0.1, 0.2],
  [0.6, 0.8, 0.3],
  [0.7, 0.5, 0.95],
];
const b = [0.1, 0.2, 0.25];

describe('continual-learning metrics', () => {
  it('final average accuracy is the mean of the last row', () => {
    expect(finalAverageAccuracy(R)).toBeCloseTo((0.7 + 0.5 + 0.95) / 3, 12);
  });
  it('average incremental accuracy averages the seen tasks after each task', () => {
    expect(averageIncrementalAccuracy(R)).toBeCloseTo((0.9 + (0.6 + 0.8) / 2 + (0.7 + 0.5 + 0.95) / 3) / 3, 12);
  });
  it('BWT (Lopez-Paz & Ranzato): final minus just-learned, over the first T-1 tasks', () => {
    expect(backwardTransfer(R)).toBeCloseTo((0.7 - 0.9 + (0.5 - 0.8)) / 2, 12);
  });
  it('FWT (Lopez-Paz & Ranzato): before-training accuracy minus the untrained model, tasks 2..T', () => {
    expect(forwardTransfer(R, b)).toBeCloseTo((0.1 - 0.2 + (0.3 - 0.25)) / 2, 12);
  });
  it('forgetting (Chaudhry et al.): best earlier accuracy minus final, never the first-minus-last variant', () => {
    // task 0: best of R[0][0], R[1][0] = 0.9 → 0.9 - 0.7; task 1: best of R[1][1] = 0.8 → 0.8 - 0.5
    expect(averageForgetting(R)).toBeCloseTo((0.2 + 0.3) / 2, 12);
    // Task 0 improves after it was learned: best-minus-final counts from the best (0.95), so forgetting is
    // (0.03 + 0) / 2, where Avalanche's first-minus-last would give (0.9 - 0.92 + 0) / 2 < 0.
    const R3 = [
      [0.9, 0, 0],
      [0.95, 0.9, 0],
      [0.92, 0.9, 0.9],
    ];
    expect(averageForgetting(R3)).toBeCloseTo(0.015, 12);
  });
  it('needs a square matrix', () => {
    expect(() => finalAverageAccuracy([[1, 2]])).toThrow(/square/);
  });
  it('builds R and b from long-format eval rows', () => {
    const rows = [
      ...b.map((a, j) => ({ trained_task: -1, eval_task: j, eval_set: 'test', accuracy: a })),
      ...R.flatMap((row, i) => row.map((a, j) => ({ trained_task: i, eval_task: j, eval_set: 'test', accuracy: a }))),
      { trained_task: 0, eval_task: 0, eval_set: 'ood:noise', accuracy: 0.01 },
    ];
    expect(accuracyMatrix(rows)).toEqual({ R, untrained: b });
    expect(accuracyMatrix(rows.slice(0, 5))).toBeUndefined();
  });
  it('a model made after the last task (a soup) has its last row only: ACC defined, the sequence metrics NaN', () => {
    const T = R.length;
    const last = R[T - 1].map((a, j) => ({ trained_task: T - 1, eval_task: j, eval_set: 'test', accuracy: a }));
    expect(accuracyMatrix(last)).toBeUndefined();
    const m = accuracyMatrix(last, 'test', true)!;
    expect(m.R[T - 1]).toEqual(R[T - 1]);
    expect(m.R.slice(0, -1).flat().every(Number.isNaN)).toBe(true);
    const s = summarize(m.R);
    expect(s.acc).toBeCloseTo(finalAverageAccuracy(R), 12);
    expect([s.forgetting, s.bwt, s.avgIncAcc].every(Number.isNaN)).toBe(true);
    // The last row must still be whole.
    expect(accuracyMatrix(last.slice(1), 'test', true)).toBeUndefined();
  });
});
