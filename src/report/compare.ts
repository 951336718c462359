// `anchorage compare`: reads runs back from their Arrow tables (through the
// one run reader), groups them, and reports each continual-learning metric as
// mean ± std over seeds. Runs that did not complete are listed, never averaged in.
import { basename } from 'node:path';
import { strategyLabel } from '../spec/strategy-label.js';
import type { ContinualSummary } from '../metrics/continual.js';
import { findRunDirs, recordFileProblem } from '../results/run-dir.js';
import { readRun } from '../results/run-reader.js';
import type { EvalRow, SelectionRow } from '../results/tables.js';
import { meanStd, pct, renderTable } from './format.js';
import { formatMatrix } from './summary.js';
import {
  SelectionError,
  differences,
  selectConfiguration,
  type Candidate,
  type SelectSettings,
  type Selection,
} from './selection.js';

export { GROUP_COLUMNS, FORMATS, METRICS, type GroupColumn, type Format } from './columns.js';
export { SelectionError } from './selection.js';
import { METHOD_COLUMNS, METRICS, type GroupColumn, type Format } from './columns.js';
import { phasesLabel } from '../spec/phase-label.js';
import { ANYTIME_METRICS, anytimeMetrics, anytimeTable, type AnytimeKey } from './anytime-table.js';

export interface LoadedRun {
  dir: string;
  runId: string;
  seed: number;
  status: string;
  complete: boolean;
  columns: Record<GroupColumn, string>;
  R?: number[][];
  /** The untrained (pre-trained) model's accuracy per task. */
  untrained?: number[];
  summary?: ContinualSummary;
  taskNames: string[];
  /** Per eval set: mean accuracy over tasks after the last task, and of the untrained (pre-trained) model. */
  finals: Record<string, { final: number; initial: number }>;
  /** WiSE-FT: per α, per eval set, the interpolated model's mean accuracy over tasks. */
  interpolations: Map<number, Record<string, number>>;
  /** What `compare --select` needs: the recorded configuration, its selection settings and the evaluations. */
  config: unknown;
  configId: string;
  select: SelectSettings | null;
  axes: string[];
  evals: EvalRow[];
}

/** How many labels a run's sampler used, as a sortable label: "1%", "k=10", "all". */
export function labelsOf(sampler: { name: string; options?: Record<string, unknown> } | undefined): string {
  if (sampler?.name === 'fraction') return `${+(100 * Number(sampler.options?.fraction)).toPrecision(3)}%`;
  if (sampler?.name === 'per-class') return `k=${String(sampler.options?.k)}`;
  return 'all';
}

/** Fewer labels first; "all" last. */
function labelOrder(l: string): number {
  return l === 'all' ? Infinity : parseFloat(l.replace(/^k=/, ''));
}

function finalsOf(all: EvalRow[]): LoadedRun['finals'] {
  const out: LoadedRun['finals'] = {};
  const rows = all.filter((r) => r.alpha == null);
  const last = Math.max(...rows.map((r) => r.trained_task));
  for (const set of new Set(rows.map((r) => r.eval_set))) {
    const mean = (t: number) => {
      const xs = rows.filter((r) => r.eval_set === set && r.trained_task === t).map((r) => r.accuracy);
      return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
    };
    out[set] = { final: mean(last), initial: mean(-1) };
  }
  return out;
}

function interpolationsOf(rows: EvalRow[]): LoadedRun['interpolations'] {
  const out = new Map<number, Record<string, number>>();
  const interpolated = rows.filter((r) => r.alpha != null);
  for (const alpha of [...new Set(interpolated.map((r) => r.alpha!))].sort((a, b) => a - b)) {
    const at = interpolated.filter((r) => r.alpha === alpha);
    out.set(
      alpha,
      Object.fromEntries(
        [...new Set(at.map((r) => r.eval_set))].map((set) => {
          const xs = at.filter((r) => r.eval_set === set).map((r) => r.accuracy);
          return [set, xs.reduce((a, b) => a + b, 0) / xs.length];
        }),
      ),
    );
  }
  return out;
}

