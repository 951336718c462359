// Deep Generative Replay (Shin et al., 2017), as van de Ven et al.'s
// reference code runs it (`--replay=generative`, and `--distill` for soft
// targets): a VAE generator (src/strategies/vae.ts) trains beside the
// classifier in every step, on the step's examples and on the replayed ones;
// from the second task on, each step adds `batchSize` rows sampled from the
// generator as the previous task left it, labelled by the classifier as the
// previous task left it — the most likely class among those seen before
// (`targets: 'hard'`), or its softened outputs matched with distillation at
// `temperature` (`'soft'`). Current and replayed rows weigh 1/t and 1 − 1/t
// in task t, in the classifier's loss and the generator's. In task-IL each
// replayed row is scored once per earlier task, under that task's outputs,
// and the replay loss averages them.
//
// The generator's parameters and its Adam state are the strategy's step
// state: the run loop keeps them between steps and checkpoints them.
import {
  decode,
  definePlugin,
  initVae,
  initVaeAdam,
  o,
  type OptionsInput,
  tf,
  vaeAdamStep,
  vaeLoss,
  type VaeAdam,
  type VaeParams,
  type VaeShape,
} from '../../src/plugin-api.js';
import type { ExtraRows, RowSlice, StrategyState } from '../../src/contracts/strategy.js';
import type { NamedTensors } from '../../src/contracts/optimizer.js';
import { featureSize } from '../../src/contracts/data.js';
import type { ScenarioView } from '../../src/contracts/scenario.js';
import type { Task } from '../../src/contracts/stream.js';

const options = {
  latent: o.integer({ description: "the VAE's latent size (the reference: 100)", default: 100, min: 1 }),
  hidden: o.numbers({
    description: "widths of the VAE's encoder layers, mirrored by its decoder (the reference: the classifier's)",
    default: [400, 400],
    integer: true,
    min: 1,
  }),
  lr: o.number({ description: "the generator's Adam learning rate", default: 0.001, min: 0, exclusiveMin: true }),
  recon: o.enum(['bce', 'mse'], {
    description: "reconstruction loss: 'bce' for inputs in [0, 1] (sigmoid output), 'mse' for any (linear output)",
    default: 'bce',
  }),
  targets: o.enum(['hard', 'soft'], {
    description: "labels of replayed rows: the previous model's most likely class, or its outputs distilled",
    default: 'hard',
  }),
  temperature: o.number({
    description: "distillation temperature (targets 'soft')",
    default: 2,
    min: 0,
    exclusiveMin: true,
  }),
  batchSize: o.integer({ description: "replayed rows per step; 0: the run's batch size", default: 0, min: 0 }),
};

declare module '../../src/plugin/kinds.js' {
  interface StrategyPlugins {
    dgr: OptionsInput<typeof options>;
  }
}

/** How replayed rows are scored: one copy per earlier task in task-IL, one copy otherwise. */
interface ReplayCopy {
  readonly task: number;
  /** −1e9 on the outputs the replayed labels (the teacher) may not take, 0 elsewhere. */
  readonly mask: tf.Tensor1D;
  /** The same for the student in distillation: class-IL adds the current task's classes (they must stay low). */
  readonly student: tf.Tensor1D;
}

const GEN = 'gen/';

const generatorOf = (state: StrategyState): VaeParams => prefixed(state, GEN);

