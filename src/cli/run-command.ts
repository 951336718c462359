import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import { builtinPlugins } from '../../plugins/index.js';
import { loadExperiment } from '../experiment/load.js';
import { executeRuns } from '../experiment/schedule.js';
import { showProgress } from '../report/progress.js';
import { formatRunReport, loadRunResult } from '../report/summary.js';
import { BACKEND_CHOICES, selectBackend, type BackendChoice } from '../tensor/backend.js';
import { EXIT, UsageError } from './exit-codes.js';
import { preflight } from '../run/preflight.js';
import { isRunComplete, runDir } from '../results/run-dir.js';
import type { CliIO } from './io.js';

export function parseSeeds(text: string): number[] {
  const seeds: number[] = [];
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range) {
      const [a, b] = [Number(range[1]), Number(range[2])];
      if (b < a) throw new UsageError(`--seeds: empty range ${part}`);
      for (let s = a; s <= b; s++) seeds.push(s);
    } else if (/^\d+$/.test(part)) seeds.push(Number(part));
    else throw new UsageError(`--seeds: '${part}' is not a non-negative integer or a range like 0-4`);
  }
  if (seeds.length === 0) throw new UsageError('--seeds: give at least one seed, e.g. --seeds 0,1,2');
  return seeds;
}

export interface RunArgs {
  experiment: string;
  seeds?: string;
  backend: BackendChoice;
  out: string;
  epochs?: number;
  quiet: boolean;
  rerun: boolean;
}

export function runCommandBuilder(y: Argv): Argv<RunArgs> {
  return y
    .positional('experiment', { type: 'string', describe: 'experiment module (.ts), e.g. experiments/split-mnist.ts', demandOption: true })
    .option('seeds', { type: 'string', describe: 'seeds to run, e.g. 0,1,2 or 0-4 (default: the experiment\'s)' })
    .option('backend', { choices: BACKEND_CHOICES, default: 'auto' as BackendChoice, describe: 'tensorflow (native), wasm, cpu; auto takes the fastest that loads' })
    .option('out', { type: 'string', default: 'results', describe: 'results root; runs go to <out>/<experiment>/<run-id>/' })
    .option('epochs', { type: 'number', describe: 'override train.epochs of the experiment' })
    .option('quiet', { type: 'boolean', default: false, describe: 'no progress output; only the final report' })
    .option('rerun', { type: 'boolean', default: false, describe: 'run again even where complete results exist (default: skip them)' })
    .example('$0 run experiments/split-mnist.ts', 'the demo: Split MNIST, class-incremental, AdamW')
    .example('$0 run my-exp.ts --seeds 0-2 --backend wasm', 'three seeds on the wasm backend') as unknown as Argv<RunArgs>;
}

export async function runCommand(args: RunArgs, io: CliIO): Promise<number> {
  if (args.epochs !== undefined && (!Number.isInteger(args.epochs) || args.epochs < 1)) throw new UsageError(`--epochs must be an integer >= 1, got ${args.epochs}`);
  const seeds = args.seeds !== undefined ? parseSeeds(String(args.seeds)) : undefined;
  const loaded = await loadExperiment(args.experiment, builtinPlugins, { seeds, epochs: args.epochs });
  const backend = await selectBackend(args.backend);
  const out = resolve(args.out);
  const pending = args.rerun ? loaded.runs : loaded.runs.filter((r) => !isRunComplete(runDir(out, r.experiment, r.runId)));
  await preflight(pending, loaded.registry, backend);
  io.out(`backend: ${backend.name} (${backend.detail})\n`);
  if (backend.skipped.length && !args.quiet) io.out(`  not used: ${backend.skipped.join('; ')}\n`);
  const controller = new AbortController();
  const onSignal = () => {
    io.err('\ninterrupt: stopping after the current step (results of finished runs are kept)\n');
    controller.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const outcomes = await executeRuns(loaded.runs, loaded.registry, backend, {
      out,
      rerun: args.rerun,
      signal: controller.signal,
      observe: args.quiet ? undefined : (events) => showProgress(events, { tty: io.isTTY, write: io.out }),
      onSkip: (config, dir) => io.out(`run ${config.runId}: complete results exist in ${dir}; skipped (--rerun to run again)\n`),
    });
    io.out(formatRunReport(outcomes.map((o) => loadRunResult(o.dir))) + '\n');
    io.out(`\nresults: ${resolve(out, loaded.runs[0].experiment)}\n`);
    return outcomes.length === loaded.runs.length && outcomes.every((o) => o.status === 'completed') ? EXIT.ok : EXIT.runFailed;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
