// An optimizer's whole state — every transform's slots, FTP's γ and its Adam
// moments, TPGM's radii, the anchors, the step counters — saved to disk and
// loaded into a fresh optimizer: the following steps are bit-identical to
// those of the optimizer that was never interrupted. Runs on the backend the
// suite runs on (CI: wasm and native TensorFlow).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinPlugins } from '../../plugins/index.js';
import { PluginRegistry } from '../../src/plugin/registry.js';
import { resolveOptions } from '../../src/plugin/options.js';
import { selectBackend } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import { Rng } from '../../src/tensor/rng.js';
import { Optimizer } from '../../src/optim/optimizer.js';
import { AnchorStore } from '../../src/optim/anchors.js';
import { readOptimizerState, writeOptimizerState } from '../../src/optim/state-file.js';
import type { Model } from '../../src/contracts/model.js';
import type { NamedTensors } from '../../src/contracts/optimizer.js';
import { scratchDir, regex } from '../helpers.js';

const registry = new PluginRegistry(builtinPlugins);
beforeAll(async () => {
  await selectBackend('auto');
});

const SHAPES: Record<string, number[]> = {
  'fc1.weight': [6, 5],
  'fc1.bias': [5],
  'head.weight': [5, 3],
  'head.bias': [3],
};
const ROW_AXIS = { 'fc1.weight': 1, 'fc1.bias': 0, 'head.weight': 1, 'head.bias': 0 };
const STEPS = 8;
const CUT = 4;

function values(seed: number): Record<string, Float32Array> {
  const rng = new Rng(seed);
  return Object.fromEntries(
    Object.entries(SHAPES).map(([n, s]) => [
      n,
      Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rng.normal()),
    ]),
  );
}

/** One optimizer with its own variables and anchors, built from the plugin as a run builds it. */
async function build(name: string, options: Record<string, unknown>, init: Record<string, Float32Array>) {
  const params = new Map(Object.entries(SHAPES).map(([n, s]) => [n, tf.variable(tf.tensor(init[n], s))]));
  const model: Model = {
    params,
    rowAxis: ROW_AXIS,
    forward: () => tf.scalar(0),
    apply: () => tf.scalar(0),
    describe: () => 'test',
    dispose: () => params.forEach((p) => p.dispose()),
  };
  const plugin = registry.get('optimizer', name);
  const { options: resolved, problems } = resolveOptions(plugin.options, options, 'optimizer');
  expect(problems).toEqual([]);
  const component = await plugin.create(resolved, {
    seed: 0,
    rng: () => new Rng(0),
    resolve: async () => model as never,
    resolvePath: (p) => p,
    problem: async () => ({ featureShape: [], outputs: 0, batchSize: 1 }),
  });
  const anchors = new AnchorStore();
  anchors.snapshot('initial', params);
  const optimizer = new Optimizer(component, params, anchors, ROW_AXIS);
  return { params, optimizer, anchors, dispose: () => (optimizer.dispose(), anchors.dispose(), model.dispose()) };
}

type Built = Awaited<ReturnType<typeof build>>;

/** A validation loss for TPGM's phase: a fixed quadratic in the parameters. */
function validationLoss(target: Record<string, Float32Array>) {
  return (p: NamedTensors) =>
    tf.addN(
      Object.keys(SHAPES).map((n) => tf.sum(tf.square(tf.sub(p[n], tf.tensor(target[n], SHAPES[n]))))),
    ) as tf.Scalar;
}

function step(b: Built, k: number, target: Record<string, Float32Array>): void {
  const g = values(100 + k);
  // Two tasks of 4 steps: per-task schedules restart and task-start anchors move.
  if ((k - 1) % 4 === 0) {
    if ((b.optimizer.component.anchor ?? '') === 'task-start') b.anchors.snapshot('task-start', b.params);
    b.optimizer.onTaskStart();
    b.optimizer.startTraining(4);
  }
  tf.tidy(() => {
    b.optimizer.step(Object.fromEntries(Object.entries(SHAPES).map(([n, s]) => [n, tf.tensor(g[n], s)])));
    if (b.optimizer.phaseDue) b.optimizer.runPhase(validationLoss(target));
  });
}

