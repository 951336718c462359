import yargs, { type Argv } from 'yargs';
// Only light modules here: each command loads what it needs (TensorFlow.js,
// Arrow, the plugins) when it runs, so that --help and argument errors are quick.
import { UserError } from '../errors.js';
import { BACKEND_CHOICES, type BackendChoice } from '../tensor/backend-choices.js';
import { FORMATS, GROUP_COLUMNS, METRICS, type Format } from '../report/columns.js';
import { TENSORFLOW_VERSION } from '../native/cache.js';
import { EXIT, UsageError } from './exit-codes.js';
import { processIO, type CliIO } from './io.js';
import { runCommandBuilder, type RunArgs } from './run-args.js';

/** Defaults of the options, typed: yargs types an option by its default. */
const AUTO: BackendChoice = 'auto';
const DEFAULT_FORMAT: Format = 'table';

const RESULTS = {
  type: 'string',
  demandOption: true,
  describe: "a results folder (an experiment's, or a whole tree)",
} as const;

function pluginsOptions(y: Argv) {
  return y
    .option('load', { type: 'string', array: true, describe: 'also load these plugin modules' })
    .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' });
}

function compareOptions(y: Argv) {
  return y
    .positional('results', RESULTS)
    .option('by', {
      type: 'string',
      describe:
        `group by these columns (${GROUP_COLUMNS.join(', ')}); default ` +
        `experiment,scenario,optimizer,config, or with --select the experiment and its axes`,
    })
    .option('select', {
      type: 'boolean',
      default: false,
      describe:
        "per group (method), choose the configuration with the best validation score (the experiment's " +
        '`select`) and report only its test metrics; writes selection.arrow',
    })
    .option('format', { choices: FORMATS, default: DEFAULT_FORMAT, describe: 'output format' })
    .option('matrix', { type: 'number', describe: 'also print the mean accuracy matrix of group #N' })
    .epilogue(
      'Metrics (R[i][j] = accuracy on task j after training task i, T tasks, b_j = the untrained model on ' +
        'task j):\n' +
        METRICS.map((m) => `  ${m.label}: ${m.help}`).join('\n') +
        '\nRuns that failed, diverged, were interrupted or are incomplete are listed, never averaged in.',
    );
}

function reportOptions(y: Argv) {
  return y
    .positional('results', RESULTS)
    .option('by', {
      type: 'string',
      default: 'experiment,scenario,optimizer,config',
      describe: `group by these columns (${GROUP_COLUMNS.join(', ')})`,
    })
    .option('out', { type: 'string', describe: 'the HTML file (default: <results>/report.html)' })
    .option('figures', { type: 'string', describe: 'also write every figure as SVG and PNG into this folder' })
    .option('title', { type: 'string', describe: "the page title (default: the experiment's name)" })
    .example('$0 report results/three-scenarios --by scenario,strategy', '')
    .example('$0 report results/robust-finetune --by optimizer,labels --figures figs/', '');
}

function soupOptions(y: Argv) {
  return y
    .positional('results', { ...RESULTS, describe: "an experiment's results folder (its runs saved their weights)" })
    .option('by', {
      type: 'string',
      describe:
        `group runs by these columns (${GROUP_COLUMNS.filter((c) => c !== 'config').join(', ')}); default: ` +
        `the experiment and its axes (one group per method)`,
    })
    .option('greedy', {
      type: 'boolean',
      default: false,
      describe:
        "also the greedy soup: runs best-first on held-out validation data (the experiment's `select`), " +
        'each kept only if validation accuracy does not drop',
    })
    .option('backend', { choices: BACKEND_CHOICES, default: AUTO, describe: 'backend to evaluate on' })
    .example('$0 soup results/robust-finetune-select --by optimizer,labels --greedy', '');
}

function setupOptions(y: Argv) {
  return y
    .positional('what', { choices: ['native'] as const, demandOption: true })
    .option('from', {
      type: 'string',
      describe: 'a tensorflow-cpu wheel (.whl), a libtensorflow tarball, or a folder with lib/ and include/',
    })
    .option('download', {
      type: 'boolean',
      default: false,
      describe: `fetch tensorflow-cpu==${TENSORFLOW_VERSION} with pip download`,
    })
    .option('target', {
      choices: ['portable', 'native'] as const,
      default: 'portable' as const,
      describe:
        "the fused kernels' instruction set: 'portable' runs on any CPU of this architecture, 'native' " +
        "only on CPUs with this one's features",
    })
    .option('check', {
      type: 'boolean',
      default: false,
      hidden: true,
      describe: 'load the native backend and check its fused kernels (what setup runs on a new build)',
    })
    .example('$0 setup native --from tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl', '')
    .example('$0 setup native --download', '');
}

