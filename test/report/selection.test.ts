// Ranking configurations for `compare --select`: on validation, never on test; on the first tasks only in the
// realistic protocol.
import { describe, expect, it } from 'vitest';
import {
  selectConfiguration,
  validationScore,
  type SelectSettings,
  type SelectableRun,
} from '../../src/report/selection.js';
import { type EvalRow } from '../../src/results/tables.js';

/** Eval rows of a 3-task run from its test and validation accuracy matrices. */
function rows(test: number[][], validation: number[][]): EvalRow[] {
  const out: EvalRow[] = [];
  for (const [set, R] of [
    ['test', test],
    ['validation', validation],
  ] as const) {
    R.forEach((row, i) =>
      row.forEach((accuracy, j) =>
        out.push({
          run_id: 'r',
          trained_task: i,
          eval_task: j,
          eval_set: set,
          accuracy,
          loss: 0,
          examples: 10,
          alpha: null,
        }),
      ),
    );
  }
  return out;
}
const run = (
  runId: string,
  configId: string,
  lambda: number,
  evals: EvalRow[],
  select: SelectSettings = { validation: 0.1, metric: 'acc', tasks: 0 },
): SelectableRun => ({
  runId,
  seed: 1,
  configId,
  config: {
    components: { optimizer: { name: 'adamw', options: { lr: 0.001 } } },
    strategies: [{ name: 'ewc', options: { lambda } }],
  },
  select,
  evals,
});

describe('ranking configurations', () => {
  // A: better on test, worse on validation. B: the reverse.
  const A = rows(
    [
      [0.9, 0, 0],
      [0.9, 0.9, 0],
      [0.9, 0.9, 0.9],
    ],
    [
      [0.8, 0, 0],
      [0.5, 0.8, 0],
      [0.4, 0.4, 0.8],
    ],
  );
  const B = rows(
    [
      [0.9, 0, 0],
      [0.5, 0.9, 0],
      [0.4, 0.4, 0.9],
    ],
    [
      [0.8, 0, 0],
      [0.7, 0.8, 0],
      [0.7, 0.7, 0.8],
    ],
  );

  it('chooses on validation accuracy, never on test accuracy', () => {
    const s = selectConfiguration('ewc', [run('a', 'A', 1e3, A), run('b', 'B', 1e7, B)]);
    expect(s.chosen).toBe('B');
    expect(s.candidates.map((c) => [c.label, +c.validation.mean.toFixed(4)])).toEqual([
      ['strategies[0].lambda=1000', 0.5333],
      ['strategies[0].lambda=1e7', 0.7333],
    ]);
  });

  it('judges on the first tasks only in the realistic protocol, and minimises forgetting when asked', () => {
    // On the first 2 tasks, A's validation accuracy (0.65) is below B's (0.75); make A win there instead.
    const early = rows(
      [
        [0.9, 0, 0],
        [0.9, 0.9, 0],
        [0.1, 0.1, 0.9],
      ],
      [
        [0.8, 0, 0],
        [0.8, 0.8, 0],
        [0.1, 0.1, 0.8],
      ],
    );
    const firstTwo = { validation: 0.1, metric: 'acc' as const, tasks: 2 };
    expect(validationScore(early, firstTwo)).toBeCloseTo(0.8, 10);
    expect(
      selectConfiguration('ewc', [run('a', 'A', 1e3, early, firstTwo), run('b', 'B', 1e7, B, firstTwo)]).chosen,
    ).toBe('A');
    expect(selectConfiguration('ewc', [run('a', 'A', 1e3, early), run('b', 'B', 1e7, B)]).chosen).toBe('B');
    const forgetting = { validation: 0.1, metric: 'forgetting' as const, tasks: 0 };
    // Forgetting on validation: A (0.8-0.4 twice) 0.4, B 0.1: B.
    expect(
      selectConfiguration('ewc', [run('a', 'A', 1e3, A, forgetting), run('b', 'B', 1e7, B, forgetting)]).chosen,
    ).toBe('B');
  });

  it('refuses runs without a hold-out, or that select differently', () => {
    expect(() => selectConfiguration('ewc', [run('a', 'A', 1, A), { ...run('b', 'B', 2, B), select: null }])).toThrow(
      /run b has no validation hold-out/,
    );
    expect(() =>
      selectConfiguration('ewc', [
        run('a', 'A', 1, A),
        run('b', 'B', 2, B, { validation: 0.1, metric: 'forgetting', tasks: 0 }),
      ]),
    ).toThrow(/runs a and b select differently/);
  });
});
