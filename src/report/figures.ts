// The report's figures as Vega-Lite specifications, built from the same
// comparison `compare` prints (groups of runs, mean ± std over seeds) and the
// runs' step and constraint tables. Pure data in, plain objects out: the
// renderer turns them into SVG; tests can inspect them.
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { METRICS } from './columns.js';
import { meanStd } from './format.js';
import { RUN_FILES } from '../results/run-dir.js';
import { readRows, type ConstraintRow, type StepRow } from '../results/tables.js';
import { interpolationRows, type Comparison, type Group } from './compare.js';
import { anytimeFigures } from './anytime-figures.js';
import { groupLabel, type Figure } from './figure.js';

export { groupLabel, type Figure } from './figure.js';

const WIDTH = 300;
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

function taskLabel(g: Group, j: number): string {
  return g.taskNames[j] ?? `t${j}`;
}

/** The mean accuracy matrix of each group as a heat map, the untrained model as the first row. */
function heatMaps(c: Comparison): Figure[] {
  return c.groups.flatMap((g, gi) => {
    if (!g.meanMatrix) return [];
    const T = g.meanMatrix.length;
    const untrained = Array.from({ length: T }, (_, j) => meanStd(g.runs.map((r) => r.untrained?.[j] ?? NaN)).mean);
    const rows = [
      ['untrained', untrained] as const,
      ...g.meanMatrix.map((row, i) => [`after ${taskLabel(g, i)}`, row] as const),
    ];
    const values = rows.flatMap(([after, row], i) =>
      row.map((acc, j) => ({
        after,
        order: i,
        on: taskLabel(g, j),
        accuracy: Number.isFinite(acc) ? acc * 100 : null,
      })),
    );
    return [
      {
        id: `matrix-${gi + 1}`,
        title: `Accuracy matrix — ${groupLabel(c, g)}`,
        caption:
          `Accuracy (%) on each task (column) after training each task (row), mean over ${g.runs.length} ` +
          `run${g.runs.length > 1 ? 's' : ''}; the first row is the model before training.`,
        spec: {
          $schema: SCHEMA,
          width: Math.max(160, 44 * T),
          height: Math.max(120, 30 * (T + 1)),
          data: { values },
          encoding: {
            x: { field: 'on', type: 'nominal', title: 'accuracy on', sort: null, axis: { labelAngle: 0 } },
            y: { field: 'after', type: 'nominal', title: null, sort: { field: 'order' } },
          },
          layer: [
            {
              mark: 'rect',
              encoding: {
                color: {
                  field: 'accuracy',
                  type: 'quantitative',
                  scale: { domain: [0, 100], scheme: 'viridis' },
                  title: '%',
                },
              },
            },
            {
              mark: { type: 'text', fontSize: 10 },
              encoding: {
                text: { field: 'accuracy', type: 'quantitative', format: '.1f' },
                color: { condition: { test: 'datum.accuracy > 60', value: 'black' }, value: 'white' },
              },
            },
          ],
        },
      },
    ];
  });
}

/** Accuracy on each task after each task: the forgetting curves, mean with a ±1 std band over seeds. */
function forgettingCurves(c: Comparison): Figure[] {
  return c.groups.flatMap((g, gi) => {
    if (!g.meanMatrix) return [];
    const T = g.meanMatrix.length;
    const values = [];
    for (let j = 0; j < T; j++) {
      for (let i = j; i < T; i++) {
        const { mean, std } = meanStd(g.runs.map((r) => r.R![i][j]));
        values.push({
          task: taskLabel(g, j),
          after: i + 1,
          mean: mean * 100,
          low: (mean - std) * 100,
          high: (mean + std) * 100,
        });
      }
    }
    return [
      {
        id: `forgetting-${gi + 1}`,
        title: `Forgetting curves — ${groupLabel(c, g)}`,
        caption:
          `Accuracy (%) on each task from when it is learned to the end of the sequence; line: mean, band: ±1 ` +
          `std over ${g.runs.length} run${g.runs.length > 1 ? 's' : ''}.`,
        spec: {
          $schema: SCHEMA,
          width: WIDTH,
          height: 200,
          data: { values },
          encoding: {
            x: {
              field: 'after',
              type: 'quantitative',
              title: 'tasks trained',
              scale: { domain: [1, T] },
              axis: { tickMinStep: 1 },
            },
            color: { field: 'task', type: 'nominal', title: 'task', sort: null },
          },
          layer: [
            {
              mark: { type: 'errorband', opacity: 0.2 },
              encoding: {
                y: { field: 'low', type: 'quantitative', title: 'accuracy (%)', scale: { domain: [0, 100] } },
                y2: { field: 'high' },
              },
            },
            {
              mark: { type: 'line', point: true },
              encoding: { y: { field: 'mean', type: 'quantitative', title: 'accuracy (%)' } },
            },
          ],
        },
      },
    ];
  });
}