/** The ID–OOD frontier of WiSE-FT: per group and α, mean ± std over runs of test and mean OOD accuracy. */
export function interpolationRows(c: Comparison): {
  group: number;
  key: Record<string, string>;
  alpha: number;
  id: { mean: number; std: number };
  ood: { mean: number; std: number };
}[] {
  return c.groups.flatMap((g, i) => {
    const alphas = [...new Set(g.runs.flatMap((r) => [...r.interpolations.keys()]))].sort((a, b) => a - b);
    return alphas.map((alpha) => {
      const per = g.runs.map((r) => r.interpolations.get(alpha)).filter((x): x is Record<string, number> => !!x);
      const oodMean = (x: Record<string, number>) => {
        const sets = Object.keys(x).filter((k) => k.startsWith('ood:'));
        return sets.length ? sets.reduce((a, k) => a + x[k], 0) / sets.length : NaN;
      };
      return {
        group: i + 1,
        key: g.key,
        alpha,
        id: meanStd(per.map((x) => x.test ?? NaN)),
        ood: meanStd(per.map(oodMean)),
      };
    });
  });
}

export interface Group {
  key: Record<string, string>;
  runs: LoadedRun[];
  metrics: Record<string, { mean: number; std: number }>;
  meanMatrix?: number[][];
  taskNames: string[];
  /** With `--select`: the configurations ranked on validation data; `runs` are the chosen one's. */
  selection?: Selection;
  /** With `--select`: every run of the group, all configurations. */
  candidates?: LoadedRun[];
  /** With continual evaluation (`eval.every`): its metrics, and learning accuracy and intransigence. */
  anytime?: Record<AnytimeKey, { mean: number; std: number }>;
}

/** `compare --select`'s record: one row per candidate configuration of each group. */
export function selectionRows(c: Comparison): SelectionRow[] {
  return c.groups.flatMap((g) =>
    (g.selection?.candidates ?? []).map((cand) => {
      const runs = (g.candidates ?? []).filter((r) => r.configId === cand.configId);
      const acc = meanStd(runs.map((r) => r.summary!.acc));
      const forgetting = meanStd(runs.map((r) => r.summary!.forgetting));
      return {
        group: Object.entries(g.key)
          .map(([k, v]) => `${k}=${v}`)
          .join(', '),
        config_id: cand.configId,
        settings: cand.label,
        chosen: cand.configId === g.selection!.chosen ? 1 : 0,
        metric: g.selection!.metric,
        judged_tasks: g.selection!.tasks,
        seeds: cand.seeds.length,
        validation_mean: cand.validation.mean,
        validation_std: cand.validation.std,
        test_acc_mean: acc.mean,
        test_acc_std: acc.std,
        test_forgetting_mean: forgetting.mean,
        test_forgetting_std: forgetting.std,
      };
    }),
  );
}

export interface Comparison {
  by: GroupColumn[];
  groups: Group[];
  notComplete: { runId: string; status: string; dir: string }[];
}

