import { spawn, type ChildProcess } from 'node:child_process';
import { resultsFolderProblem } from '../results/writable.js';
import { Rng } from '../tensor/rng.js';
import { MAX_SEEDS } from '../spec/validate.js';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { cliPath } from '../package-root.js';
import { builtinPlugins } from '../../plugins/index.js';
import { loadExperiment } from '../experiment/load.js';
import { executeRuns } from '../experiment/schedule.js';
import type { Reporter, ReporterContext } from '../contracts/reporter.js';
import { LiveView, forwardingReporter, type ForwardedEvent } from '../report/live.js';
import type { RunConfig } from '../spec/spec.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { formatRunReport, loadRunResult } from '../report/summary.js';
import { selectBackend, type BackendInfo } from '../tensor/backend.js';
import { intraOpThreads, oneDnn, workerThreads } from './run-threads.js';
import { EXIT, UsageError } from './exit-codes.js';
import { preflight } from '../engine/preflight.js';
import { planTogether, shardOfPlan } from '../together/plan.js';
import { filterRuns } from '../experiment/filter-runs.js';
import { DatasetCache } from '../engine/container.js';
import { isRunComplete, recoverRunDirs, runDir } from '../results/run-dir.js';
import { describeHolder } from '../results/run-lock.js';
import type { CliIO } from './io.js';
import type { RunArgs } from './run-args.js';

export function parseSeeds(text: string): number[] {
  const seeds: number[] = [];
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range) {
      const [a, b] = [Number(range[1]), Number(range[2])];
      if (b < a) throw new UsageError(`--seeds: empty range ${part}`);
      if (b > Rng.MAX_SEED)
        throw new UsageError(
          `--seeds: ${b} is beyond the largest seed, ${Rng.MAX_SEED} (the generator's 32-bit range)`,
        );
      if (b - a + 1 + seeds.length > MAX_SEEDS)
        throw new UsageError(`--seeds: ${part} is ${b - a + 1} seeds; at most ${MAX_SEEDS} per experiment`);
      for (let s = a; s <= b; s++) seeds.push(s);
    } else if (/^\d+$/.test(part)) {
      if (Number(part) > Rng.MAX_SEED)
        throw new UsageError(
          `--seeds: ${part} is beyond the largest seed, ${Rng.MAX_SEED} (the generator's 32-bit range)`,
        );
      seeds.push(Number(part));
    } else throw new UsageError(`--seeds: '${part}' is not a non-negative integer or a range like 0-4`);
  }
  if (seeds.length > MAX_SEEDS)
    throw new UsageError(`--seeds: ${seeds.length} seeds; at most ${MAX_SEEDS} per experiment`);
  if (seeds.length === 0) throw new UsageError('--seeds: give at least one seed, e.g. --seeds 0,1,2');
  return seeds;
}

/**
 * Runs the experiment over `workers` child processes, shard i/N each: runs
 * never share a file, and each child's lines come through with its index.
 */
