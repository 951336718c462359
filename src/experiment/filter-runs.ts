// `anchorage run --only axis=value[,value…]`: a subset of a sweep (one data
// set of a multi-data-set experiment, two strategies of ten), chosen by the
// same names the results tables use. A filter that matches nothing is the
// user's mistake, never an empty sweep that "succeeds".
import type { RunConfig } from '../spec/spec.js';
import { UserError } from '../errors.js';

/**
 * The values a run takes on an axis a filter may name; several where one label stands for several names
 * (`replay(200)+ewc`).
 */
function valuesOf(run: RunConfig, axis: string): string[] | undefined {
  if (axis === 'seed') return [String(run.seed)];
  if (axis === 'scenario') return [run.scenario];
  if (axis === 'strategy')
    return [
      run.variant.strategy ?? run.variant.strategies,
      ...run.strategies.map((s) => s.name),
      ...(run.strategies.length ? [] : ['naive']),
    ].filter((v): v is string => v !== undefined);
  const component = (run.components as Partial<Record<string, { name: string }>>)[axis];
  if (component) return [component.name, ...(run.variant[axis] !== undefined ? [run.variant[axis]] : [])];
  return run.variant[axis] !== undefined ? [run.variant[axis]] : undefined;
}

interface Filter {
  axis: string;
  values: string[];
}

function parseFilter(text: string): Filter {
  const m = /^([A-Za-z][\w-]*)=(.+)$/.exec(text.trim());
  const values = m?.[2].split(',').map((v) => v.trim()) ?? [];
  if (!m || values.some((v) => v === ''))
    throw new UserError(
      `--only: '${text}' is not axis=value[,value…] (e.g. --only dataset=mnist --only strategy=naive,ewc)`,
    );
  return { axis: m[1], values };
}

/**
 * The runs every filter admits (each filter: the run's value on its axis is
 * one of the listed ones), in the sweep's order. Filters on the same axis
 * must all hold.
 */
export function filterRuns(runs: readonly RunConfig[], only: readonly string[]): RunConfig[] {
  const filters = only.map(parseFilter);
  for (const f of filters) {
    const taken = new Set(runs.flatMap((r) => valuesOf(r, f.axis) ?? []));
    if (taken.size === 0) {
      const axes = [
        'seed',
        'scenario',
        'strategy',
        ...Object.keys(runs[0]?.components ?? {}),
        ...Object.keys(runs[0]?.variant ?? {}),
      ];
      throw new UserError(
        `--only: the experiment has no axis '${f.axis}'; filter on one of ${[...new Set(axes)].join(', ')}`,
      );
    }
    const unknown = f.values.filter((v) => !taken.has(v));
    if (unknown.length)
      throw new UserError(
        `--only ${f.axis}=…: no run has ${unknown.map((v) => `'${v}'`).join(', ')}; its runs have ` +
          `${[...taken].sort().join(', ')}`,
      );
  }
  const kept = runs.filter((r) => filters.every((f) => (valuesOf(r, f.axis) ?? []).some((v) => f.values.includes(v))));
  if (kept.length === 0) throw new UserError(`--only ${only.join(' ')}: no run matches every filter at once`);
  return kept;
}
