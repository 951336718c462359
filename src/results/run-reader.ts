// The one reader of a run folder: its record (typed), whether it is complete
// and why not, and its evaluations as the accuracy matrix. `compare`,
// `report` and the summary `run` prints all read runs through it, so they can
// never disagree on which runs count or what their numbers are.
import { join } from 'node:path';
import { accuracyMatrix, summarize, type ContinualSummary } from '../metrics/continual.js';
import type { ResolvedComponent, ResolvedPhase } from '../spec/spec.js';
import { RUN_FILES, readRunRecord, runProblem, type RunRecord } from './run-dir.js';
import { readRows, type EvalRow } from './tables.js';

/** The fields of a recorded configuration that readers use (older records may lack some). */
export interface RecordedConfig {
  components?: Record<string, { name: string; options?: Record<string, unknown> }>;
  strategies?: ResolvedComponent[];
  scenario?: string;
  configId?: string;
  variant?: Record<string, string>;
  phases?: ResolvedPhase[] | null;
  /** Present on a model soup's record (see src/soup/soup.ts). */
  soup?: { kind: string; ingredients: string[]; candidates: unknown[] };
}

export interface RunView {
  dir: string;
  record: RunRecord;
  runId: string;
  seed: number;
  /** The record's status, or `unreadable: <why>` when it says completed but its tables do not read back whole. */
  status: string;
  error?: string;
  /** Completed, and every table reads back with every evaluation. */
  complete: boolean;
  config: RecordedConfig;
  taskNames: string[];
  /** Empty unless the run is complete (or failed with evaluations that read back). */
  evals: EvalRow[];
  R?: number[][];
  untrained?: number[];
  summary?: ContinualSummary;
}

/** Reads a run folder; undefined when it has no readable run.json. */
export function readRun(dir: string): RunView | undefined {
  const record = readRunRecord(dir);
  if (!record) return undefined;
  const problem = record.status === 'completed' ? runProblem(dir) : undefined;
  let evals: EvalRow[] = [];
  if (!problem) {
    try {
      evals = readRows<EvalRow>(join(dir, RUN_FILES.evals));
    } catch {
      // A run that failed early may have no evaluations to read.
    }
  }
  const soup = (record.config as { soup?: unknown } | undefined)?.soup !== undefined;
  const m = evals.length ? accuracyMatrix(evals, 'test', soup) : undefined;
  const tasks = (record.tasks as { name: string }[] | undefined) ?? [];
  return {
    dir,
    record,
    runId: record.runId,
    seed: record.seed,
    status: problem ? `unreadable: ${problem}` : record.status,
    error: record.error,
    complete: record.status === 'completed' && !problem && !!m,
    config: (record.config as RecordedConfig | undefined) ?? {},
    taskNames: tasks.map((t) => t.name),
    evals,
    R: m?.R,
    untrained: m?.untrained,
    summary: m ? summarize(m.R, m.untrained) : undefined,
  };
}
