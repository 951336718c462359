// The `run` command's arguments, declared apart from the command so that
// parsing them (and --help) loads nothing heavy.
import type { Argv } from 'yargs';
import { BACKEND_CHOICES, type BackendChoice } from '../tensor/backend-choices.js';

export interface RunArgs {
  experiment: string;
  seeds?: string;
  backend: BackendChoice;
  out: string;
  epochs?: number;
  steps?: number;
  quiet: boolean;
  rerun: boolean;
  shard?: string;
  workers: number;
  together: number;
  checkpointEvery?: number;
  checkpointMinutes?: number;
  keepCheckpoints?: boolean;
  checkpoints: boolean;
  reporter?: string[];
  live?: string;
  only?: string[];
}

/** The backend option's default, typed: yargs types an option by its default. */
const AUTO: BackendChoice = 'auto';

export function runCommandBuilder(y: Argv): Argv<RunArgs> {
  return y
    .positional('experiment', {
      type: 'string',
      describe: 'experiment module (.ts), e.g. experiments/split-mnist.ts',
      demandOption: true,
    })
    .option('seeds', { type: 'string', describe: "seeds to run, e.g. 0,1,2 or 0-4 (default: the experiment's)" })
    .option('backend', {
      choices: BACKEND_CHOICES,
      default: AUTO,
      describe: 'tensorflow (native), wasm, cpu; auto takes the fastest that loads',
    })
    .option('out', {
      type: 'string',
      default: 'results',
      describe: 'results root; runs go to <out>/<experiment>/<run-id>/',
    })
    .option('epochs', { type: 'number', describe: 'override train.epochs of the experiment' })
    .option('steps', { type: 'number', describe: 'override train.steps (optimizer steps per task; 0: use epochs)' })
    .option('quiet', { type: 'boolean', default: false, describe: 'no progress output; only the final report' })
    .option('shard', {
      type: 'string',
      describe:
        'run only shard i of N (i/N, 0-based), e.g. 0/2; default from SLURM_ARRAY_TASK_ID/COUNT or ' +
        'JOB_COMPLETION_INDEX',
    })
    .option('workers', {
      type: 'number',
      default: 1,
      describe: 'run the experiment over N worker processes (each takes shard i/N)',
    })
    .option('only', {
      type: 'string',
      array: true,
      describe:
        'run only the runs whose axis takes one of the values, e.g. --only dataset=mnist --only ' +
        'strategy=naive,ewc (seed, scenario, strategy and every component or axis name); repeatable, all must ' +
        'hold',
    })
    .option('together', {
      type: 'number',
      default: 1,
      describe:
        'train up to K runs as one batched model (same model graph, optimizer, batch size and steps per task; ' +
        'each keeps its seed, data, strategy and results); runs that cannot share a step train alone, with one ' +
        'line saying why',
    })
    .option('rerun', {
      type: 'boolean',
      default: false,
      describe: 'run again even where complete results exist (default: skip them)',
    })
    .option('checkpoint-every', {
      type: 'number',
      describe: "also checkpoint every N steps within a task (default: the experiment's checkpoint.everySteps, 0)",
    })
    .option('checkpoint-minutes', {
      type: 'number',
      describe: "checkpoint within a task every M minutes (default: the experiment's, 5; 0: off)",
    })
    .option('keep-checkpoints', { type: 'boolean', describe: "keep each run's checkpoint after it completes" })
    .option('reporter', {
      type: 'string',
      array: true,
      describe: 'add a reporter by name (e.g. parquet, tensorboard); repeatable; `anchorage plugins` lists them',
    })
    .option('live', {
      type: 'string',
      describe:
        'serve a page on 127.0.0.1 that follows the sweep as it runs (--live [PORT], default 8765; 0: any free port)',
    })
    .option('checkpoints', {
      type: 'boolean',
      default: true,
      describe:
        'checkpoint runs (before each task and within tasks) and resume interrupted ones from them; ' +
        '--no-checkpoints: neither',
    })
    .example('$0 run experiments/split-mnist.ts', 'the demo: Split MNIST, class-incremental, AdamW')
    .example('$0 run my-exp.ts --seeds 0-2 --backend wasm', 'three seeds on the wasm backend');
}