async function runWorkers(args: RunArgs, io: CliIO, live: LiveView | undefined): Promise<number[]> {
  const pass = [args.experiment, '--out', args.out, '--backend', args.backend, '--quiet'];
  if (args.seeds !== undefined) pass.push('--seeds', String(args.seeds));
  if (args.epochs !== undefined) pass.push('--epochs', String(args.epochs));
  if (args.steps !== undefined) pass.push('--steps', String(args.steps));
  if (args.rerun) pass.push('--rerun');
  if (args.together > 1) pass.push('--together', String(args.together));
  for (const f of args.only ?? []) pass.push('--only', f);
  if (args.checkpointEvery !== undefined) pass.push('--checkpoint-every', String(args.checkpointEvery));
  if (args.checkpointMinutes !== undefined) pass.push('--checkpoint-minutes', String(args.checkpointMinutes));
  if (args.keepCheckpoints !== undefined)
    pass.push(args.keepCheckpoints ? '--keep-checkpoints' : '--no-keep-checkpoints');
  if (args.checkpoints === false) pass.push('--no-checkpoints');
  for (const r of args.reporter ?? []) pass.push('--reporter', r);
  const bin = cliPath();
  const spawned: ChildProcess[] = [];
  // Ctrl-C or a scheduler's SIGTERM reaches the parent: every worker gets it and the parent waits for all.
  const forward = (sig: NodeJS.Signals) => {
    io.err(`\n${sig}: stopping every worker after its current step\n`);
    for (const child of spawned) if (child.exitCode === null) child.kill(sig);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const children = Array.from({ length: args.workers }, (_, i) => {
    // With a live view, each worker forwards its events over an IPC channel; the parent's page shows them all.
    const child = spawn(process.execPath, [...NURSERY, bin, 'run', ...pass, '--shard', `${i}/${args.workers}`], {
      stdio: live ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...workerThreads(args.workers, process.env),
        [PARENT_PID]: String(process.pid),
        ...(live ? { [FORWARD_EVENTS]: '1' } : {}),
      },
    });
    spawned.push(child);
    if (live) child.on('message', (m: ForwardedEvent) => ('sweep' in m ? live.sweep(m.sweep, i) : live.event(m.run)));
    for (const [stream, write] of [
      [child.stdout, io.out],
      [child.stderr, io.err],
    ] as const) {
      createInterface({ input: stream! }).on('line', (line) => {
        // Each child ends with a report of its own shard; the parent prints one for all.
        if (
          /^(backend:|shard |run |together: | {2}not used| {2}(\d+ runs train|run \S+ trains) alone)/.test(line) ||
          write === io.err
        )
          write(`[worker ${i}] ${line}\n`);
      });
    }
    return new Promise<number>((done) =>
      child.on('close', (code, signal) => {
        // A worker the kernel or a user killed says nothing itself; its runs stay unfinished (a rerun completes them).
        if (signal)
          io.err(
            `[worker ${i}] killed by ${signal}${signal === 'SIGKILL' ? ' (out of memory? `dmesg` tells)' : ''}; ` +
              `the other workers go on, and its unfinished runs train when the command runs again\n`,
          );
        done(code ?? 1);
      }),
    );
  });
  try {
    return await Promise.all(children);
  } finally {
    process.removeListener('SIGINT', forward);
    process.removeListener('SIGTERM', forward);
  }
}

/**
 * Said once when `auto` fell back from native TensorFlow because it is not
 * set up or its build does not fit this machine; nothing when the user chose
 * the backend.
 */
export function nativeHint(backend: Pick<BackendInfo, 'name' | 'skipped'>): string | undefined {
  if (backend.name === 'tensorflow' || !backend.skipped.some((s) => s.startsWith('native TensorFlow:')))
    return undefined;
  return (
    'hint: native TensorFlow trains these models several times faster than wasm (docs/performance.md); set it up ' +
    'once with `npx anchorage setup native` (docs/backends.md)'
  );
}

/** i/N from --shard, or from a Slurm array job / Kubernetes Indexed Job's environment. */
export function resolveShard(
  arg: string | undefined,
  env: NodeJS.ProcessEnv,
): { index: number; count: number } | undefined {
  let text = arg;
  if (text === undefined && env.SLURM_ARRAY_TASK_ID !== undefined && env.SLURM_ARRAY_TASK_COUNT !== undefined) {
    const min = Number(env.SLURM_ARRAY_TASK_MIN ?? 0);
    const [id, count] = [Number(env.SLURM_ARRAY_TASK_ID), Number(env.SLURM_ARRAY_TASK_COUNT)];
    if (!Number.isInteger(id - min) || !Number.isInteger(count) || count < 1 || id - min < 0 || id - min >= count) {
      throw new UsageError(
        `Slurm array task ${env.SLURM_ARRAY_TASK_ID} (SLURM_ARRAY_TASK_MIN ${min}) is not one of the ` +
          `${env.SLURM_ARRAY_TASK_COUNT} tasks of SLURM_ARRAY_TASK_COUNT; anchorage shards by the array's index ` +
          `(give --array=0-${Number.isInteger(count) ? count - 1 : 'N-1'} or --shard i/N)`,
      );
    }
    text = `${id - min}/${count}`;
  }
  if (text === undefined && env.JOB_COMPLETION_INDEX !== undefined) {
    if (env.ANCHORAGE_SHARDS === undefined)
      throw new UsageError("JOB_COMPLETION_INDEX is set: also set ANCHORAGE_SHARDS to the Job's completions");
    text = `${env.JOB_COMPLETION_INDEX}/${env.ANCHORAGE_SHARDS}`;
  }
  if (text === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2]))
    throw new UsageError(`--shard must be i/N with 0 <= i < N, got '${text}'`);
  return { index: Number(m[1]), count: Number(m[2]) };
}