function loadRun(dir: string): LoadedRun | undefined {
  const run = readRun(dir);
  if (!run) return undefined;
  const config = run.config;
  const component = (k: string) => config.components?.[k]?.name ?? '?';
  const columns: Record<GroupColumn, string> = {
    experiment: run.record.experiment,
    dataset: component('dataset'),
    stream: component('stream'),
    scenario: config?.scenario ?? '?',
    model: component('model'),
    optimizer: component('optimizer'),
    sampler: component('sampler'),
    labels: labelsOf(config.components?.sampler),
    // Runs recorded before strategies became a list named one `components.strategy`.
    strategy: config.strategies ? strategyLabel(config.strategies) : component('strategy'),
    phases: phasesLabel(config.phases ?? null) || '-',
    soup: config.soup
      ? `${config.soup.kind} (${config.soup.ingredients.length} of ${config.soup.candidates.length})`
      : '-',
    config: config.configId ?? run.runId,
  };
  return {
    dir,
    runId: run.runId,
    seed: run.seed,
    status: run.status,
    complete: run.complete,
    columns,
    R: run.R,
    untrained: run.untrained,
    summary: run.summary,
    taskNames: run.taskNames,
    finals: run.complete ? finalsOf(run.evals) : {},
    interpolations: interpolationsOf(run.evals),
    config,
    configId: config.configId ?? run.runId,
    select: (config as { select?: SelectSettings | null }).select ?? null,
    axes: Object.keys(config.variant ?? {}),
    evals: run.evals,
  };
}

/** The group columns an axis name reports under. */
const AXIS_COLUMN: Record<string, GroupColumn> = {
  dataset: 'dataset',
  stream: 'stream',
  scenario: 'scenario',
  model: 'model',
  optimizer: 'optimizer',
  sampler: 'sampler',
  strategy: 'strategy',
  strategies: 'strategy',
  phases: 'phases',
};

/** `--select` without `--by`: one group per method, i.e. per experiment and axis labels. */
export function selectionColumns(root: string): GroupColumn[] {
  const runs = findRunDirs(root)
    .map(loadRun)
    .filter((r): r is LoadedRun => !!r);
  const axes = new Set(runs.flatMap((r) => r.axes.map((a) => AXIS_COLUMN[a]).filter(Boolean)));
  return [
    'experiment',
    ...(['dataset', 'stream', 'scenario', 'model', 'sampler', 'optimizer', 'strategy', 'phases'] as const).filter((c) =>
      axes.has(c),
    ),
  ];
}

export function compareRuns(root: string, by: GroupColumn[], opts: { select?: boolean } = {}): Comparison {
  if (opts.select && by.includes('config'))
    throw new SelectionError("--select chooses among configurations: leave 'config' out of --by");
  const dirs = findRunDirs(root);
  // A run folder whose run.json does not read is listed by its path, never skipped in silence.
  const unreadable = dirs.flatMap((dir) => {
    const problem = recordFileProblem(dir);
    return problem ? [{ runId: basename(dir), status: `unreadable: ${problem}`, dir }] : [];
  });
  const runs = dirs.map(loadRun).filter((r): r is LoadedRun => !!r);
  const done = runs.filter((r) => r.complete);
  // LP-FT is not fine-tuning, nor a soup its runs: never averaged together, whatever --by says.
  by = [...by, ...METHOD_COLUMNS.filter((c) => !by.includes(c) && done.some((r) => r.columns[c] !== '-'))];
  // A configuration reads as its id and the settings in which it differs from the others of its group (λ=100, not a
  // hash only): its group by the other columns, so a sweep's λ is not buried under what tells RWalk from fine-tuning.
  if (by.includes('config')) {
    const others = by.filter((c) => c !== 'config');
    const groupOf = (r: LoadedRun) => JSON.stringify(others.map((c) => r.columns[c]));
    for (const key of new Set(done.map(groupOf))) {
      const members = done.filter((r) => groupOf(r) === key);
      const labels = differences(new Map(members.map((r) => [r.configId, r.config])));
      if (labels.size < 2) continue;
      for (const r of members)
        if (labels.get(r.configId) !== r.configId) r.columns.config = `${r.configId} ${labels.get(r.configId)}`;
    }
  }
  const groups = new Map<string, Group>();
  for (const run of done) {
    const key = Object.fromEntries(by.map((c) => [c, run.columns[c]]));
    const id = JSON.stringify(key);
    const g = groups.get(id) ?? { key, runs: [], metrics: {}, taskNames: run.taskNames };
    g.runs.push(run);
    groups.set(id, g);
  }
  for (const g of groups.values()) {
    if (opts.select) {
      g.selection = selectConfiguration(Object.values(g.key).join(', '), g.runs);
      g.candidates = g.runs;
      g.runs = g.runs.filter((r) => r.configId === g.selection!.chosen);
    }
    for (const m of METRICS) g.metrics[m.key] = meanStd(g.runs.map((r) => r.summary![m.key]));
    g.anytime = anytimeMetrics(g.runs, done);
    const T = g.runs[0].R!.length;
    // A soup's matrix has its last row only: no forgetting curves to draw from it.
    if (g.runs.every((r) => r.R!.length === T && r.R!.every((row) => row.every(Number.isFinite)))) {
      g.meanMatrix = Array.from({ length: T }, (_, i) =>
        Array.from({ length: T }, (_, j) => meanStd(g.runs.map((r) => r.R![i][j])).mean),
      );
    }
  }
  const sorted = [...groups.values()].sort((a, b) => {
    for (const col of by) {
      const d =
        col === 'labels' ? labelOrder(a.key[col]) - labelOrder(b.key[col]) : a.key[col].localeCompare(b.key[col]);
      if (d !== 0) return d;
    }
    return 0;
  });
  return {
    by,
    groups: sorted,
    notComplete: [
      ...runs
        .filter((r) => !r.complete)
        .map((r) => ({
          runId: r.runId,
          status: r.complete ? 'completed' : r.status === 'completed' ? 'incomplete' : r.status,
          dir: r.dir,
        })),
      ...unreadable,
    ],
  };
}