/** ACC, forgetting, BWT and FWT of every group, with ±1 std error bars. */
function metricBars(c: Comparison): Figure[] {
  const shown = METRICS.filter((m) => m.key !== 'avgIncAcc');
  const values = c.groups
    .flatMap((g) =>
      shown.map((m) => {
        const { mean, std } = g.metrics[m.key];
        return {
          group: groupLabel(c, g),
          metric: m.label === 'forgetting_best_minus_final' ? 'forgetting' : m.label,
          mean: mean * 100,
          low: (mean - std) * 100,
          high: (mean + std) * 100,
        };
      }),
    )
    .filter((v) => Number.isFinite(v.mean));
  if (values.length === 0) return [];
  return [
    {
      id: 'metrics',
      title: 'Continual-learning metrics per group',
      caption:
        'ACC, average forgetting, backward and forward transfer (%), mean over seeds with ±1 std error bars ' +
        '(definitions under the table).',
      spec: {
        $schema: SCHEMA,
        data: { values },
        facet: { column: { field: 'metric', type: 'nominal', title: null, sort: ['ACC', 'forgetting', 'BWT', 'FWT'] } },
        resolve: { scale: { y: 'independent' } },
        spec: {
          width: Math.max(120, 26 * c.groups.length),
          height: 180,
          encoding: {
            x: { field: 'group', type: 'nominal', title: null, sort: null, axis: { labelAngle: -40, labelLimit: 240 } },
          },
          layer: [
            {
              mark: 'bar',
              encoding: {
                y: { field: 'mean', type: 'quantitative', title: '%' },
                color: { field: 'group', type: 'nominal', legend: null, sort: null },
              },
            },
            {
              mark: { type: 'errorbar', ticks: true },
              encoding: { y: { field: 'low', type: 'quantitative', title: '%' }, y2: { field: 'high' } },
            },
          ],
        },
      },
    },
  ];
}

/** Training loss over the run's optimizer steps, mean over each group's seeds. */
function lossCurves(c: Comparison, steps: Map<string, StepRow[]>): Figure[] {
  const values: { group: string; step: number; loss: number }[] = [];
  for (const g of c.groups) {
    const byStep = new Map<number, number[]>();
    for (const r of g.runs)
      for (const s of steps.get(r.dir) ?? []) byStep.set(s.global_step, [...(byStep.get(s.global_step) ?? []), s.loss]);
    for (const [step, losses] of [...byStep].sort((a, b) => a[0] - b[0]))
      values.push({ group: groupLabel(c, g), step, loss: meanStd(losses).mean });
  }
  if (values.length === 0) return [];
  const curves = {
    data: { values },
    mark: { type: 'line', strokeWidth: 1.2 },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'optimizer step' },
      y: { field: 'loss', type: 'quantitative', title: 'loss', scale: { type: 'symlog' } },
      color: { field: 'group', type: 'nominal', title: null, sort: null },
    },
  };
  const boundaries = phaseBoundaries(c, steps);
  return [
    {
      id: 'loss',
      title: 'Training loss',
      caption:
        "The loss logged every `logEvery` steps, against the run's optimizer steps (task boundaries at multiples " +
        'of the steps per task), mean over seeds.' +
        (boundaries.length ? ' Dashed lines: where a phase of a task ends and the next begins (LP → FT).' : ''),
      spec: {
        $schema: SCHEMA,
        width: 2 * WIDTH,
        height: 220,
        ...(boundaries.length
          ? {
              layer: [
                curves,
                {
                  data: { values: boundaries },
                  mark: { type: 'rule', strokeDash: [4, 3], color: '#888' },
                  encoding: {
                    x: { field: 'step', type: 'quantitative' },
                    tooltip: [{ field: 'label', type: 'nominal' }],
                  },
                },
              ],
            }
          : curves),
      },
    },
  ];
}

/**
 * Where phases change, from steps.arrow (each phase's last step is always
 * logged): the global step ending a phase, per group, labelled by the phases.
 */
