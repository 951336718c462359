// Counts backend kernels: those of one optimizer step per optimizer on the
// Split-MNIST MLP's parameter shapes (784-400-400-10), and those of one whole
// training step of anchorage's loop (forward, backward, optimizer, sampling)
// per model — the difference between a run of 11 steps and one of 1, over 10.
// On native TensorFlow each kernel pays a fixed price, so the counts are what
// fusing reduces. There a kernel is one TensorFlow op the binding executes
// (anchorage's own fused kernels and layer ops included; tfjs kernels that
// only relabel a tensor, such as Identity, execute none), and `uploads`
// counts the host-to-TensorFlow tensor copies; elsewhere the kernels are
// tfjs's (tf.profile). ANCHORAGE_FUSED_KERNELS=0 / ANCHORAGE_LAYER_KERNELS=0:
// the op paths they replace.
// `npx tsx bench/op-count.ts [--backend=wasm] [--models=mlp256,cnn] [--verbose]`.
import { builtinPlugins } from '../plugins/index.js';
import { PluginRegistry } from '../src/plugin/registry.js';
import { resolveOptions } from '../src/plugin/options.js';
import { selectBackend, type BackendChoice } from '../src/tensor/backend.js';
import { tf } from '../src/tensor/tf.js';
import { Rng } from '../src/tensor/rng.js';
import { Optimizer } from '../src/optim/optimizer.js';
import { AnchorStore } from '../src/optim/anchors.js';
import type { Model } from '../src/contracts/model.js';
import { frameworkStepTimes, type Kind } from './loops.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
await selectBackend((args.get('backend') ?? 'auto') as BackendChoice);
const registry = new PluginRegistry(builtinPlugins);
const SHAPES: Record<string, number[]> = {
  'fc1.kernel': [784, 400],
  'fc1.bias': [400],
  'fc2.kernel': [400, 400],
  'fc2.bias': [400],
  'head.kernel': [400, 10],
  'head.bias': [10],
};
const ROW_AXIS = Object.fromEntries(Object.entries(SHAPES).map(([n, s]) => [n, s.length - 1]));

/** What the native binding executes and uploads while `f` runs, or tfjs's kernels on other backends. */
async function countKernels(f: () => Promise<unknown>): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const bump = (name: string) => (counts[name] = (counts[name] ?? 0) + 1);
  const backend = tf.backend() as unknown as { binding?: Record<string, (...a: unknown[]) => unknown> };
  const binding = backend.binding;
  if (!binding) {
    const profile = await tf.profile(async () => (await f(), tf.scalar(0)));
    for (const k of profile.kernels) bump(k.name);
    return counts;
  }
  // The addon's exports are read-only: the backend gets a counting stand-in for the time of `f`.
  const counting: Record<string, (...a: unknown[]) => unknown> = {
    executeOp: (name: unknown, ...rest: unknown[]) => (bump(name as string), binding.executeOp(name, ...rest)),
    createTensor: (...rest: unknown[]) => (bump('uploads'), binding.createTensor(...rest)),
  };
  backend.binding = new Proxy({}, { get: (_, key: string) => counting[key] ?? binding[key] });
  try {
    await f();
  } finally {
    backend.binding = binding;
  }
  return counts;
}

export async function stepKernels(name: string, options: Record<string, unknown>): Promise<Record<string, number>> {
  const rng = new Rng(0);
  const params = new Map(
    Object.entries(SHAPES).map(([n, s]) => [n, tf.variable(tf.randomNormal(s, 0, 0.05, 'float32', rng.int(1 << 30)))]),
  );
  const model: Model = {
    params,
    rowAxis: ROW_AXIS,
    forward: () => tf.scalar(0),
    apply: () => tf.scalar(0),
    describe: () => '',
    dispose: () => params.forEach((p) => p.dispose()),
  };
  const plugin = registry.get('optimizer', name);
  const { options: resolved } = resolveOptions(plugin.options, options, 'optimizer');
  const component = await plugin.create(resolved, {
    seed: 0,
    rng: () => new Rng(0),
    resolve: () => Promise.resolve(model as never),
    resolvePath: (p) => p,
    problem: () => Promise.resolve({ featureShape: [], outputs: 0, batchSize: 1 }),
  });
  const anchors = new AnchorStore();
  anchors.snapshot('initial', params);
  const opt = new Optimizer(component, params, anchors, ROW_AXIS);
  const grads = Object.fromEntries(Object.entries(SHAPES).map(([n, s]) => [n, tf.randomNormal(s)]));
  for (let i = 0; i < 3; i++) tf.tidy(() => opt.step(grads)); // past FTP's first step
  const counts = await countKernels(() => Promise.resolve(tf.tidy(() => opt.step(grads))));
  opt.dispose();
  anchors.dispose();
  model.dispose();
  tf.dispose(Object.values(grads));
  return counts;
}

/** Kernels executed; uploads are counted apart. */
const total = (c: Record<string, number>) => Object.entries(c).reduce((a, [k, n]) => (k === 'uploads' ? a : a + n), 0);
const out: Record<string, number> = {};
const uploads: Record<string, number> = {};
for (const [name, opts] of [
  ['adamw', { weightDecay: 0 }],
  ['sgd', {}],
  ['ftp', { weightDecay: 0 }],
  ['tpgm', { weightDecay: 0 }],
  ['pgd', { weightDecay: 0 }],
  ['l2sp', { weightDecay: 0 }],
  ['spd', { weightDecay: 0 }],
] as const) {
  const c = await stepKernels(name, opts);
  out[name] = total(c);
  if (c.uploads) uploads[`optimizer:${name}`] = c.uploads;
  if (args.has('verbose')) console.log(name, JSON.stringify(c));
}
/** Kernels of one training step of anchorage's loop for a model (Adam). */
async function trainingStepKernels(kind: Kind): Promise<Record<string, number>> {
  const backend = tf.getBackend() as 'tensorflow' | 'wasm' | 'cpu';
  const count = (steps: number) => countKernels(() => frameworkStepTimes(backend, kind, steps));
  const [one, eleven] = [await count(1), await count(11)];
  const perStep = Object.keys(eleven).map((k): [string, number] => [k, ((eleven[k] ?? 0) - (one[k] ?? 0)) / 10]);
  return Object.fromEntries(perStep.filter(([, n]) => n > 0));
}
const training: Record<string, number> = {};
for (const kind of (args.get('models') ?? 'mlp256,mlp,cnn,resnet18').split(',') as Kind[]) {
  const c = await trainingStepKernels(kind);
  training[kind] = total(c);
  if (c.uploads) uploads[kind] = c.uploads;
  if (args.has('verbose')) console.log(kind, JSON.stringify(c));
}
console.log(
  JSON.stringify({
    backend: tf.getBackend(),
    kernelsPerOptimizerStep: out,
    ftpExtra: out.ftp - out.adamw,
    kernelsPerTrainingStep: training,
    uploadsPerStep: uploads,
  }),
);
