import { createRequire } from 'node:module';
import type { Observable } from 'rxjs';
import type { RunEvent, RunStart } from '../contracts/events.js';
import type { Reporter } from '../contracts/reporter.js';
import { accuracyMatrix, summarize } from '../metrics/continual.js';
import {
  CONSTRAINTS_COLUMNS,
  EVALS_COLUMNS,
  STEPS_COLUMNS,
  buildTable,
  encodeTable,
  type ConstraintRow,
  type EvalRow,
  type StepRow,
} from './tables.js';
import { RUN_FILES, runDir, writeRunAtomically, type RunRecord } from './run-dir.js';

const require = createRequire(import.meta.url);

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
function versionOf(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The results as a reporter: every sweep has it (a run's results are its tables). */
export function resultsReporter(out: string): Reporter {
  return { name: 'arrow', writesResults: true, onRun: (events) => writeRunResults(events, out) };
}

/** What a run's events add up to, row by row, until its end. */
class RunRows {
  readonly evals: EvalRow[] = [];
  // WiSE-FT's rows go after the run's own, in the same table, apart from the accuracy matrix.
  readonly interpolated: EvalRow[] = [];
  readonly steps: StepRow[] = [];
  readonly constraints: ConstraintRow[] = [];
  start: RunStart | undefined;
  /** The run's warnings (a checkpoint not written, a resume on another backend): in run.json as well as shown. */
  readonly warnings: string[] = [];
  readonly checkpoints = {
    written: 0,
    bytes: 0,
    seconds: [] as number[],
    resumedFrom: null as null | { task: number; step: number },
  };

  add(e: RunEvent): void {
    switch (e.type) {
      case 'resumed':
        this.checkpoints.resumedFrom = { task: e.task, step: e.step };
        for (const row of e.rows) this.add(row);
        break;
      case 'warning':
        this.warnings.push(e.message);
        break;
      case 'checkpoint':
        this.checkpoints.written += 1;
        this.checkpoints.bytes = Math.max(this.checkpoints.bytes, e.bytes);
        this.checkpoints.seconds.push(e.seconds);
        break;
      case 'run-start':
        this.start = e;
        break;
      case 'step':
        this.steps.push({
          run_id: e.runId,
          task: e.task,
          epoch: e.epoch,
          step: e.step,
          global_step: e.globalStep,
          phase: e.phase ?? 0,
          loss: e.loss,
          learning_rate: e.learningRate,
          examples_per_second: e.examplesPerSecond,
        });
        break;
      case 'constraints':
        for (const t of e.tensors) {
          const { runId, task, step, globalStep } = e;
          const { tensor, constraint, distance } = t;
          this.constraints.push({ run_id: runId, task, step, global_step: globalStep, tensor, constraint, distance });
        }
        break;
      case 'eval':
      case 'interpolation-eval': {
        const row = {
          run_id: e.runId,
          trained_task: e.trainedTask,
          eval_task: e.evalTask,
          eval_set: e.evalSet,
          accuracy: e.accuracy,
          loss: e.loss,
          examples: e.examples,
        };
        if (e.type === 'eval') this.evals.push({ ...row, alpha: null, step: e.step ?? null, seen: e.seen ?? null });
        else this.interpolated.push({ ...row, alpha: e.alpha, step: null, seen: null });
        break;
      }
    }
  }

  /** run.json's record, at the run's end. */
  record(e: Extract<RunEvent, { type: 'run-end' }>, start: RunStart): RunRecord {
    const matrix = accuracyMatrix(this.evals, 'test', (start.config as { soup?: unknown }).soup !== undefined);
    const { checkpoints } = this;
    return {
      format: 'anchorage-run/1',
      runId: e.runId,
      experiment: start.config.experiment,
      status: e.status,
      ...(e.error ? { error: e.error } : {}),
      seed: start.config.seed,
      scenario: start.config.scenario,
      backend: start.backend,
      versions: {
        anchorage: versionOf('anchorage'),
        'tfjs-core': start.backend.versions['tfjs-core'],
        'apache-arrow': versionOf('apache-arrow'),
        node: process.versions.node,
      },
      model: start.model,
      optimizer: start.optimizer,
      strategy: start.strategy,
      tasks: start.tasks,
      ...(start.together ? { together: start.together } : {}),
      timings: {
        startedAt: start.startedAt,
        endedAt: new Date().toISOString(),
        seconds: e.seconds,
        steps: e.steps,
        stepsPerSecond: e.stepsPerSecond,
        ...(e.interpolationSeconds !== undefined ? { interpolationSeconds: e.interpolationSeconds } : {}),
      },
      // Written by this process (a resumed run counts only its own); bytes: the largest checkpoint on disk.
      checkpoints: {
        written: checkpoints.written,
        largestBytes: checkpoints.bytes,
        medianSeconds: median(checkpoints.seconds),
        resumedFrom: checkpoints.resumedFrom,
      },
      ...(this.warnings.length ? { warnings: this.warnings } : {}),
      // Derived for convenience; evals.arrow stays the source of truth.
      summary: matrix ? summarize(matrix.R, matrix.untrained) : null,
      config: start.config,
    };
  }

  /** The run's files, as they are written. */
  files(record: RunRecord): Record<string, Uint8Array | string> {
    const finite = (_k: string, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v);
    return {
      [RUN_FILES.evals]: encodeTable(buildTable(EVALS_COLUMNS, [...this.evals, ...this.interpolated])),
      [RUN_FILES.steps]: encodeTable(buildTable(STEPS_COLUMNS, this.steps)),
      [RUN_FILES.constraints]: encodeTable(buildTable(CONSTRAINTS_COLUMNS, this.constraints)),
      [RUN_FILES.run]: JSON.stringify(record, finite, 2) + '\n',
    };
  }
}

/**
 * Observer that turns a run's events into its result files
 * (run.json, evals.arrow, steps.arrow), written atomically at `run-end`.
 * Resolves with the run's folder once the files are in place.
 */
export function writeRunResults(events: Observable<RunEvent>, out: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const rows = new RunRows();
    let written: string | undefined;
    const next = (e: RunEvent): void => {
      if (e.type !== 'run-end') return rows.add(e);
      const start = rows.start;
      if (!start) return reject(new Error(`run ${e.runId} ended without a run-start event`));
      const dir = runDir(out, start.config.experiment, e.runId);
      try {
        // A rerun that did not complete keeps the complete run already there (the scheduler says so).
        writeRunAtomically(dir, rows.files(rows.record(e, start)), e.status);
        written = dir;
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    };
    events.subscribe({
      next,
      error: reject,
      complete: () => (written ? resolve(written) : reject(new Error('run finished without a run-end event'))),
    });
  });
}