export async function runCommand(args: RunArgs, io: CliIO): Promise<number> {
  if (args.epochs !== undefined && (!Number.isInteger(args.epochs) || args.epochs < 1))
    throw new UsageError(`--epochs must be an integer >= 1, got ${args.epochs}`);
  const seeds = args.seeds !== undefined ? parseSeeds(String(args.seeds)) : undefined;
  if (args.steps !== undefined && (!Number.isInteger(args.steps) || args.steps < 0))
    throw new UsageError(`--steps must be an integer >= 0, got ${args.steps}`);
  if (args.checkpointEvery !== undefined && (!Number.isInteger(args.checkpointEvery) || args.checkpointEvery < 0))
    throw new UsageError(`--checkpoint-every must be an integer >= 0, got ${args.checkpointEvery}`);
  if (args.checkpointMinutes !== undefined && (!Number.isFinite(args.checkpointMinutes) || args.checkpointMinutes < 0))
    throw new UsageError(`--checkpoint-minutes must be a number >= 0, got ${args.checkpointMinutes}`);
  const checkpoint = {
    everySteps: args.checkpointEvery,
    everyMinutes: args.checkpointMinutes,
    keep: args.keepCheckpoints,
    enabled: args.checkpoints === false ? false : undefined,
  };
  const loaded = await loadExperiment(args.experiment, builtinPlugins, {
    seeds,
    epochs: args.epochs,
    steps: args.steps,
    checkpoint,
    reporters: args.reporter,
  });
  const runs = args.only?.length ? filterRuns(loaded.runs, args.only) : loaded.runs;
  if (!Number.isInteger(args.workers) || args.workers < 1)
    throw new UsageError(`--workers must be an integer >= 1, got ${args.workers}`);
  if (!Number.isInteger(args.together) || args.together < 1)
    throw new UsageError(`--together must be an integer >= 1, got ${args.together}`);
  const shard = resolveShard(args.shard, process.env);
  // The experiment's own folder, where every run, checkpoint and lock goes: a file there, or a folder that cannot be
  // written, is found now rather than when the first run ends.
  const unwritable = resultsFolderProblem(join(args.out, loaded.runs[0]?.experiment ?? ''));
  if (unwritable) throw new UsageError(unwritable);
  if (args.workers > 1 && shard)
    throw new UsageError('--workers and --shard do not combine: each worker takes a shard of its own');
  const live = args.live !== undefined ? new LiveView() : undefined;
  if (live) {
    // Decimal digits only: Number() would also take '0x50', '1e3' or ' 80'.
    const given = args.live ?? '';
    const port = given === '' ? DEFAULT_LIVE_PORT : /^\d{1,5}$/.test(given) ? Number(given) : NaN;
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`--live takes a port from 0 to 65535, got '${args.live}'`);
    try {
      io.out(`live view: ${await live.listen(port)}\n`);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  try {
    return await runHere(args, io, { loaded, runs, shard, live });
  } finally {
    await live?.close();
  }
}

const DEFAULT_LIVE_PORT = 8765;
/**
 * Set by a parent for its workers: a worker whose parent is gone (killed outright, so it could forward no signal)
 * stops after its current step, as on SIGTERM, instead of training on unseen and holding its runs' locks.
 */
export const PARENT_PID = 'ANCHORAGE_PARENT_PID';

/** Set by a parent with a live view: the worker forwards its events over IPC. */
const FORWARD_EVENTS = 'ANCHORAGE_FORWARD_EVENTS';
/** V8's young generation for a worker, as bin/anchorage.js's first line sets it for the CLI (why: there). */
const NURSERY = ['--max-semi-space-size=2'];

/** What a sweep runs: the loaded experiment, its runs after --only, this process's shard, and the live view. */
interface Sweep {
  loaded: Awaited<ReturnType<typeof loadExperiment>>;
  runs: RunConfig[];
  shard: ReturnType<typeof resolveShard>;
  live: LiveView | undefined;
}

/** The sweep over worker processes: each trains its shard; the parent reports on them all. */
async function runOverWorkers(args: RunArgs, io: CliIO, sweep: Sweep): Promise<number> {
  const { loaded, runs, live } = sweep;
  const codes = await runWorkers(args, io, live);
  const out = resolve(args.out);
  const results = runs
    .map((r) => runDir(out, r.experiment, r.runId))
    .filter((d) => existsSync(d))
    .map(loadRunResult);
  io.out(formatRunReport(results) + '\n');
  io.out(`\nresults: ${resolve(out, loaded.runs[0].experiment)}\n`);
  if (codes.some((c) => c === EXIT.usage)) return EXIT.usage;
  return codes.every((c) => c === 0) && results.length === runs.length ? EXIT.ok : EXIT.runFailed;
}

/**
 * Stops the sweep after the current step on SIGINT or SIGTERM, or when this worker's parent is gone (killed
 * outright, it forwarded no signal). Armed once training is about to start: until then nothing has been written,
 * and a signal keeps its default action, ending the process at once even inside a long synchronous data load.
 */
class StopOnSignals {
  readonly controller = new AbortController();
  private watch: NodeJS.Timeout | undefined;
  // `on`, not `once`: a second signal (a terminal's Ctrl-C and the parent's forwarded one) must not kill the process
  // before it records the run.
  private readonly onSignal = (sig: string) => {
    if (this.controller.signal.aborted) return;
    this.io.err(`\n${sig}: stopping after the current step (results of finished runs are kept)\n`);
    this.controller.abort();
  };

  constructor(private readonly io: CliIO) {}

  arm(): void {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
    const parent = Number(process.env[PARENT_PID]);
    if (parent)
      this.watch = setInterval(() => {
        if (process.ppid !== parent) this.onSignal(`the parent process (pid ${parent}) is gone`);
      }, 500).unref();
  }

  disarm(): void {
    clearInterval(this.watch);
    process.removeListener('SIGINT', this.onSignal);
    process.removeListener('SIGTERM', this.onSignal);
  }
}

async function runHere(args: RunArgs, io: CliIO, sweep: Sweep): Promise<number> {
  const { loaded, runs, shard, live } = sweep;
  if (args.workers > 1) return runOverWorkers(args, io, sweep);
  // Before the native backend loads: TensorFlow reads its thread settings once.
  const intraOp = intraOpThreads(runs, process.env);
  if (intraOp) process.env.TF_NUM_INTRAOP_THREADS = intraOp;
  const onednn = oneDnn(runs, process.env);
  if (onednn) process.env.TF_ENABLE_ONEDNN_OPTS = onednn;
  const backend = await selectBackend(args.backend);
  const datasets = new DatasetCache();
  // Round-robin over the expanded runs: every shard gets a mix of variants, and the shards' union is the whole
  // experiment. Runs trained together are dealt out by whole groups instead (see shardOfPlan).
  const mine = !shard
    ? runs
    : args.together > 1
      ? shardOfPlan(
          runs,
          await planTogether(runs, args.together, loaded.registry, backend, datasets),
          shard.count,
          shard.index,
        )
      : runs.filter((_, k) => k % shard.count === shard.index);
  const out = resolve(args.out);
  for (const experiment of new Set(mine.map((r) => r.experiment))) recoverRunDirs(join(out, experiment));
  const pending = args.rerun ? mine : mine.filter((r) => !isRunComplete(runDir(out, r.experiment, r.runId)));
  const stop = new StopOnSignals(io);
  const reporters = await createReporters(
    loaded.runs[0],
    loaded.registry,
    { out, experiment: loaded.runs[0].experiment, backend, write: io.out, tty: io.isTTY },
    args.quiet,
  );
  if (live) reporters.push(live.reporter());
  if (process.env[FORWARD_EVENTS] && process.send) {
    const send = process.send.bind(process);
    reporters.push(forwardingReporter((m) => send(m)));
  }
  try {
    await preflight(pending, loaded.registry, backend, datasets);
    io.out(`backend: ${backend.name} (${backend.detail})\n`);
    if (backend.skipped.length && !args.quiet) io.out(`  not used: ${backend.skipped.join('; ')}\n`);
    const hint = nativeHint(backend);
    if (hint) io.out(`${hint}\n`);
    if (shard)
      io.out(
        `shard ${shard.index}/${shard.count}: ${mine.length} of ${runs.length} ` +
          `runs${args.together > 1 ? ' (whole groups of runs trained together)' : ''}\n`,
      );
    const together =
      args.together > 1 ? await planTogether(pending, args.together, loaded.registry, backend, datasets) : undefined;
    if (together) {
      const grouped = together.groups.reduce((a, g) => a + g.length, 0);
      io.out(
        `together: ${grouped} of ${pending.length} runs in ${together.groups.length} ` +
          `group${together.groups.length === 1 ? '' : 's'} of up to ${args.together} (checkpoints off for them)\n`,
      );
      for (const line of together.notes) io.out(`  ${line}\n`);
    }
    stop.arm();
    const busy: string[] = [];
    const outcomes = await executeRuns(mine, loaded.registry, backend, {
      out,
      together: together?.groups,
      rerun: args.rerun,
      signal: stop.controller.signal,
      datasets,
      reporters,
      onReporterError: (name, e) => io.err(`warning: reporter ${name} failed: ${e.message}\n`),
      // Seconds a reporter may take over a run once it has ended (60 unless the environment says otherwise).
      reporterTimeoutMs: Number(process.env.ANCHORAGE_REPORTER_TIMEOUT_S) * 1000 || undefined,
      onSkip: (config, dir) =>
        io.out(`run ${config.runId}: complete results exist in ${dir}; skipped (--rerun to run again)\n`),
      onBusy: (config, held) => {
        busy.push(config.runId);
        io.out(`run ${config.runId}: being trained by another process (${describeHolder(held)}); skipped\n`);
      },
      onKept: (config, dir, status) =>
        io.err(
          `run ${config.runId}: the rerun ended ${status}; the complete results in ${dir} are kept ` +
            '(only a complete run replaces them)\n',
        ),
    });
    // Runs another process is training have no record here yet.
    io.out(
      formatRunReport(outcomes.filter((o) => existsSync(join(o.dir, 'run.json'))).map((o) => loadRunResult(o.dir))) +
        '\n',
    );
    io.out(`\nresults: ${resolve(out, loaded.runs[0].experiment)}\n`);
    if (busy.length)
      io.err(
        `${busy.length} run${busy.length > 1 ? 's are' : ' is'} being trained by another process ` +
          `(${busy.join(', ')}): run the command again once it has finished\n`,
      );
    return outcomes.length === mine.length && outcomes.every((o) => o.status === 'completed')
      ? EXIT.ok
      : EXIT.runFailed;
  } finally {
    stop.disarm();
    for (const r of reporters) await r.close?.();
  }
}

/** The reporters `anchorage run` always has: the result tables, and the progress display unless --quiet. */
const DEFAULT_REPORTERS = { always: ['arrow'], unlessQuiet: ['progress'] } as const;

/**
 * The sweep's reporters: the defaults, then the experiment's and the command
 * line's; a plugin named twice reports once. A reporter that cannot be built
 * (tensorboard without native TensorFlow) stops the command before training.
 */
async function createReporters(
  first: RunConfig,
  registry: PluginRegistry,
  ctx: ReporterContext,
  quiet: boolean,
): Promise<Reporter[]> {
  const defaults = [...DEFAULT_REPORTERS.always, ...(quiet ? [] : DEFAULT_REPORTERS.unlessQuiet)].map((name) => ({
    name,
    options: {},
  }));
  const reporters: Reporter[] = [];
  const seen = new Set<unknown>();
  for (const r of [...defaults, ...first.reporters]) {
    const plugin = registry.get('reporter', r.name);
    if (seen.has(plugin)) continue;
    seen.add(plugin);
    try {
      reporters.push(await plugin.create(r.options, ctx));
    } catch (e) {
      throw new UsageError(`reporter '${r.name}': ${(e as Error).message}`);
    }
  }
  return reporters;
}