export function formatComparison(c: Comparison, format: Format, matrixGroup?: number): string {
  if (format === 'json') return JSON.stringify(comparisonJson(c), null, 2);
  if (format === 'csv') return comparisonCsv(c);
  const selected = c.groups.some((g) => g.selection);
  const header = [
    '#',
    ...c.by,
    'runs',
    'seeds',
    ...(selected ? ['chosen on validation', 'val score'] : []),
    ...METRICS.map((m) => m.label),
  ];
  const rows = c.groups.map((g, i) => [
    String(i + 1),
    ...c.by.map((k) => g.key[k]),
    String(g.runs.length),
    g.runs
      .map((r) => r.seed)
      .sort((a, b) => a - b)
      .join(' '),
    ...(selected
      ? [
          g.selection ? `${chosenOf(g).label} (of ${g.selection.candidates.length})` : '-',
          g.selection ? `${g.selection.metric} ${pct(chosenOf(g).validation.mean)}` : '-',
        ]
      : []),
    ...METRICS.map((m) => `${pct(g.metrics[m.key].mean)} ± ${pct(g.metrics[m.key].std)}`),
  ]);
  const table = (t: string[][]) => (format === 'markdown' ? markdownTable(t) : [renderTable(t)]);
  const out: string[] = format === 'markdown' ? [] : ['metrics in %, mean ± std over runs (seeds) of each group'];
  out.push(...table([header, ...rows]));
  const extra = [
    selectionTable(c),
    anytimeTable(c.groups, c.by),
    idOodTable(c),
    interpolationTable(c),
    lowLabelTable(c),
  ].filter((t): t is string[][] => !!t);
  for (const t of extra) out.push('', ...table(t));
  if (matrixGroup !== undefined) out.push(...matrixOf(c, matrixGroup));
  if (c.notComplete.length) {
    out.push(`\nnot averaged (${c.notComplete.length} run${c.notComplete.length > 1 ? 's' : ''} not complete):`);
    for (const r of c.notComplete) out.push(`  ${r.runId}: ${r.status} (${r.dir})`);
  }
  return out.join('\n');
}

/** The configuration `--select` chose in a group. */
function chosenOf(g: Group): Candidate {
  return g.selection!.candidates.find((x) => x.configId === g.selection!.chosen)!;
}

