import { join } from 'node:path';
import type { ContinualSummary } from '../metrics/continual.js';
import { existsSync } from 'node:fs';
import { readRows, type ConstraintRow } from '../results/tables.js';
import { RUN_FILES } from '../results/run-dir.js';
import { readRun } from '../results/run-reader.js';
import { meanStd, pct, renderTable, signedPct } from './format.js';

export interface RunResult {
  dir: string;
  runId: string;
  seed: number;
  status: string;
  error?: string;
  R?: number[][];
  untrained?: number[];
  summary?: ContinualSummary;
  taskNames: string[];
  optimizer?: string;
  /** Runs that differ only in seed share it. */
  configId: string;
  variant: Record<string, string>;
  /** The last logged constraint and distance of each anchored tensor. */
  finalConstraints?: { tensor: string; constraint: number; distance: number }[];
}

function lastConstraints(dir: string): RunResult['finalConstraints'] {
  const path = join(dir, RUN_FILES.constraints);
  if (!existsSync(path)) return undefined;
  const rows = readRows<ConstraintRow>(path);
  if (rows.length === 0) return undefined;
  const last = new Map<string, ConstraintRow>();
  for (const r of rows)
    if (!last.has(r.tensor) || last.get(r.tensor)!.global_step <= r.global_step) last.set(r.tensor, r);
  return [...last.values()].map((r) => ({ tensor: r.tensor, constraint: r.constraint, distance: r.distance }));
}

/** Reads a run back from its files (through the one run reader): the summary is always derived from evals.arrow. */
export function loadRunResult(dir: string): RunResult {
  const run = readRun(dir);
  if (!run) throw new Error(`${dir}: no readable run.json`);
  return {
    dir,
    runId: run.runId,
    seed: run.seed,
    status: run.status,
    error: run.error,
    R: run.R,
    untrained: run.untrained,
    summary: run.summary,
    taskNames: run.taskNames,
    optimizer: typeof run.record.optimizer === 'string' ? run.record.optimizer : undefined,
    configId: run.config.configId ?? run.runId,
    variant: run.config.variant ?? {},
    // A table that does not read back shows as an unreadable run, never as a crash of the report.
    finalConstraints: run.status.startsWith('unreadable') ? undefined : lastConstraints(dir),
  };
}

function fmt(x: number | null): string {
  return x === null || !Number.isFinite(x) ? '–' : x.toPrecision(4);
}

export function formatMatrix(R: number[][], names: string[], untrained?: number[]): string {
  const T = R.length;
  const header = ['after ↓ / on →', ...Array.from({ length: T }, (_, j) => names[j] ?? `t${j}`), 'mean(seen)'];
  const rows: string[][] = [header];
  if (untrained) rows.push(['untrained', ...untrained.map((x) => pct(x)), '']);
  R.forEach((row, i) => {
    const seen = row.slice(0, i + 1);
    rows.push([names[i] ?? `t${i}`, ...row.map((x) => pct(x)), pct(seen.reduce((a, b) => a + b, 0) / seen.length)]);
  });
  return renderTable(rows);
}

export function formatMetrics(s: ContinualSummary): string {
  return [
    `final average accuracy (ACC, mean of last row)      ${pct(s.acc)}%`,
    `average forgetting (Chaudhry et al. 2018, best-final) ${pct(s.forgetting)}%`,
    `backward transfer (BWT, Lopez-Paz & Ranzato 2017)    ${signedPct(s.bwt)}%`,
    `forward transfer (FWT, vs the untrained model)       ${signedPct(s.fwt)}%`,
    `average incremental accuracy                         ${pct(s.avgIncAcc)}%`,
  ].join('\n');
}

/** The report `anchorage run` prints at the end: per run, then the mean over seeds. */
export function formatRunReport(results: RunResult[]): string {
  const out: string[] = [];
  for (const r of results) {
    out.push(`\n■ ${r.runId} (seed ${r.seed}): ${r.status}${r.error ? ` — ${r.error}` : ''}`);
    if (r.R && r.summary) {
      out.push('accuracy matrix, % (row: after training task i; column: accuracy on task j)');
      out.push(formatMatrix(r.R, r.taskNames, r.untrained));
      out.push('');
      out.push(formatMetrics(r.summary));
    }
    if (r.finalConstraints) {
      const legend = 'constraint: learned or fixed radius, – if none; distance: ‖w − anchor‖₂';
      out.push(`\nanchoring at the end (${legend})`);
      out.push(
        renderTable([
          ['tensor', 'constraint', 'distance'],
          ...r.finalConstraints.map((c) => [c.tensor, fmt(c.constraint), fmt(c.distance)]),
        ]),
      );
    }
  }
  // Mean ± std over seeds, per configuration (never across different variants).
  const byConfig = new Map<string, RunResult[]>();
  for (const r of results)
    if (r.status === 'completed' && r.summary) byConfig.set(r.configId, [...(byConfig.get(r.configId) ?? []), r]);
  for (const done of byConfig.values()) {
    if (done.length < 2) continue;
    const field = (k: keyof ContinualSummary) => meanStd(done.map((r) => r.summary![k]));
    const line = (label: string, k: keyof ContinualSummary) => {
      const { mean, std } = field(k);
      return `${label} ${pct(mean)} ± ${pct(std)}%`;
    };
    const variant = Object.entries(done[0].variant)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    out.push(
      `\n■ ${variant ? `${variant}: ` : ''}mean ± std over ${done.length} completed runs (seeds ` +
        `${done.map((r) => r.seed).join(', ')})`,
    );
    out.push(line('final average accuracy (ACC)          ', 'acc'));
    out.push(line('average forgetting (Chaudhry et al.)  ', 'forgetting'));
    out.push(line('backward transfer (BWT)               ', 'bwt'));
  }
  const notDone = results.filter((r) => r.status !== 'completed');
  if (notDone.length)
    out.push(
      `\n${notDone.length} run(s) did not complete and are not averaged: ` +
        `${notDone.map((r) => `${r.runId} (${r.status})`).join(', ')}`,
    );
  return out.join('\n');
}
