import { existsSync, statSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { GROUP_COLUMNS, compareRuns, selectionColumns, type GroupColumn } from '../report/compare.js';
import { pct, renderTable } from '../report/format.js';
import { builtinPlugins } from '../../plugins/index.js';
import { PluginRegistry, loadPluginModule } from '../plugin/registry.js';
import { selectBackend, type BackendChoice } from '../tensor/backend.js';
import type { RunConfig } from '../spec/spec.js';
import {
  checkCommonStart,
  checkIngredients,
  cookSoups,
  type Ingredient,
  type SelectionCache,
  type SoupKind,
} from '../soup/soup.js';
import { DatasetCache } from '../engine/container.js';
import { UsageError } from './exit-codes.js';
import type { CliIO } from './io.js';

export interface SoupArgs {
  results: string;
  by?: string;
  greedy: boolean;
  backend: BackendChoice;
}

/**
 * `anchorage soup`: per group of runs (default: per method, the experiment
 * and its axes), the uniform soup and with --greedy the greedy one, each
 * evaluated and written as a run beside its ingredients. Every group is
 * checked before anything is evaluated or written.
 */
export async function soupCommand(args: SoupArgs, io: CliIO): Promise<number> {
  if (!existsSync(args.results) || !statSync(args.results).isDirectory())
    throw new UsageError(`no such results folder: ${args.results}`);
  const by = (args.by ?? selectionColumns(args.results).join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = by.filter((c) => !(GROUP_COLUMNS as readonly string[]).includes(c));
  if (unknown.length)
    throw new UsageError(`--by: unknown column ${unknown.join(', ')}; columns: ${GROUP_COLUMNS.join(', ')}`);
  if (by.includes('config'))
    throw new UsageError("--by: a soup averages runs of several configurations or seeds; leave 'config' out");
  const kinds: SoupKind[] = args.greedy ? ['uniform', 'greedy'] : ['uniform'];
  const comparison = compareRuns(args.results, by as GroupColumn[]);
  const groups = comparison.groups
    .filter((g) => g.key.soup === undefined || g.key.soup === '-')
    .map((g) => ({
      label: Object.entries(g.key)
        .filter(([k]) => k !== 'soup')
        .map(([k, v]) => `${k}=${v}`)
        .join(', '),
      runs: g.runs.map((r): Ingredient => ({ runId: r.runId, dir: r.dir, config: r.config as RunConfig })),
    }));
  const rootOf = (r: Ingredient) => dirname(dirname(r.dir));
  const single = groups.filter((g) => g.runs.length < 2);
  for (const g of single) io.out(`${g.label}: one run; a soup of it would be the run itself — skipped\n`);
  const cooking = groups.filter((g) => g.runs.length >= 2);
  if (cooking.length === 0)
    throw new UsageError(`no group of two or more completed runs under ${args.results} (grouped by ${by.join(',')})`);
  // SoupError is a UserError: exit 2, before anything is written.
  const checked = cooking.map((g) => ({ ...g, weights: checkIngredients(g.label, g.runs, rootOf, kinds) }));
  const registry = await registryFor(checked.flatMap((g) => g.runs.map((r) => r.config)));
  const backend = await selectBackend(args.backend);
  const datasets = new DatasetCache();
  for (const g of checked) await checkCommonStart(g.label, g.runs, { registry, backend, datasets });
  const rows: string[][] = [];
  const selections: SelectionCache = new Map();
  for (const g of checked) {
    const results = await cookSoups(g, kinds, { registry, backend, root: rootOf(g.runs[0]), datasets, selections });
    for (const r of results) {
      const ood = Object.entries(r.accuracy)
        .filter(([k]) => k.startsWith('ood:'))
        .map(([, v]) => v);
      rows.push([
        g.label,
        r.kind,
        `${r.record.ingredients.length} of ${r.record.candidates.length}`,
        pct(r.accuracy.test),
        ood.length ? pct(ood.reduce((a, b) => a + b, 0) / ood.length) : '-',
        r.accuracy.validation !== undefined ? pct(r.accuracy.validation) : '-',
        `${r.seconds.toFixed(2)} + ${r.record.rankSeconds.toFixed(2)}`,
        relative(process.cwd(), r.dir) || r.dir,
      ]);
    }
  }
  io.out(
    renderTable([
      ['group', 'soup', 'runs', 'ID acc', 'OOD mean', 'val acc', 'seconds (soup + ranking)', 'written to'],
      ...rows,
    ]) + '\n',
  );
  return 0;
}

/** The built-in plugins and every plugin module the runs used. */
async function registryFor(configs: readonly RunConfig[]): Promise<PluginRegistry> {
  const registry = new PluginRegistry(builtinPlugins);
  const modules = [...new Set(configs.flatMap((c) => c.plugins ?? []))];
  for (const m of modules) for (const def of await loadPluginModule(m)) registry.register(def, m);
  return registry;
}
