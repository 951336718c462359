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
import { isRunComplete, readRunRecord, recoverRunDirs, runDir } from '../results/run-dir.js';
import { lockRun, type LockHeld } from '../results/run-lock.js';
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
  onBusy?: (config: RunConfig, held: LockHeld) => void;
  /**
   * How long a reporter other than the results' may take over a sweep event, or over a run once the run has
   * ended, before the sweep goes on without waiting (a hook whose promise never settles would hold it forever).
   * Default 60 s.
   */
  reporterTimeoutMs?: number;
  /** Told about a rerun that ended `status` (not completed): the complete results in `dir` are kept. */
  onKept?: (config: RunConfig, dir: string, status: RunStatus) => void;
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
export async function executeRuns(
  runs: RunConfig[],
  registry: PluginRegistry,
  backend: BackendInfo,
  opts: ScheduleOptions,
): Promise<RunOutcome[]> {
  // What a process killed in the middle of writing a run left behind, before anything counts as complete or not.
  for (const experiment of new Set(runs.map((r) => r.experiment))) recoverRunDirs(join(opts.out, experiment));
  return new Sweep(registry, backend, opts).run(runs);
}

/** One sweep: its reporters, told of every run, and the outcomes so far. */
class Sweep {
  private readonly outcomes: RunOutcome[] = [];
  private readonly reporters: Reporter[];

  constructor(
    private readonly registry: PluginRegistry,
    private readonly backend: BackendInfo,
    private readonly opts: ScheduleOptions,
  ) {
    this.reporters = opts.reporters?.some((r) => r.writesResults)
      ? opts.reporters
      : [resultsReporter(opts.out), ...(opts.reporters ?? [])];
  }

  async run(runs: RunConfig[]): Promise<RunOutcome[]> {
    const experiment = runs[0]?.experiment ?? '';
    const backend = this.backend.name;
    const listed = runs.map((r) => ({ runId: r.runId, seed: r.seed, variant: r.variant }));
    await this.tell({ type: 'sweep-start', experiment, runs: listed, backend, startedAt: new Date().toISOString() });
    for (const r of runs) await this.tell({ type: 'run-queued', runId: r.runId, seed: r.seed, variant: r.variant });
    const groupOf = new Map<string, readonly RunConfig[]>();
    for (const g of this.opts.together ?? []) if (g.length > 1) for (const c of g) groupOf.set(c.runId, g);
    const started = new Set<string>();
    for (const config of runs) {
      if (started.has(config.runId)) continue;
      const group = groupOf.get(config.runId);
      for (const c of group ?? []) started.add(c.runId);
      const begun = group ? await this.runGroup(group) : await this.runOne(config);
      if (!begun) break;
    }
    const completed = this.outcomes.filter((o) => o.status === 'completed').length;
    await this.tell({ type: 'sweep-end', experiment, completed, total: runs.length });
    return this.outcomes;
  }

  /** A reporter's failure: the results writer's stops the sweep, any other's is reported (or rethrown). */
  private failed(r: Reporter): (e: unknown) => void {
    return (e) => {
      if (r.writesResults || !this.opts.onReporterError) throw e;
      this.opts.onReporterError(r.name, e as Error);
    };
  }

  private async tell(e: SweepEvent): Promise<void> {
    for (const r of this.reporters) {
      const told = Promise.resolve()
        .then(() => r.onSweepEvent?.(e))
        .catch(this.failed(r));
      await this.timeBoxed(r, told, Promise.resolve(), `the ${e.type} event`);
    }
  }

  /**
   * A reporter's work, waited for at most reporterTimeoutMs once `from` has happened; the results' writer is
   * always waited for. A reporter that takes longer is reported and left to finish (or not) on its own.
   */
  private timeBoxed(r: Reporter, work: Promise<unknown>, from: Promise<void>, what: string): Promise<void> {
    if (r.writesResults) return work.then(() => undefined);
    const ms = this.opts.reporterTimeoutMs ?? 60_000;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const done = work.then(() => {
      settled = true;
      clearTimeout(timer);
    });
    const late = from.then(
      () =>
        new Promise<void>((resolve) => {
          if (settled) return resolve();
          timer = setTimeout(() => {
            this.failed(r)(
              new Error(`did not finish its work on ${what} within ${ms / 1000} s; the sweep goes on without it`),
            );
            resolve();
          }, ms);
        }),
    );
    return Promise.race([done, late]);
  }

  private async skip(config: RunConfig, dir: string, reason: 'complete' | 'busy', held?: LockHeld): Promise<void> {
    if (reason === 'complete') this.opts.onSkip?.(config, dir);
    else this.opts.onBusy?.(config, held!);
    this.outcomes.push({ config, dir, status: reason === 'complete' ? 'completed' : 'interrupted', skipped: true });
    await this.tell({ type: 'run-skipped', runId: config.runId, reason, dir });
  }