export default definePlugin({
  kind: 'strategy',
  name: 'dgr',
  description: 'Deep Generative Replay: a VAE trained beside the classifier replays earlier tasks, labelled by it',
  options,
  async create(opts, ctx) {
    const model = await ctx.resolve('model');
    if (!model.apply) throw new Error("strategy 'dgr' needs a model that can run with other parameter values");
    const { outputs, featureShape } = await ctx.problem();
    const shape: VaeShape = {
      input: featureSize(featureShape),
      hidden: opts.hidden,
      latent: opts.latent,
      recon: opts.recon,
    };
    const rng = ctx.rng('dgr');
    const initRng = rng.fork('init');
    const seedBase = rng.fork('draws').nextUint32();
    let task = 0;
    // Every draw of a step from (task, step, purpose): a resumed run draws the same.
    const seed = (purpose: number, step: number) =>
      (seedBase ^ Math.imul(task + 1, 0x9e3779b1) ^ Math.imul(step, 0x85ebca6b) ^ Math.imul(purpose, 0xc2b2ae35)) >>> 0;
    let previous: { generator: VaeParams; classifier: NamedTensors } | undefined;
    let copies: ReplayCopy[] = [];
    const taskLabels: number[][] = [];
    const releaseCopies = () => {
      tf.dispose(copies.flatMap((c) => [c.mask, c.student]));
      copies = [];
    };
    const releasePrevious = () => {
      if (previous) tf.dispose([...Object.values(previous.generator), ...Object.values(previous.classifier)]);
      previous = undefined;
    };
    /** The weight of the current task's rows: 1/t. */
    const current = () => 1 / (task + 1);
    const replayed = (batchSize: number, step: number) =>
      decode(previous!.generator, shape, tf.randomNormal([batchSize, shape.latent], 0, 1, 'float32', seed(1, step)));

    return {
      name: 'dgr',
      onTaskStart({ task: t, stream, scenario, state }) {
        task = t.index;
        releaseCopies();
        if (previous) copies = replayCopies(scenario, stream.tasks, task, new Set(taskLabels.flat()), outputs);
        if (state.t) return undefined;
        const params = initVae(shape, initRng);
        const adam = initVaeAdam(params);
        return { state: stateOf(params, adam) };
      },
      composeBatch(batch) {
        if (!previous) return undefined;
        const n = opts.batchSize || batch.size;
        const x = replayed(n, batch.step);
        const teacher = model.apply!(previous.classifier, x, false);
        const weight = (1 - current()) / copies.length;
        const rows: ExtraRows[] = copies.map((c) => {
          const masked = tf.add(teacher, c.mask);
          return {
            x,
            labels: tf.argMax(masked, 1),
            taskIds: tf.fill([n], c.task, 'int32'),
            ...(opts.targets === 'soft' ? { weight: 0, logits: masked } : { weight }),
          };
        });
        return { rows, currentWeight: current() };
      },
      loss: ({ rawLogits, own }) =>
        opts.targets === 'soft' && own.length
          ? tf.mul(distillation(rawLogits, own, copies, opts.temperature), (1 - current()) / current())
          : undefined,
      afterStep({ step, batch, state }) {
        const replay = previous ? replayed(opts.batchSize || batch.size, step) : undefined;
        const next = vaeAdamStep(generatorOf(state), adamOf(state), opts.lr, (p) => {
          const cur = vaeLoss(p, shape, batch.x, seed(2, step));
          if (!replay) return cur;
          return tf.add(tf.mul(cur, current()), tf.mul(vaeLoss(p, shape, replay, seed(3, step)), 1 - current()));
        });
        return stateOf(next.params, next.adam);
      },
      onTaskEnd({ task: t, scenario, state }) {
        releasePrevious();
        previous = { generator: cloneAll(generatorOf(state)), classifier: cloneAll(Object.fromEntries(model.params)) };
        taskLabels.push([...new Set(scenario.labels(t, 'train'))]);
      },
      checkpoint: () => ({
        previous: previous ? { generator: { ...previous.generator }, classifier: { ...previous.classifier } } : null,
        taskLabels: taskLabels.map((l) => [...l]),
      }),
      restore(s) {
        releasePrevious();
        const p = s.previous as { generator: Record<string, tf.Tensor>; classifier: Record<string, tf.Tensor> } | null;
        previous = p ? { generator: cloneAll(p.generator), classifier: cloneAll(p.classifier) } : undefined;
        taskLabels.splice(0, taskLabels.length, ...(s.taskLabels as number[][]));
      },
      dispose() {
        releaseCopies();
        releasePrevious();
      },
    };
  },
});

/**
 * The distillation loss of the replayed rows, averaged over their copies: T²·mean(−Σ softmax(teacher/T)·log
 * softmax(student/T)), the teacher over the earlier classes, the student over the classes so far (the reference's
 * `loss_fn_kd`, whose targets are zero on the current task's classes).
 */
function distillation(rawLogits: tf.Tensor, own: readonly RowSlice[], copies: readonly ReplayCopy[], t: number) {
  const terms = own.map((slice, i) => {
    const student = tf.add(tf.slice(rawLogits, [slice.start, 0], [slice.count, -1]), copies[i].student);
    const targets = tf.softmax(tf.div(slice.rows.logits!, t));
    return tf.mul(tf.mean(tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(tf.div(student, t))), 1))), t * t);
  });
  return tf.div(tf.addN(terms), terms.length);
}

/** −1e9 on the outputs outside `allowed`. */
function maskOf(allowed: Iterable<number>, outputs: number): tf.Tensor1D {
  const set = new Set(allowed);
  return tf.tensor1d(Array.from({ length: outputs }, (_, c) => (set.has(c) ? 0 : -1e9)));
}

/** Task-IL: one copy per earlier task under its outputs; otherwise one copy under the classes seen before. */
function replayCopies(
  scenario: ScenarioView,
  tasks: readonly Task[],
  task: number,
  pastLabels: ReadonlySet<number>,
  outputs: number,
): ReplayCopy[] {
  if (scenario.allowedOutputs(tasks[task]))
    return tasks.slice(0, task).map((t) => {
      const allowed = scenario.allowedOutputs(t)!;
      return { task: t.index, mask: maskOf(allowed, outputs), student: maskOf(allowed, outputs) };
    });
  const soFar = [...pastLabels, ...scenario.labels(tasks[task], 'train')];
  return [{ task: task - 1, mask: maskOf(pastLabels, outputs), student: maskOf(soFar, outputs) }];
}

const cloneAll = (r: Readonly<Record<string, tf.Tensor>>): Record<string, tf.Tensor> =>
  Object.fromEntries(Object.entries(r).map(([n, v]) => [n, tf.keep(tf.clone(v))]));

const adamOf = (state: StrategyState): VaeAdam => ({
  m: prefixed(state, 'm/'),
  v: prefixed(state, 'v/'),
  t: state.t as tf.Scalar,
});

function prefixed(state: StrategyState, prefix: string): VaeParams {
  const p: VaeParams = {};
  for (const [k, t] of Object.entries(state)) if (k.startsWith(prefix)) p[k.slice(prefix.length)] = t;
  return p;
}

function stateOf(params: VaeParams, adam: { m: VaeParams; v: VaeParams; t: tf.Tensor }): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = { t: adam.t };
  for (const [n, v] of Object.entries(params)) out[`${GEN}${n}`] = v;
  for (const [n, v] of Object.entries(adam.m)) out[`m/${n}`] = v;
  for (const [n, v] of Object.entries(adam.v)) out[`v/${n}`] = v;
  return out;
}