function markdownTable(t: string[][]): string[] {
  return [
    `| ${t[0].join(' | ')} |`,
    `|${t[0].map(() => '---').join('|')}|`,
    ...t.slice(1).map((r) => `| ${r.join(' | ')} |`),
  ];
}

/** `--matrix N`: the mean accuracy matrix of group #N. */
function matrixOf(c: Comparison, n: number): string[] {
  const g = c.groups[n - 1];
  if (!g) return [`\nno group #${n} (there are ${c.groups.length})`];
  if (!g.meanMatrix) return [];
  const title = `\nmean accuracy matrix of group #${n} (${Object.values(g.key).join(', ')}; ${g.runs.length} runs), %`;
  return [title, formatMatrix(g.meanMatrix, g.taskNames)];
}

function comparisonJson(c: Comparison): unknown {
  return {
    by: c.by,
    metrics: Object.fromEntries([...METRICS, ...ANYTIME_METRICS].map((m) => [m.label, m.help])),
    groups: c.groups.map((g) => ({
      ...g.key,
      runs: g.runs.map((r) => r.runId),
      ...(g.selection ? { selection: g.selection } : {}),
      ...(g.runs.some((r) => r.interpolations.size)
        ? {
            interpolation: interpolationRows({ ...c, groups: [g] }).map(({ alpha, id, ood }) => ({
              alpha,
              id: { mean: nullable(id.mean), std: nullable(id.std) },
              oodMean: { mean: nullable(ood.mean), std: nullable(ood.std) },
            })),
          }
        : {}),
      ...Object.fromEntries(
        METRICS.map((m) => [m.label, { mean: nullable(g.metrics[m.key].mean), std: nullable(g.metrics[m.key].std) }]),
      ),
      ...(g.anytime
        ? {
            continual: Object.fromEntries(
              ANYTIME_METRICS.map((m) => [
                m.label,
                { mean: nullable(g.anytime![m.key].mean), std: nullable(g.anytime![m.key].std) },
              ]),
            ),
          }
        : {}),
      meanAccuracyMatrix: g.meanMatrix,
    })),
    notComplete: c.notComplete,
  };
}

function comparisonCsv(c: Comparison): string {
  const selected = c.groups.some((g) => g.selection);
  const anytime = c.groups.some((g) => g.anytime);
  const header = [
    ...c.by,
    'runs',
    ...(selected ? ['chosen', 'validation_metric', 'validation_mean'] : []),
    ...METRICS.flatMap((m) => [`${m.label}_mean`, `${m.label}_std`]),
    ...(anytime ? ANYTIME_METRICS.flatMap((m) => [`${m.label}_mean`, `${m.label}_std`]) : []),
  ];
  const lines = c.groups.map((g) =>
    [
      ...c.by.map((k) => csvCell(g.key[k])),
      String(g.runs.length),
      ...(selected
        ? g.selection
          ? [csvCell(chosenOf(g).label), g.selection.metric, num(chosenOf(g).validation.mean)]
          : ['', '', '']
        : []),
      ...METRICS.flatMap((m) => [num(g.metrics[m.key].mean), num(g.metrics[m.key].std)]),
      ...(anytime
        ? ANYTIME_METRICS.flatMap((m) => [num(g.anytime?.[m.key].mean ?? NaN), num(g.anytime?.[m.key].std ?? NaN)])
        : []),
    ].join(','),
  );
  return [header.join(','), ...lines].join('\n');
}

/**
 * With `--select`: every candidate of every group, its validation score, and which was chosen (test metrics only for
 * the chosen one).
 */
