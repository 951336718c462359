// The continual-evaluation metrics against hand-worked curves.
import { describe, expect, it } from 'vitest';
import {
  accuracyAuc,
  anytimeAccuracy,
  averageAnytimeAccuracy,
  continualCurve,
  intransigence,
  learningAccuracy,
  minAccuracy,
  stabilityGaps,
  windowedForgetting,
  worstCaseAccuracy,
  type ContinualRow,
} from '../../src/metrics/anytime.js';

/** Rows of a two-task run: per point [seen, trained task, acc task 0, acc task 1]. */
function rows(points: [number, number, number, number][]): ContinualRow[] {
  return points.flatMap(([seen, task, a0, a1]) => [
    { trained_task: task, eval_task: 0, eval_set: 'continual', accuracy: a0, seen },
    { trained_task: task, eval_task: 1, eval_set: 'continual', accuracy: a1, seen },
  ]);
}

// Task 0 trains to 0.9 by seen 100; task 1's first point drops task 0 to 0.3 (the gap), which recovers to 0.7.
const RUN = rows([
  [0, -1, 0.1, 0.1],
  [50, 0, 0.6, 0],
  [100, 0, 0.9, 0],
  [150, 1, 0.3, 0.5],
  [200, 1, 0.7, 0.8],
]);

describe('continual-evaluation metrics', () => {
  const curve = continualCurve(RUN)!;

  it('builds the curve in order, one point per moment, ignoring other eval sets', () => {
    const extra: ContinualRow = { trained_task: 1, eval_task: 0, eval_set: 'test', accuracy: 0, seen: 200 };
    const built = continualCurve([...RUN, extra])!;
    expect(built.map((p) => p.seen)).toEqual([0, 50, 100, 150, 200]);
    expect(built[3]).toEqual({ seen: 150, task: 1, accuracy: [0.3, 0.5] });
    expect(continualCurve([extra])).toBeUndefined();
  });

  it('keeps the later label when one moment is scored as two tasks', () => {
    const twice = continualCurve([...RUN, ...rows([[200, 2, 0.7, 0.8]])])!;
    expect(twice.filter((p) => p.seen === 200)).toEqual([{ seen: 200, task: 2, accuracy: [0.7, 0.8] }]);
  });

  it('anytime accuracy averages the tasks seen so far; AAA averages it over points', () => {
    expect(anytimeAccuracy(curve[0])).toBeNaN();
    expect(anytimeAccuracy(curve[1])).toBeCloseTo(0.6);
    expect(anytimeAccuracy(curve[3])).toBeCloseTo(0.4);
    expect(averageAnytimeAccuracy(curve)).toBeCloseTo((0.6 + 0.9 + 0.4 + 0.75) / 4);
  });

  it('A_AUC weighs each point by the examples since the previous one', () => {
    // Equal spacing of 50: the plain mean of the four trained points.
    expect(accuracyAuc(curve)).toBeCloseTo((0.6 + 0.9 + 0.4 + 0.75) / 4);
    const uneven = continualCurve(
      rows([
        [0, -1, 0, 0],
        [10, 0, 1, 0],
        [100, 0, 0.5, 0],
      ]),
    )!;
    expect(accuracyAuc(uneven)).toBeCloseTo((1 * 10 + 0.5 * 90) / 100);
  });

  it('min-ACC, WC-ACC, windowed forgetting and the stability gap (De Lange et al.)', () => {
    // Task 0 after its end (point 100): lowest 0.3.
    expect(minAccuracy(curve)).toBeCloseTo(0.3);
    expect(worstCaseAccuracy(curve)).toBeCloseTo(0.8 / 2 + 0.5 * 0.3);
    // Largest drop from a point to a later one within the window, from task 0's end: 0.9 → 0.3.
    expect(windowedForgetting(curve, 1)).toBeCloseTo(0.6);
    expect(windowedForgetting(curve, 10)).toBeCloseTo(0.6);
    expect(stabilityGaps(curve)).toHaveLength(1);
    expect(stabilityGaps(curve)[0]).toBeCloseTo(0.6);
  });

  it('learning accuracy and intransigence from the accuracy matrix', () => {
    const R = [
      [0.9, 0.1],
      [0.4, 0.8],
    ];
    expect(learningAccuracy(R)).toBeCloseTo(0.85);
    expect(intransigence(R, [0.95, 0.9])).toBeCloseTo((0.05 + 0.1) / 2);
  });
});