const snapshot = (b: Built) =>
  Object.fromEntries([...b.params].map(([n, v]) => [n, v.dataSync().slice() as Float32Array]));

const CASES: [string, Record<string, unknown>][] = [
  [
    'adamw',
    { lr: { schedule: 'cosine', value: 0.05, warmup: 2, restart: 'task' }, weightDecay: 0.1, decayExclude: ['*.bias'] },
  ],
  [
    'sgd',
    { lr: { schedule: 'multistep', value: 0.1, milestones: [3, 6] }, momentum: 0.9, nesterov: true, weightDecay: 1e-3 },
  ],
  ['ftp', { lr: 0.05, k: 0.5, exclude: ['head.*'] }],
  ['ftp', { base: 'sgd', lr: 0.1, momentum: 0.9, anchor: 'task-start' }],
  ['tpgm', { lr: 0.05, projEvery: 2, exclude: ['head.bias'] }],
  ['pgd', { lr: 0.05, radius: 0.05, anchor: 'task-start' }],
  ['l2sp', { lr: 0.05, alpha: 0.5, beta: 0.1, exclude: ['head.*'] }],
  ['spd', { lr: 0.05, lambda: 0.5 }],
];

describe('optimizer state saved and loaded', () => {
  const disposers: (() => void)[] = [];
  afterAll(() => disposers.forEach((d) => d()));

  for (const [name, options] of CASES) {
    it(
      `${name} ${JSON.stringify(options)}: the steps after ` + `a load are bit-identical to uninterrupted ones`,
      async () => {
        const init = values(1);
        const target = values(2);
        const whole = await build(name, options, init);
        disposers.push(whole.dispose);
        for (let k = 1; k <= CUT; k++) step(whole, k, target);
        const dir = scratchDir('opt-state');
        await writeOptimizerState(dir, whole.optimizer.save());
        const atCut = snapshot(whole);

        // A fresh optimizer whose variables hold the weights at the cut, and whose anchors are wrong until the load.
        const resumed = await build(name, options, atCut);
        disposers.push(resumed.dispose);
        const saved = readOptimizerState(dir);
        resumed.optimizer.load(saved);
        tf.dispose(Object.values(saved.tensors));
        expect(resumed.optimizer.stepCount).toBe(CUT);

        for (let k = CUT + 1; k <= STEPS; k++) {
          step(whole, k, target);
          step(resumed, k, target);
          const [a, b] = [snapshot(whole), snapshot(resumed)];
          for (const n of Object.keys(SHAPES)) expect(Array.from(b[n]), `${n} at step ${k}`).toEqual(Array.from(a[n]));
          expect(resumed.optimizer.learningRate).toBe(whole.optimizer.learningRate);
        }
        // The state moved: a run that loaded nothing would differ.
        const fresh = await build(name, options, atCut);
        disposers.push(fresh.dispose);
        for (let k = CUT + 1; k <= STEPS; k++) step(fresh, k, target);
        expect(
          Object.keys(SHAPES).some(
            (n) => Array.from(snapshot(fresh)[n]).join() !== Array.from(snapshot(whole)[n]).join(),
          ),
        ).toBe(true);
      },
    );
  }

  it("refuses a state that is not this optimizer's, naming what does not fit, and changes nothing", async () => {
    const init = values(1);
    const adam = await build('adamw', {}, init);
    const sgd = await build('sgd', { momentum: 0.9 }, init);
    disposers.push(adam.dispose, sgd.dispose);
    step(adam, 1, init);
    expect(() => sgd.optimizer.load(adam.optimizer.save())).toThrow(
      regex(
        /does not fit this optimizer \(sgd\(.*\)\): missing /,
        /rule:1:momentum\/momentum\.buf\/fc1\.weight, .*; unknown rule:0:adam\/adam\.m\/fc1\.weight, /,
      ),
    );
    expect(sgd.optimizer.stepCount).toBe(0);
  });
});