function replayOptions(y: Argv) {
  return y
    .positional('trace', {
      type: 'string',
      demandOption: true,
      describe: 'trace JSON, e.g. test/fixtures/golden/adamw_ftp_basic.json',
    })
    .option('out', {
      type: 'string',
      demandOption: true,
      describe: 'result JSON: {"steps": [{"params": {"<name>": [...]}}]}',
    })
    .option('backend', { choices: BACKEND_CHOICES, default: AUTO, describe: 'backend to replay on' });
}

async function setupHandler(args: Awaited<ReturnType<typeof setupOptions>['argv']>, io: CliIO): Promise<void> {
  if (args.check) {
    const { checkNative } = await import('../native/check.js');
    io.out(`${JSON.stringify(await checkNative())}\n`);
    return;
  }
  const { setupNative } = await import('../native/setup.js');
  const r = setupNative({
    from: args.from,
    download: args.download,
    target: args.target,
    log: (l) => io.out(`${l}\n`),
  });
  io.out(
    `native backend ready: TensorFlow ${r.tensorflow} in ${r.dir}; fused kernels ${r.kernels}; 'auto' now selects it\n`,
  );
}

/** Parses argv, runs a command, returns the exit code (0 ok, 1 a run failed, 2 bad usage or experiment). */
export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  let code: number = EXIT.ok;
  const cli = yargs(argv)
    .scriptName('anchorage')
    .usage('$0 <command> [options]\n\nContinual-learning and low-label fine-tuning experiments on TensorFlow.js.')
    .command<RunArgs>(
      'run <experiment>',
      'run an experiment module: train, evaluate, write Arrow results',
      runCommandBuilder,
      async (args) => {
        const { runCommand } = await import('./run-command.js');
        code = await runCommand(args, io);
      },
    )
    .command(
      'plugins',
      'list every registered plugin by kind, with its options and defaults',
      pluginsOptions,
      async (args) => {
        const { pluginsCommand } = await import('./plugins-command.js');
        code = await pluginsCommand({ load: args.load, json: args.json }, io);
      },
    )
    .command(
      'compare <results>',
      'compare runs: continual-learning metrics grouped, mean ± std over seeds',
      compareOptions,
      async (args) => {
        const { compareCommand } = await import('./compare-command.js');
        code = compareCommand(
          { results: args.results, by: args.by, format: args.format, matrix: args.matrix, select: args.select },
          io,
        );
      },
    )
    .command(
      'report <results>',
      'write a self-contained HTML report (metrics, accuracy matrices, forgetting curves, losses, constraints) ' +
        'of a results folder',
      reportOptions,
      async (args) => {
        const { reportCommand } = await import('./report-command.js');
        code = await reportCommand(
          { results: args.results, by: args.by, out: args.out, figures: args.figures, title: args.title },
          io,
        );
      },
    )
    .command(
      'soup <results>',
      "model soups: average the final weights of each group's runs (one pre-trained model), evaluate and write " +
        'each soup as a run beside them',
      soupOptions,
      async (args) => {
        const { soupCommand } = await import('./soup-command.js');
        code = await soupCommand(
          { results: args.results, by: args.by, greedy: args.greedy, backend: args.backend },
          io,
        );
      },
    )
    .command(
      'setup <what>',
      'set up optional parts; "native": build the native TensorFlow backend from a local TensorFlow C library',
      setupOptions,
      (args) => setupHandler(args, io),
    )
    .command(
      'replay-optimizer <trace>',
      'replay an optimizer trace (format optimizer-trace/1) through the optimizer plugins; write the parameters ' +
        'after every step',
      replayOptions,
      async (args) => {
        const { replayCommand } = await import('./replay-command.js');
        code = await replayCommand({ trace: args.trace, out: args.out, backend: args.backend }, io);
      },
    )
    .demandCommand(1, 'name a command; see --help')
    .strict()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(110, process.stdout.columns || 110))
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(`${msg}\n(run 'anchorage --help' for usage)`);
    });
  try {
    await cli.parseAsync();
  } catch (e) {
    if (e instanceof UserError) {
      io.err(`anchorage: ${e.message}\n`);
      return EXIT.usage;
    }
    io.err(`anchorage: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT.runFailed;
  }
  return code;
}