export function phaseBoundaries(c: Comparison, steps: Map<string, StepRow[]>): { step: number; label: string }[] {
  const out = new Map<number, string>();
  for (const g of c.groups) {
    const rows = g.runs.length ? (steps.get(g.runs[0].dir) ?? []) : [];
    for (let i = 0; i + 1 < rows.length; i++) {
      const [a, b] = [rows[i], rows[i + 1]];
      if (a.task === b.task && (a.phase ?? 0) !== (b.phase ?? 0))
        out.set(a.global_step, `task ${a.task}: phase ${a.phase ?? 0} → ${b.phase ?? 0}`);
    }
  }
  return [...out].sort((x, y) => x[0] - y[0]).map(([step, label]) => ({ step, label }));
}

/**
 * Anchored optimizers: each tensor's constraint and its distance from the anchor over steps (the first seed of each
 * group).
 */
function constraintCurves(c: Comparison, constraints: Map<string, ConstraintRow[]>): Figure[] {
  return c.groups.flatMap((g, gi) => {
    const run = g.runs.find((r) => (constraints.get(r.dir) ?? []).length > 0);
    if (!run) return [];
    const values = constraints.get(run.dir)!.flatMap((r) => [
      {
        tensor: r.tensor,
        step: r.global_step,
        quantity: 'constraint',
        value: Number.isFinite(r.constraint) ? r.constraint : null,
      },
      { tensor: r.tensor, step: r.global_step, quantity: 'distance from anchor', value: r.distance },
    ]);
    return [
      {
        id: `constraints-${gi + 1}`,
        title: `Constraints and distance from the anchor — ${groupLabel(c, g)}`,
        caption:
          `Per tensor, the learned projection constraint and the L2 distance of the weights from the anchor, ` +
          `against optimizer steps (run ${run.runId}, seed ${run.seed}).`,
        spec: {
          $schema: SCHEMA,
          data: { values },
          facet: { column: { field: 'quantity', type: 'nominal', title: null } },
          resolve: { scale: { y: 'independent' } },
          spec: {
            width: WIDTH,
            height: 180,
            mark: { type: 'line', strokeWidth: 1.2 },
            encoding: {
              x: { field: 'step', type: 'quantitative', title: 'optimizer step' },
              y: { field: 'value', type: 'quantitative', title: null },
              color: { field: 'tensor', type: 'nominal', sort: null },
            },
          },
        },
      },
    ];
  });
}

function labelOrder(l: string): number {
  return l === 'all' ? Infinity : parseFloat(l.replace(/^k=/, ''));
}

/** When runs differ in their amount of labels: final accuracy against labels, per optimizer. */
function lowLabelCurve(c: Comparison): Figure[] {
  const runs = c.groups.flatMap((g) => g.runs);
  const labels = [...new Set(runs.map((r) => r.columns.labels))].sort((a, b) => labelOrder(a) - labelOrder(b));
  if (labels.length < 2) return [];
  const values = [];
  for (const l of labels) {
    for (const o of [...new Set(runs.map((r) => r.columns.optimizer))].sort()) {
      const xs = runs
        .filter((r) => r.columns.labels === l && r.columns.optimizer === o)
        .map((r) => r.finals.test?.final ?? NaN);
      if (xs.length === 0) continue;
      const { mean, std } = meanStd(xs);
      values.push({ labels: l, optimizer: o, mean: mean * 100, low: (mean - std) * 100, high: (mean + std) * 100 });
    }
  }
  return [
    {
      id: 'labels',
      title: 'Accuracy against the amount of labels',
      caption:
        'Final test accuracy (%, mean over tasks after the last one) for each amount of labels, per optimizer; ' +
        '±1 std over seeds.',
      spec: {
        $schema: SCHEMA,
        width: WIDTH,
        height: 220,
        data: { values },
        encoding: {
          x: { field: 'labels', type: 'ordinal', title: 'labels', sort: labels },
          color: { field: 'optimizer', type: 'nominal' },
        },
        layer: [
          {
            mark: { type: 'line', point: true },
            encoding: { y: { field: 'mean', type: 'quantitative', title: 'accuracy (%)' } },
          },
          {
            mark: { type: 'errorbar', ticks: true },
            encoding: { y: { field: 'low', type: 'quantitative', title: 'accuracy (%)' }, y2: { field: 'high' } },
          },
        ],
      },
    },
  ];
}

