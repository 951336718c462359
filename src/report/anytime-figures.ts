// The report's figures of continual evaluation (`eval.every`): each group's
// per-task accuracy over training with the task switches marked, and the
// stability gap of each task (De Lange et al., ICLR 2023) beside the others'.
import { continualCurve, stabilityGaps } from '../metrics/anytime.js';
import { meanStd } from './format.js';
import type { Comparison } from './compare.js';
import { groupLabel, type Figure } from './figure.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Where a run's tasks end in examples seen: its boundary evaluations ('test' rows after each task but the last). */
function switches(evals: readonly { eval_set: string; trained_task: number; seen?: number | null }[]): number[] {
  const ends = new Map<number, number>();
  for (const r of evals)
    if (r.eval_set === 'test' && r.trained_task >= 0 && r.seen != null) ends.set(r.trained_task, r.seen);
  return [...ends]
    .sort((a, b) => a[0] - b[0])
    .slice(0, -1)
    .map(([, seen]) => seen);
}

/** One figure per group: each task's accuracy (mean over seeds) against training examples seen. */
function accuracyCurves(c: Comparison): Figure[] {
  return c.groups.flatMap((g, gi) => {
    const curves = g.runs.map((r) => continualCurve(r.evals)).filter((x) => x !== undefined);
    if (curves.length === 0) return [];
    const byPoint = new Map<string, { seen: number; task: string; values: number[] }>();
    for (const curve of curves)
      for (const p of curve)
        p.accuracy.forEach((a, j) => {
          const task = g.taskNames[j] ?? `t${j}`;
          const key = `${p.seen}\u0000${task}`;
          const entry = byPoint.get(key) ?? { seen: p.seen, task, values: [] };
          entry.values.push(a);
          byPoint.set(key, entry);
        });
    const values = [...byPoint.values()].map((e) => ({
      seen: e.seen,
      task: e.task,
      accuracy: 100 * meanStd(e.values).mean,
    }));
    const rules = switches(g.runs[0].evals).map((seen) => ({ seen }));
    return [
      {
        id: `anytime-${gi + 1}`,
        title: `Accuracy of every task over training — ${groupLabel(c, g)}`,
        caption:
          "Each task's accuracy on its seeded test subset (eval set 'continual'), scored every `eval.every` and at " +
          'each task end, against the training examples seen; mean over seeds. Dashed lines: task switches. The ' +
          "dip of an old task's curve right after a switch is its stability gap.",
        spec: {
          $schema: SCHEMA,
          width: 600,
          height: 220,
          layer: [
            {
              data: { values },
              mark: { type: 'line', strokeWidth: 1.2 },
              encoding: {
                x: { field: 'seen', type: 'quantitative', title: 'training examples seen' },
                y: { field: 'accuracy', type: 'quantitative', title: 'accuracy, %', scale: { domain: [0, 100] } },
                color: { field: 'task', type: 'nominal', title: 'task', sort: null },
              },
            },
            {
              data: { values: rules },
              mark: { type: 'rule', strokeDash: [4, 3], color: '#888' },
              encoding: { x: { field: 'seen', type: 'quantitative' } },
            },
          ],
        },
      },
    ];
  });
}

/** The stability gap of each earlier task, per group (mean over seeds). */
function gapBars(c: Comparison): Figure[] {
  const values = c.groups.flatMap((g) => {
    const gaps = g.runs
      .map((r) => continualCurve(r.evals))
      .flatMap((curve) => (curve && curve.length > 1 ? [stabilityGaps(curve)] : []));
    if (gaps.length === 0) return [];
    return gaps[0].map((_, j) => ({
      group: groupLabel(c, g),
      task: g.taskNames[j] ?? `t${j}`,
      gap: 100 * meanStd(gaps.map((x) => x[j])).mean,
    }));
  });
  if (values.length === 0) return [];
  return [
    {
      id: 'stability-gap',
      title: 'Stability gap per task',
      caption:
        "Each earlier task's accuracy at the end of its training minus the lowest it falls to while the next task " +
        'trains (De Lange et al., 2023), in points; mean over seeds.',
      spec: {
        $schema: SCHEMA,
        width: 600,
        height: 200,
        data: { values },
        mark: 'bar',
        encoding: {
          x: { field: 'task', type: 'nominal', title: 'task', sort: null },
          xOffset: { field: 'group', sort: null },
          y: { field: 'gap', type: 'quantitative', title: 'stability gap, points' },
          color: { field: 'group', type: 'nominal', title: null, sort: null },
        },
      },
    },
  ];
}

export function anytimeFigures(c: Comparison): Figure[] {
  return [...accuracyCurves(c), ...gapBars(c)];
}
