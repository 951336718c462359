// End-to-end: the CLI run as a user runs it, results read back with apache-arrow.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { TINY_SPEC, runCli, scratchDir, writeExperiment, regex } from '../helpers.js';
import { nativeBindingMissing } from '../../src/native/load.js';
import { nativeHint } from '../../src/cli/run-command.js';
import { workerThreads } from '../../src/cli/run-threads.js';

function readArrow(path: string) {
  return tableFromIPC(readFileSync(path));
}

describe('anchorage CLI', () => {
  it('tells a native package that is not installed from one installed without its binding', () => {
    expect(nativeBindingMissing('@anchorage-test/no-such-package')).toBe('not installed');
  });

  it('has --help on every command', () => {
    const top = runCli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/run <experiment>/);
    expect(top.stdout).toMatch(/plugins/);
    const run = runCli(['run', '--help']);
    expect(run.code).toBe(0);
    for (const flag of ['--seeds', '--backend', '--out', '--epochs', '--quiet', '--rerun'])
      expect(run.stdout).toContain(flag);
    expect(run.stdout).toMatch(/"auto", "tensorflow", "wasm", "cpu"/);
    expect(runCli(['plugins', '--help']).code).toBe(0);
  });

  it('exits 2 on bad usage', () => {
    const none = runCli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/name a command/);
    const unknown = runCli(['frobnicate']);
    expect(unknown.code).toBe(2);
    const badSeeds = runCli(['run', 'experiments/split-mnist.ts', '--seeds', 'a,b']);
    expect(badSeeds.code).toBe(2);
    expect(badSeeds.stderr).toMatch(/--seeds: 'a' is not a non-negative integer/);
    const badBackend = runCli(['run', 'experiments/split-mnist.ts', '--backend', 'gpu']);
    expect(badBackend.code).toBe(2);
    expect(badBackend.stderr).toMatch(/Invalid values:[\s\S]*backend/);
  });

  it('lists every plugin by kind with options and defaults', () => {
    const r = runCli(['plugins']);
    expect(r.code).toBe(0);
    for (const kind of ['dataset:', 'stream:', 'sampler:', 'model:', 'optimizer:']) expect(r.stdout).toContain(kind);
    expect(r.stdout).toMatch(
      regex(
        /adamw — .*\n\s+lr: number > 0 \| schedule \(constant, linear, /,
        /cosine, step, multistep, exponential\) \(default 0\.001\)/,
      ),
    );
    expect(r.stdout).toMatch(/trainImages: string \(required\)/);
    const json = JSON.parse(runCli(['plugins', '--json']).stdout);
    expect(json.find((p: { name: string }) => p.name === 'sgd').options.momentum.default).toBe(0);
  });

  it('runs an experiment module, writes Arrow tables that read back, and skips complete runs on a rerun', () => {
    const dir = scratchDir('cli');
    const file = writeExperiment(dir, TINY_SPEC);
    const out = join(dir, 'results');
    const r = runCli(['run', file, '--out', out, '--seeds', '0,1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^backend: (wasm|tensorflow|cpu) \(/);
    expect(r.stdout).toMatch(/accuracy matrix/);
    expect(r.stdout).toMatch(/final average accuracy \(ACC, mean of last row\)\s+\d+\.\d%/);
    expect(r.stdout).toMatch(/average forgetting \(Chaudhry et al\. 2018, best-final\)\s+\d+\.\d%/);
    expect(r.stdout).toMatch(/mean ± std over 2 completed runs/);
    // Not a TTY: plain log lines, no carriage returns.
    expect(r.stdout).not.toContain('\r');
    expect(r.stdout).toMatch(/task 1\/2 t0:\{0,1\}\s+step 3\/12\s+epoch 1\s+loss \d\.\d{4}\s+\d+ ex\/s/);

    const runs = readdirSync(join(out, 'tiny')).sort();
    expect(runs).toHaveLength(2);
    const runDir = join(out, 'tiny', runs[0]);
    expect(readdirSync(runDir).sort()).toEqual(['constraints.arrow', 'evals.arrow', 'run.json', 'steps.arrow']);
    expect(readArrow(join(runDir, 'constraints.arrow')).numRows).toBe(0); // adamw has no anchor

    const evals = readArrow(join(runDir, 'evals.arrow'));
    expect(evals.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      'run_id:Utf8',
      'trained_task:Int32',
      'eval_task:Int32',
      'eval_set:Utf8',
      'accuracy:Float64',
      'loss:Float64',
      'examples:Int32',
      'alpha:Float64',
      'step:Int32',
      'seen:Int32',
    ]);
    expect(evals.numRows).toBe(6); // untrained + 2 tasks, each on 2 tasks
    const rows = evals.toArray().map((x) => x.toJSON());
    expect(rows.every((x) => x.run_id === runs[0] && x.eval_set === 'test' && x.accuracy >= 0 && x.accuracy <= 1)).toBe(
      true,
    );
    // alpha is WiSE-FT's interpolation weight: null on the run's own rows.
    expect(rows.every((x) => x.alpha === null)).toBe(true);
    // When each row was scored: the untrained model at 0, then at each task's end (two epochs of 96 examples).
    expect([...new Set(rows.map((x) => `${x.step}/${x.seen}`))]).toEqual(['0/0', '12/192', '24/384']);

    const steps = readArrow(join(runDir, 'steps.arrow'));
    expect(steps.schema.fields.map((f) => f.name)).toEqual([
      'run_id',
      'task',
      'epoch',
      'step',
      'global_step',
      'phase',
      'loss',
      'learning_rate',
      'examples_per_second',
    ]);
    expect(steps.numRows).toBe(8);

    const record = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));
    expect(record).toMatchObject({
      format: 'anchorage-run/1',
      status: 'completed',
      experiment: 'tiny',
      seed: expect.any(Number),
    });
    expect(['wasm', 'tensorflow', 'cpu']).toContain(record.backend.name);
    expect(record.versions['tfjs-core']).toBe('4.22.0');
    expect(record.config.components.optimizer).toEqual({
      name: 'adamw',
      options: expect.objectContaining({ lr: 0.03 }),
    });
    expect(record.timings.steps).toBe(24);

    const again = runCli(['run', file, '--out', out, '--seeds', '0,1']);
    expect(again.code).toBe(0);
    expect(again.stdout.match(/skipped \(--rerun to run again\)/g)).toHaveLength(2);
    expect(again.stdout).toMatch(/accuracy matrix/); // the report is rebuilt from the stored tables
  });

  it('rejects a bad experiment with every problem and exit 2, before training and without touching results', () => {
    const dir = scratchDir('bad');
    const good = writeExperiment(dir, TINY_SPEC, 'good.ts');
    const out = join(dir, 'results');
    expect(runCli(['run', good, '--out', out, '--quiet']).code).toBe(0);
    const before = readdirSync(join(out, 'tiny'));
    const bad = writeExperiment(
      dir,
      { ...TINY_SPEC, optimizer: { name: 'adamw', lr: -0.1 }, model: { name: 'mlpp' } },
      'bad.ts',
    );
    const r = runCli(['run', bad, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/2 problems/);
    expect(r.stderr).toMatch(/optimizer\.lr: must be > 0, got -0\.1/);
    expect(r.stderr).toMatch(/model\.name: unknown model 'mlpp'; registered: cnn, mlp, pretrained/);
    expect(r.stdout).not.toMatch(/backend:/); // nothing started
    expect(readdirSync(join(out, 'tiny'))).toEqual(before);
    expect(runCli(['run', join(dir, 'missing.ts')]).stderr).toMatch(
      /missing\.ts: 1 problem:\n\s+\(file\): no such file/,
    );
  });

  it('loads a user plugin module named in the experiment, with typed options via use()', () => {
    const dir = scratchDir('plugin');
    writeFileSync(
      join(dir, 'sign-sgd.ts'),
      `import { definePlugin, o, tf } from 'anchorage';
export const signSgd = definePlugin({
  kind: 'optimizer',
  name: 'sign-sgd',
  description: 'signSGD: steps of fixed size in the direction of the gradient sign',
  options: { lr: o.number({ description: 'step size', default: 0.01, min: 0, exclusiveMin: true }) },
  create: (opts) => ({
    learningRate: opts.lr,
    description: 'sign-sgd(lr=' + opts.lr + ')',
    rule: {
      name: 'sign',
      init: () => ({}),
      update: (updates) => ({
        updates: Object.fromEntries(Object.entries(updates).map(([k, g]) => [k, tf.mul(tf.sign(g), -opts.lr)])),
        state: {},
      }),
    },
  }),
});
`,
    );
    const spec = JSON.stringify({ ...TINY_SPEC, plugins: ['./sign-sgd.ts'] }).replace(
      /"optimizer":\{[^}]*\}/,
      '"optimizer":use(signSgd, { lr: 0.02 })',
    );
    writeFileSync(
      join(dir, 'exp.ts'),
      `import { defineExperiment, use } from 'anchorage';\nimport { signSgd } from './sign-sgd.ts';\nexport ` +
        `default defineExperiment(${spec});\n`,
    );
    const r = runCli(['run', join(dir, 'exp.ts'), '--out', join(dir, 'results'), '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/sign-sgd-s0-[0-9a-f]{8} \(seed 0\): completed/);
    const listed = runCli(['plugins', '--load', join(dir, 'sign-sgd.ts')]);
    expect(listed.stdout).toMatch(/sign-sgd — signSGD/);
  });

  it('records a diverged run, exits 1, and leaves earlier results intact', () => {
    const dir = scratchDir('nan');
    const out = join(dir, 'results');
    expect(runCli(['run', writeExperiment(dir, TINY_SPEC, 'ok.ts'), '--out', out, '--quiet']).code).toBe(0);
    const [okRun] = readdirSync(join(out, 'tiny'));
    const okBefore = readFileSync(join(out, 'tiny', okRun, 'evals.arrow'));
    const r = runCli([
      'run',
      writeExperiment(dir, { ...TINY_SPEC, optimizer: { name: 'sgd', lr: 1e30 } }, 'nan.ts'),
      '--out',
      out,
      '--quiet',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/diverged — loss became (NaN|Infinity) at task 0/);
    const nanRun = readdirSync(join(out, 'tiny')).find((d) => d.startsWith('sgd-'))!;
    expect(JSON.parse(readFileSync(join(out, 'tiny', nanRun, 'run.json'), 'utf8')).status).toBe('diverged');
    expect(readFileSync(join(out, 'tiny', okRun, 'evals.arrow'))).toEqual(okBefore);
    expect(readdirSync(join(out, 'tiny')).filter((d) => d.startsWith('.'))).toEqual([]); // no temp folders left
  });

  it('stops before training, exit 2, when a data file is malformed, naming the file', () => {
    const dir = scratchDir('idx');
    writeFileSync(join(dir, 'broken-images'), Buffer.from([0x50, 0x4b, 3, 4, 0, 0]));
    const spec = {
      ...TINY_SPEC,
      dataset: { name: 'idx', trainImages: 'broken-images', trainLabels: 'x', testImages: 'x', testLabels: 'x' },
    };
    const r = runCli(['run', writeExperiment(dir, spec), '--out', join(dir, 'results'), '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/dataset: .*broken-images: bad magic number 0x504b0304/);
    expect(existsSync(join(dir, 'results'))).toBe(false);
  });

  it(
    'stops before training, exit 2, when an optimizer option only fails against the model (exclude matching ' +
      'nothing)',
    () => {
      const dir = scratchDir('excl');
      const r = runCli([
        'run',
        writeExperiment(dir, { ...TINY_SPEC, optimizer: { name: 'ftp', exclude: ['haed.*'] } }),
        '--out',
        join(dir, 'results'),
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        regex(
          /optimizer: exclude pattern 'haed\.\*' matches no parameter; /,
          /parameters: fc1\.weight, fc1\.bias, head\.weight, head\.bias/,
        ),
      );
    },
  );

  it('honours --backend cpu and records it', () => {
    const dir = scratchDir('cpu');
    const out = join(dir, 'results');
    const r = runCli([
      'run',
      writeExperiment(dir, TINY_SPEC),
      '--out',
      out,
      '--backend',
      'cpu',
      '--quiet',
      '--epochs',
      '1',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^backend: cpu \(@tensorflow\/tfjs-backend-cpu/);
    const [run] = readdirSync(join(out, 'tiny'));
    const record = JSON.parse(readFileSync(join(out, 'tiny', run, 'run.json'), 'utf8'));
    expect(record.backend.name).toBe('cpu');
    expect(record.config.train.epochs).toBe(1);
    expect(existsSync(join(out, 'tiny', run, 'steps.arrow'))).toBe(true);
  });

  it('hints at `setup native` only when auto fell back because native TensorFlow is not set up', () => {
    const notSetUp = [
      'native TensorFlow: @tensorflow/tfjs-node-gpu: installed without its native binding (tfjs_binding.node)',
    ];
    expect(nativeHint({ name: 'wasm', skipped: notSetUp })).toMatch(
      /^hint: native TensorFlow trains these models several times faster than wasm .*npx anchorage setup native/,
    );
    expect(nativeHint({ name: 'wasm', skipped: [] })).toBeUndefined(); // --backend wasm: the user's choice
    expect(nativeHint({ name: 'tensorflow', skipped: [] })).toBeUndefined();
  });

  it(
    "records native TensorFlow's oneDNN and thread settings in run.json, and gives each worker its share of the " +
      'cores',
    () => {
      expect(workerThreads(2, {}).TF_NUM_INTEROP_THREADS).toBe('1');
      expect(Number(workerThreads(64, {}).TF_NUM_INTRAOP_THREADS)).toBe(1);
      expect(workerThreads(2, { TF_NUM_INTRAOP_THREADS: '3' }).TF_NUM_INTRAOP_THREADS).toBe('3');
      const dir = scratchDir('settings');
      const out = join(dir, 'results');
      const r = runCli(['run', writeExperiment(dir, TINY_SPEC), '--out', out, '--quiet', '--epochs', '1']);
      expect(r.code).toBe(0);
      const [run] = readdirSync(join(out, 'tiny'));
      const record = JSON.parse(readFileSync(join(out, 'tiny', run, 'run.json'), 'utf8'));
      if (record.backend.name === 'tensorflow')
        expect(record.backend.settings).toEqual({
          oneDNN: process.env.TF_ENABLE_ONEDNN_OPTS === '1' ? 'on' : 'off',
          // An MLP alone: one intra-op thread (src/cli/run-threads.ts); one inter-op thread for every model.
          intraOpThreads: process.env.TF_NUM_INTRAOP_THREADS || '1',
          interOpThreads: process.env.TF_NUM_INTEROP_THREADS || '1',
          fusedKernels: process.env.ANCHORAGE_FUSED_KERNELS === '0' ? 'off (ANCHORAGE_FUSED_KERNELS=0)' : 'on',
        });
      else expect(record.backend.settings).toBeUndefined();
    },
  );

  // A tfjs-node installed with its own libtensorflow would load: then there is nothing to refuse.
  const installedBinding =
    !nativeBindingMissing('@tensorflow/tfjs-node-gpu') || !nativeBindingMissing('@tensorflow/tfjs-node');
  it('says clearly when native TensorFlow is asked for but not set up (an empty native cache)', (ctx) => {
    if (installedBinding)
      ctx.skip('a tfjs-node with its own libtensorflow is installed here: there is nothing to refuse');
    const empty = scratchDir('no-native');
    const r = runCli(['run', 'experiments/split-mnist.ts', '--backend', 'tensorflow'], {
      env: { ANCHORAGE_NATIVE_CACHE: empty },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/backend 'tensorflow' is not available: native TensorFlow: .*anchorage setup native/);
  });
});