function selectionTable(c: Comparison): string[][] | undefined {
  if (!c.groups.some((g) => g.selection)) return undefined;
  const rows = c.groups.flatMap((g, i) =>
    (g.selection?.candidates ?? []).map((cand) => [
      String(i + 1),
      cand.configId === g.selection!.chosen ? '*' : '',
      cand.label,
      cand.seeds.join(' '),
      `${pct(cand.validation.mean)} ± ${pct(cand.validation.std)}`,
    ]),
  );
  const judged = [
    ...new Set(
      c.groups
        .map((g) => (g.selection ? (g.selection.tasks ? `the first ${g.selection.tasks} tasks` : 'all tasks') : ''))
        .filter(Boolean),
    ),
  ].join('; ');
  const metric = [...new Set(c.groups.map((g) => g.selection?.metric).filter(Boolean))].join('/');
  return [['#', 'chosen', 'candidate settings', 'seeds', `validation ${metric} (${judged}), %`], ...rows];
}

/** WiSE-FT's curve per group: ID and mean OOD accuracy of θ(α) for each α. */
function interpolationTable(c: Comparison): string[][] | undefined {
  const rows = interpolationRows(c);
  if (!rows.length) return undefined;
  return [
    ['#', ...c.by, 'WiSE-FT α', 'ID', 'OOD mean'],
    ...rows.map((r) => [
      String(r.group),
      ...c.by.map((k) => r.key[k]),
      String(r.alpha),
      `${pct(r.id.mean)} ± ${pct(r.id.std)}`,
      `${pct(r.ood.mean)} ± ${pct(r.ood.std)}`,
    ]),
  ];
}

/** In-distribution vs OOD accuracy after the last task (mean over tasks), and of the model before training. */
function idOodTable(c: Comparison): string[][] | undefined {
  const sets = [...new Set(c.groups.flatMap((g) => g.runs.flatMap((r) => Object.keys(r.finals))))]
    .filter((s) => s.startsWith('ood:'))
    .sort();
  if (sets.length === 0) return undefined;
  const cell = (g: Group, f: (r: LoadedRun) => number) => {
    const { mean, std } = meanStd(g.runs.map(f));
    return `${pct(mean)} ± ${pct(std)}`;
  };
  const oodMean = (r: LoadedRun, which: 'final' | 'initial') =>
    sets.reduce((a, s) => a + (r.finals[s]?.[which] ?? NaN), 0) / sets.length;
  return [
    [
      '#',
      ...c.by,
      'ID before',
      'ID after',
      'OOD mean before',
      'OOD mean after',
      ...sets.map((s) => `${s.slice(4)} after`),
    ],
    ...c.groups.map((g, i) => [
      String(i + 1),
      ...c.by.map((k) => g.key[k]),
      cell(g, (r) => r.finals.test?.initial ?? NaN),
      cell(g, (r) => r.finals.test?.final ?? NaN),
      cell(g, (r) => oodMean(r, 'initial')),
      cell(g, (r) => oodMean(r, 'final')),
      ...sets.map((s) => cell(g, (r) => r.finals[s]?.final ?? NaN)),
    ]),
  ];
}

/** The low-label curve: final ID accuracy per amount of labels (rows) and optimizer (columns). */
function lowLabelTable(c: Comparison): string[][] | undefined {
  const runs = c.groups.flatMap((g) => g.runs);
  const labels = [...new Set(runs.map((r) => r.columns.labels))];
  if (labels.length < 2) return undefined;
  labels.sort((a, b) => labelOrder(a) - labelOrder(b));
  const optimizers = [...new Set(runs.map((r) => r.columns.optimizer))].sort();
  return [
    ['labels', ...optimizers],
    ...labels.map((l) => [
      l,
      ...optimizers.map((o) => {
        const xs = runs
          .filter((r) => r.columns.labels === l && r.columns.optimizer === o)
          .map((r) => r.finals.test?.final ?? NaN);
        if (xs.length === 0) return '';
        const { mean, std } = meanStd(xs);
        return `${pct(mean)} ± ${pct(std)} (${xs.length})`;
      }),
    ]),
  ];
}

function nullable(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
function num(x: number): string {
  return Number.isFinite(x) ? String(x) : '';
}
function csvCell(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
