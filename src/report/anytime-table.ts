// `compare`'s continual-evaluation table: per group, the metrics of the
// accuracy curves recorded with `eval.every` (src/metrics/anytime.ts), and
// learning accuracy and intransigence from the accuracy matrix. Intransigence
// needs a joint-trained reference: a group of `joint` runs on the same data,
// stream, scenario and model among those compared.
import {
  WF_WINDOW,
  continualCurve,
  intransigence,
  learningAccuracy,
  summarizeCurve,
  type AnytimeSummary,
} from '../metrics/anytime.js';
import type { EvalRow } from '../results/tables.js';
import { meanStd, pct } from './format.js';

export const ANYTIME_METRICS: { key: keyof AnytimeSummary | 'la' | 'intransigence'; label: string; help: string }[] = [
  {
    key: 'aaa',
    label: 'AAA',
    help: 'average anytime accuracy over every continual-evaluation point (Caccia et al. 2022)',
  },
  {
    key: 'aAuc',
    label: 'A_AUC',
    help: 'area under the anytime-accuracy curve over examples seen, per example (Koh et al. 2022)',
  },
  {
    key: 'minAcc',
    label: 'min-ACC',
    help: 'mean over earlier tasks of their lowest accuracy after being learned (De Lange et al. 2023)',
  },
  { key: 'wcAcc', label: 'WC-ACC', help: '(1/T)·a_T + (1 − 1/T)·min-ACC (De Lange et al. 2023)' },
  {
    key: 'wf',
    label: `WF^${WF_WINDOW}`,
    help: `largest accuracy drop within ${WF_WINDOW} evaluation points, mean over earlier tasks (De Lange et al. 2023)`,
  },
  {
    key: 'gap',
    label: 'stability gap',
    help: "a task's accuracy at its end minus its lowest while the next task trains, mean (De Lange et al. 2023)",
  },
  { key: 'la', label: 'LA', help: 'learning accuracy: mean_k R[k][k] (Riemer et al. 2019)' },
  {
    key: 'intransigence',
    label: 'intransigence',
    help: "mean_k (a*_k − R[k][k]), a* a joint run's final accuracy (Chaudhry et al. 2018)",
  },
];

/** A metric over a group's runs. */
type MeanStd = { mean: number; std: number };

export type AnytimeKey = (typeof ANYTIME_METRICS)[number]['key'];

/** What the table needs of a run. */
export interface AnytimeRun {
  readonly evals: readonly EvalRow[];
  readonly R?: number[][];
  readonly columns: Readonly<Record<string, string>>;
}

/** The columns a joint reference must share with the runs it is the reference of. */
const SAME_PROBLEM = ['dataset', 'stream', 'scenario', 'model'] as const;

/** A joint run's final accuracy per task, averaged over the joint runs of the same problem; undefined without any. */
export function jointReference(run: AnytimeRun, all: readonly AnytimeRun[]): number[] | undefined {
  const joint = all.filter(
    (r) => r.columns.strategy === 'joint' && r.R && SAME_PROBLEM.every((c) => r.columns[c] === run.columns[c]),
  );
  if (joint.length === 0 || !run.R) return undefined;
  return run.R.map((_, k) => meanStd(joint.map((r) => r.R!.at(-1)![k])).mean);
}

/** Per metric, mean and std over the group's runs; undefined when no run has continual evaluation or a matrix. */
export function anytimeMetrics(
  runs: readonly AnytimeRun[],
  all: readonly AnytimeRun[],
): Record<AnytimeKey, MeanStd> | undefined {
  const curves = runs.map((r) => continualCurve(r.evals));
  if (curves.every((c) => !c)) return undefined;
  const summaries = curves.map((c) => (c && c.length > 1 ? summarizeCurve(c) : undefined));
  const of = (key: AnytimeKey, i: number): number => {
    const run = runs[i];
    if (key === 'la') return run.R ? learningAccuracy(run.R) : NaN;
    if (key === 'intransigence') {
      const ref = jointReference(run, all);
      return ref && run.R ? intransigence(run.R, ref) : NaN;
    }
    return summaries[i]?.[key] ?? NaN;
  };
  return Object.fromEntries(ANYTIME_METRICS.map((m) => [m.key, meanStd(runs.map((_, i) => of(m.key, i)))])) as Record<
    AnytimeKey,
    MeanStd
  >;
}

/** The table's rows: one per group with continual evaluation. */
export function anytimeTable(
  groups: readonly { key: Record<string, string>; anytime?: Record<AnytimeKey, MeanStd> }[],
  by: readonly string[],
): string[][] | undefined {
  if (!groups.some((g) => g.anytime)) return undefined;
  const cell = (x: MeanStd) => (Number.isFinite(x.mean) ? `${pct(x.mean)} ± ${pct(x.std)}` : '-');
  return [
    ['#', ...by, ...ANYTIME_METRICS.map((m) => m.label)],
    ...groups.flatMap((g, i) =>
      g.anytime
        ? [[String(i + 1), ...by.map((k) => g.key[k]), ...ANYTIME_METRICS.map((m) => cell(g.anytime![m.key]))]]
        : [],
    ),
  ];
}
