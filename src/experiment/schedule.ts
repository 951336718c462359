import { Subject, connectable, type Observable } from 'rxjs';
import type { BackendInfo } from '../tensor/backend.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { modelPath, runEvents } from '../engine/session.js';
import type { RunEvent, RunStatus } from '../contracts/events.js';
import { resultsReporter } from '../results/arrow-writer.js';
import type { Reporter } from '../contracts/reporter.js';
import type { SweepEvent } from '../contracts/events.js';
import { isRunComplete, readRunRecord, runDir } from '../results/run-dir.js';
import { lockRun } from '../results/run-lock.js';
import { CheckpointStore, checkpointDir } from '../checkpoint/store.js';
import type { RunConfig } from '../spec/spec.js';
import type { DatasetCache } from '../engine/container.js';
import { StepGroup } from '../together/group.js';
import type { GroupLane } from '../engine/executor.js';
import { tf } from '../tensor/tf.js';

export interface ScheduleOptions {
  /** Results root: runs land in <out>/<experiment>/<run-id>/. */
  out: string;
  /** Run again even when complete results exist. */
  rerun?: boolean;
  signal?: AbortSignal;
  /** Attach observers (tests) to a run's events before it starts. */
  observe?: (events: Observable<RunEvent>, config: RunConfig) => void;
  /**
   * Who follows the sweep. One that writes the results is always among them
   * (the Arrow tables, added first when none does): whether a run is complete
   * is read from its tables.
   */
  reporters?: Reporter[];
  /** A reporter other than the results' failed: the sweep goes on (its results are unaffected). */
  onReporterError?: (reporter: string, error: Error) => void;
  /** Data sets shared by the runs (and the preflight) of this process. */
  datasets?: DatasetCache;
  /** Told about runs skipped because their results are complete. */
  onSkip?: (config: RunConfig, dir: string) => void;
  /** Told about runs skipped because another live process is training them. */
  onBusy?: (config: RunConfig, pid: number) => void;
  /**
   * Groups of runs to train together (`--together`; see planTogether): each
   * group's runs start together, where its first run comes in the order, and
   * share every training step. Runs in no group train alone.
   */
  together?: readonly (readonly RunConfig[])[];
}

export interface RunOutcome {
  config: RunConfig;
  dir: string;
  status: RunStatus;
  skipped: boolean;
}

/**
 * Runs an experiment's runs one after another in this process. A run whose
 * results are complete is skipped, so an interrupted experiment finishes by
 * running the same command again.
 */
