// `compare --select`: within each group of runs (one method), the
// configurations (distinct config ids: e.g. EWC with several λ) are ranked on
// the validation hold-out, never on the test data; the group then reports the
// chosen configuration's runs only. Runs carry what the experiment's `select`
// asked for (metric, tasks judged on) in their recorded configuration.
import { accuracyMatrix, averageForgetting, finalAverageAccuracy } from '../metrics/continual.js';
import type { EvalRow } from '../results/tables.js';
import { canonicalJson } from '../spec/validate.js';
import { meanStd } from './format.js';

export class SelectionError extends Error {}

export interface SelectSettings {
  validation: number;
  metric: 'acc' | 'forgetting';
  tasks: number;
}

export interface Candidate {
  configId: string;
  /** The settings that tell this configuration from the other candidates, e.g. "strategies[0].lambda=1e7". */
  label: string;
  runIds: string[];
  seeds: number[];
  /** The selection metric on validation data, mean and std over seeds. */
  validation: { mean: number; std: number };
}

export interface Selection {
  metric: 'acc' | 'forgetting';
  /** Tasks judged on (the first N); 0: the whole stream. */
  tasks: number;
  candidates: Candidate[];
  chosen: string;
}

/** The selection metric of one run on its validation hold-out (over the first `tasks` tasks, or all). */
export function validationScore(evals: readonly EvalRow[], settings: SelectSettings): number {
  const m = accuracyMatrix(evals, 'validation');
  if (!m) return NaN;
  const k = settings.tasks > 0 ? Math.min(settings.tasks, m.R.length) : m.R.length;
  const R = m.R.slice(0, k).map((row) => row.slice(0, k));
  return settings.metric === 'acc' ? finalAverageAccuracy(R) : averageForgetting(R);
}

/** Every option path of a recorded configuration, flattened: what candidates are told apart by. */
function flatten(value: unknown, path: string, out: Map<string, string>): void {
  if (Array.isArray(value) && value.some((v) => typeof v === 'object' && v !== null))
    value.forEach((v, i) => flatten(v, `${path}[${i}]`, out));
  else if (typeof value === 'object' && value !== null && !Array.isArray(value))
    for (const [k, v] of Object.entries(value)) flatten(v, path ? `${path}.${k}` : k, out);
  else out.set(path, typeof value === 'number' ? compactNumber(value) : canonicalJson(value));
}

function compactNumber(x: number): string {
  if (x !== 0 && (Math.abs(x) >= 1e5 || Math.abs(x) < 1e-3))
    return x
      .toExponential()
      .replace(/\.?0+e/, 'e')
      .replace('e+', 'e');
  return String(x);
}

/** The settings in which candidates differ, as "path=value" per candidate. */
export function differences(configs: ReadonlyMap<string, unknown>): Map<string, string> {
  const flat = new Map(
    [...configs].map(([id, c]) => {
      const out = new Map<string, string>();
      const { components, strategies, train, augment } = (c ?? {}) as Record<string, unknown>;
      flatten({ components, strategies, train, augment }, '', out);
      return [id, out] as const;
    }),
  );
  const paths = new Set([...flat.values()].flatMap((m) => [...m.keys()]));
  const differing = [...paths].filter((p) => new Set([...flat.values()].map((m) => m.get(p) ?? '-')).size > 1).sort();
  if (flat.size === 1) return new Map([...flat.keys()].map((id) => [id, 'its only configuration']));
  return new Map(
    [...flat].map(([id, m]) => [
      id,
      differing
        .map((p) => `${p.replace(/^components\./, '').replace(/\.options\./, '.')}=${m.get(p) ?? '-'}`)
        .join(', ') || id,
    ]),
  );
}

export interface SelectableRun {
  runId: string;
  seed: number;
  configId: string;
  config: unknown;
  select: SelectSettings | null;
  evals: readonly EvalRow[];
}

/**
 * Ranks a group's configurations on validation data: the mean over seeds of
 * the metric (higher accuracy, or lower forgetting, wins; ties go to the
 * configuration listed first). Throws, naming the runs, when some have no
 * validation hold-out or when they disagree on how to select.
 */
export function selectConfiguration(groupName: string, runs: readonly SelectableRun[]): Selection {
  const without = runs.filter((r) => !r.select);
  if (without.length)
    throw new SelectionError(
      `${groupName}: run${without.length > 1 ? 's' : ''} ${without.map((r) => r.runId).join(', ')} ` +
        `ha${without.length > 1 ? 've' : 's'} no validation hold-out (the experiment has no \`select\`)`,
    );
  const settings = runs[0].select!;
  const other = runs.find(
    (r) => canonicalJson({ ...r.select, validation: 0 }) !== canonicalJson({ ...settings, validation: 0 }),
  );
  if (other)
    throw new SelectionError(
      `${groupName}: runs ${runs[0].runId} and ${other.runId} select differently (${canonicalJson(settings)} ` +
        `against ${canonicalJson(other.select)})`,
    );
  const byConfig = new Map<string, SelectableRun[]>();
  for (const r of runs) byConfig.set(r.configId, [...(byConfig.get(r.configId) ?? []), r]);
  const labels = differences(new Map([...byConfig].map(([id, rs]) => [id, rs[0].config])));
  const candidates: Candidate[] = [...byConfig].map(([configId, rs]) => ({
    configId,
    label: labels.get(configId)!,
    runIds: rs.map((r) => r.runId),
    seeds: rs.map((r) => r.seed).sort((a, b) => a - b),
    validation: meanStd(rs.map((r) => validationScore(r.evals, settings))),
  }));
  const better = (a: number, b: number) => (settings.metric === 'acc' ? a > b : a < b);
  let chosen = candidates[0];
  for (const c of candidates.slice(1))
    if (better(c.validation.mean, chosen.validation.mean) || Number.isNaN(chosen.validation.mean)) chosen = c;
  return { metric: settings.metric, tasks: settings.tasks, candidates, chosen: chosen.configId };
}