/** When runs have OOD sets: in-distribution against OOD accuracy per group (the robustness trade-off). */
function robustnessTradeoff(c: Comparison): Figure[] {
  const sets = [...new Set(c.groups.flatMap((g) => g.runs.flatMap((r) => Object.keys(r.finals))))].filter((s) =>
    s.startsWith('ood:'),
  );
  if (sets.length === 0) return [];
  const values = c.groups.map((g) => {
    const id = meanStd(g.runs.map((r) => r.finals.test?.final ?? NaN));
    const ood = meanStd(g.runs.map((r) => sets.reduce((a, s) => a + (r.finals[s]?.final ?? NaN), 0) / sets.length));
    return {
      group: groupLabel(c, g),
      optimizer: g.runs[0].columns.optimizer,
      id: id.mean * 100,
      idLow: (id.mean - id.std) * 100,
      idHigh: (id.mean + id.std) * 100,
      ood: ood.mean * 100,
      oodLow: (ood.mean - ood.std) * 100,
      oodHigh: (ood.mean + ood.std) * 100,
    };
  });
  // WiSE-FT: each group's path from the pre-trained model (α = 0) to its fine-tuned one (α = 1).
  const curves = interpolationRows(c).map((r) => ({
    group: groupLabel(c, c.groups[r.group - 1]),
    alpha: r.alpha,
    id: r.id.mean * 100,
    ood: r.ood.mean * 100,
  }));
  const wise = curves.length
    ? [
        {
          data: { values: curves },
          mark: { type: 'line', strokeDash: [4, 2], strokeWidth: 1, point: { size: 18 } },
          encoding: {
            x: { field: 'id', type: 'quantitative' },
            y: { field: 'ood', type: 'quantitative' },
            order: { field: 'alpha', type: 'quantitative' },
            tooltip: [
              { field: 'group', type: 'nominal' },
              { field: 'alpha', type: 'quantitative', title: 'α' },
            ],
          },
        },
      ]
    : [];
  return [
    {
      id: 'robustness',
      title: 'In-distribution against out-of-distribution accuracy',
      caption: [
        'Final accuracy (%) on the test sets against the mean over the OOD sets',
        `(${sets.map((s) => s.slice(4)).join(', ')}),`,
        'one point per group, ±1 std over seeds: up and to the right is better.',
        ...(curves.length
          ? [
              'Dashed: WiSE-FT, the weights interpolated from the pre-trained model (α = 0)',
              'to the fine-tuned one (α = 1),',
              'mean over seeds.',
            ]
          : []),
        'Model soups are groups of their own.',
      ].join(' '),
      spec: {
        $schema: SCHEMA,
        width: WIDTH,
        height: WIDTH,
        data: { values },
        encoding: { color: { field: 'group', type: 'nominal', title: null, sort: null } },
        layer: [
          {
            mark: { type: 'point', filled: true, size: 70 },
            encoding: {
              x: { field: 'id', type: 'quantitative', title: 'ID accuracy (%)', scale: { zero: false } },
              y: { field: 'ood', type: 'quantitative', title: 'OOD accuracy (%)', scale: { zero: false } },
              shape: { field: 'optimizer', type: 'nominal' },
            },
          },
          {
            mark: 'errorbar',
            encoding: {
              x: { field: 'idLow', type: 'quantitative' },
              x2: { field: 'idHigh' },
              y: { field: 'ood', type: 'quantitative' },
            },
          },
          {
            mark: 'errorbar',
            encoding: {
              y: { field: 'oodLow', type: 'quantitative' },
              y2: { field: 'oodHigh' },
              x: { field: 'id', type: 'quantitative' },
            },
          },
          ...wise,
        ],
      },
    },
  ];
}

/** Every figure of a report, in reading order. */
export function reportFigures(c: Comparison): Figure[] {
  const steps = new Map<string, StepRow[]>();
  const constraints = new Map<string, ConstraintRow[]>();
  for (const r of c.groups.flatMap((g) => g.runs)) {
    steps.set(r.dir, readRows<StepRow>(join(r.dir, RUN_FILES.steps)));
    const path = join(r.dir, RUN_FILES.constraints);
    if (existsSync(path)) constraints.set(r.dir, readRows<ConstraintRow>(path));
  }
  return [
    ...metricBars(c),
    ...lowLabelCurve(c),
    ...robustnessTradeoff(c),
    ...heatMaps(c),
    ...forgettingCurves(c),
    ...anytimeFigures(c),
    ...lossCurves(c, steps),
    ...constraintCurves(c, constraints),
  ];
}