export async function executeRuns(runs: RunConfig[], registry: PluginRegistry, backend: BackendInfo, opts: ScheduleOptions): Promise<RunOutcome[]> {
  const outcomes: RunOutcome[] = [];
  const reporters = opts.reporters?.some((r) => r.writesResults) ? opts.reporters : [resultsReporter(opts.out), ...(opts.reporters ?? [])];
  const failed = (r: Reporter) => (e: unknown) => {
    if (r.writesResults) throw e;
    (opts.onReporterError ?? ((_n, err) => { throw err; }))(r.name, e as Error);
  };
  const tell = async (e: SweepEvent) => {
    for (const r of reporters) await Promise.resolve().then(() => r.onSweepEvent?.(e)).catch(failed(r));
  };
  const experiment = runs[0]?.experiment ?? '';
  await tell({ type: 'sweep-start', experiment, runs: runs.map((r) => ({ runId: r.runId, seed: r.seed, variant: r.variant })), backend: backend.name, startedAt: new Date().toISOString() });
  for (const r of runs) await tell({ type: 'run-queued', runId: r.runId, seed: r.seed, variant: r.variant });
  const skip = async (config: RunConfig, dir: string, reason: 'complete' | 'busy', pid?: number) => {
    if (reason === 'complete') opts.onSkip?.(config, dir);
    else opts.onBusy?.(config, pid!);
    outcomes.push({ config, dir, status: reason === 'complete' ? 'completed' : 'interrupted', skipped: true });
    await tell({ type: 'run-skipped', runId: config.runId, reason, dir });
  };
  /** One run from its lock to its outcome; false when the sweep was stopped before it began. */
  const runOne = async (config: RunConfig, lane?: GroupLane): Promise<boolean> => {
    const dir = runDir(opts.out, config.experiment, config.runId);
    const modelSaved = !config.saveModel || existsSync(join(modelPath(config, opts.out), 'model.json'));
    if (!opts.rerun && isRunComplete(dir) && modelSaved) {
      await skip(config, dir, 'complete');
      return true;
    }
    if (opts.signal?.aborted) return false;
    const lock = lockRun(dir);
    if ('heldBy' in lock) {
      await skip(config, dir, 'busy', lock.heldBy);
      return true;
    }
    try {
      // Finished while we waited for the lock (another process trained it).
      if (!opts.rerun && isRunComplete(dir) && modelSaved) {
        await skip(config, dir, 'complete');
        return true;
      }
      await tell({ type: 'run-started', runId: config.runId, dir });
      const checkpoints = new CheckpointStore(checkpointDir(opts.out, config.experiment, config.runId));
      // --rerun means from the beginning: an old checkpoint would resume the old run.
      if (opts.rerun) checkpoints.remove();
      // One execution shared by every observer: the writer and the display see the same events.
      const events = connectable(
        runEvents(config, registry, backend, { signal: opts.signal, out: opts.out, datasets: opts.datasets, checkpoints: config.checkpoint.enabled ? checkpoints : undefined, lane }),
        { connector: () => new Subject<RunEvent>() },
      );
      // Subscribed before the run starts (synchronously): no reporter misses its first events.
      const following = reporters.map((r) => {
        try {
          return Promise.resolve(r.onRun?.(events, config)).catch(failed(r));
        } catch (e) {
          return Promise.resolve().then(() => failed(r)(e));
        }
      });
      opts.observe?.(events, config);
      events.connect();
      await Promise.all(following);
      // Only once the results are in place: until then the checkpoint is what a rerun resumes from.
      // A diverged run would diverge again from it; interrupted and failed runs (out of memory, a plugin's bug) resume.
      const ended = readRunRecord(dir)?.status;
      if ((ended === 'completed' && !config.checkpoint.keep) || ended === 'diverged') checkpoints.remove();
    } finally {
      lock.release();
    }
    // A macrotask between runs: only then does Node release the finished run's
    // host buffers (its data copies, its container). Without it a worker that
    // runs many runs back to back grew by about a training set per run (9 GB
    // after 20 Split-MNIST runs).
    await new Promise((resolve) => setImmediate(resolve));
    const status = readRunRecord(dir)?.status ?? 'failed';
    outcomes.push({ config, dir, status, skipped: false });
    await tell({ type: 'run-finished', runId: config.runId, status, dir });
    return true;
  };
  const groupOf = new Map<string, readonly RunConfig[]>();
  for (const g of opts.together ?? []) if (g.length > 1) for (const c of g) groupOf.set(c.runId, g);
  const started = new Set<string>();
  for (const config of runs) {
    if (started.has(config.runId)) continue;
    const group = groupOf.get(config.runId);
    if (!group) {
      if (!(await runOne(config))) break;
      continue;
    }
    for (const c of group) started.add(c.runId);
    const steps = new StepGroup(group.map((c) => c.runId));
    const tensorsBefore = tf.memory().numTensors;
    // A run that is skipped or stops leaves the group; the others go on.
    const begun = await Promise.all(group.map((c, i) => runOne(c, steps.lane(i)).finally(() => steps.lane(i).leave())));
    const leaked = tf.memory().numTensors - tensorsBefore;
    if (leaked > 0) throw new Error(`internal error: ${leaked} tensors were not freed by the runs trained together (${group.map((c) => c.runId).join(', ')})`);
    if (begun.some((b) => !b)) break;
  }
  await tell({ type: 'sweep-end', experiment, completed: outcomes.filter((o) => o.status === 'completed').length, total: runs.length });
  return outcomes;
}