  /** Runs trained together: each from its lock to its outcome; a run that is skipped or stops leaves the group. */
  private async runGroup(group: readonly RunConfig[]): Promise<boolean> {
    const steps = new StepGroup(group.map((c) => c.runId));
    const tensorsBefore = tf.memory().numTensors;
    const begun = await Promise.all(
      group.map((c, i) => this.runOne(c, steps.lane(i)).finally(() => steps.lane(i).leave())),
    );
    const leaked = tf.memory().numTensors - tensorsBefore;
    if (leaked > 0)
      throw new Error(
        `internal error: ${leaked} tensors were not freed by the runs trained together ` +
          `(${group.map((c) => c.runId).join(', ')})`,
      );
    return begun.every((b) => b);
  }

  /** One run from its lock to its outcome; false when the sweep was stopped before it began. */
  private async runOne(config: RunConfig, lane?: GroupLane): Promise<boolean> {
    const { opts } = this;
    const dir = runDir(opts.out, config.experiment, config.runId);
    const modelSaved = !config.saveModel || existsSync(join(modelPath(config, opts.out), 'model.json'));
    const complete = () => !opts.rerun && isRunComplete(dir) && modelSaved;
    if (complete()) {
      await this.skip(config, dir, 'complete');
      return true;
    }
    if (opts.signal?.aborted) return false;
    let status: RunStatus;
    const lock = lockRun(dir);
    if ('heldBy' in lock) {
      await this.skip(config, dir, 'busy', lock);
      return true;
    }
    try {
      // Finished while we waited for the lock (another process trained it).
      if (complete()) {
        await this.skip(config, dir, 'complete');
        return true;
      }
      status = await this.train(config, dir, lane);
    } finally {
      lock.release();
    }
    // A macrotask between runs: only then does Node release the finished run's
    // host buffers (its data copies, its container). Without it a worker that
    // runs many runs back to back grew by about a training set per run (9 GB
    // after 20 Split-MNIST runs).
    await new Promise((resolve) => setImmediate(resolve));
    this.outcomes.push({ config, dir, status, skipped: false });
    await this.tell({ type: 'run-finished', runId: config.runId, status, dir });
    return true;
  }

  /**
   * Trains a run, every reporter following its events; its checkpoint goes once its results are in place. Resolves
   * with how the run ended: the status of its run-end event, or failed when its results could not be written.
   */
  private async train(config: RunConfig, dir: string, lane: GroupLane | undefined): Promise<RunStatus> {
    const { opts } = this;
    await this.tell({ type: 'run-started', runId: config.runId, dir });
    const checkpoints = new CheckpointStore(checkpointDir(opts.out, config.experiment, config.runId));
    // --rerun means from the beginning: an old checkpoint would resume the old run.
    if (opts.rerun) checkpoints.remove();
    // One execution shared by every observer: the writer and the display see the same events.
    const events = connectable(
      runEvents(config, this.registry, this.backend, {
        signal: opts.signal,
        out: opts.out,
        datasets: opts.datasets,
        checkpoints: config.checkpoint.enabled ? checkpoints : undefined,
        lane,
      }),
      { connector: () => new Subject<RunEvent>() },
    );
    const over = new Promise<void>((resolve) => events.subscribe({ complete: resolve, error: () => resolve() }));
    // Subscribed before the run starts (synchronously): no reporter misses its first events.
    const following = this.reporters.map((r) => {
      let work: Promise<unknown>;
      try {
        work = Promise.resolve(r.onRun?.(events, config)).catch(this.failed(r));
      } catch (e) {
        work = Promise.resolve().then(() => this.failed(r)(e));
      }
      return this.timeBoxed(r, work, over, `run ${config.runId}`);
    });
    opts.observe?.(events, config);
    // Set by the run-end event (TypeScript cannot see the callback assign it: hence the wider annotation).
    const end: { status: RunStatus } = { status: 'failed' };
    events.subscribe((e) => {
      if (e.type === 'run-end') end.status = e.status;
    });
    events.connect();
    await Promise.all(following);
    const ended = end.status;
    const record = readRunRecord(dir);
    // No record of this run: its results could not be written (the writer's failure has been reported).
    if (!record) return 'failed';
    if (ended !== 'completed' && record.status === 'completed') opts.onKept?.(config, dir, ended);
    // Only once the results are in place: until then the checkpoint is what a rerun resumes from.
    // A diverged run would diverge again from it; interrupted and failed runs (out of memory, a plugin's bug) resume.
    if ((ended === 'completed' && !config.checkpoint.keep) || ended === 'diverged') {
      try {
        checkpoints.remove();
      } catch {
        // A folder that cannot be written: the results are in place, and a checkpoint left behind is never resumed
        // over a complete run (only --rerun starts it again, and that begins from the first step).
      }
    }
    return ended;
  }
}
