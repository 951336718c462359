// SLCA, slow learner with classifier alignment (Zhang et al., ICCV 2023; as
// its reference code and LAMDA-PILOT's `slca` run it):
//  - slow learner: every task fine-tunes the whole pre-trained model, the
//    backbone at a small fraction of the head's learning rate (`slow`: its
//    gradients are scaled, which under SGD — what SLCA trains with — is its
//    learning rate; optimizers that normalise the gradient's scale, Adam's
//    family, undo it), with the loss over the current task's classes only;
//  - classifier alignment: after each task, each of its classes' feature
//    mean and covariance are kept (src/strategies/class-gaussians.ts); from
//    the second task on, a copy of the head is retrained on features sampled
//    from every seen class's Gaussian (`samples` per class per epoch, means of
//    older tasks shrunk as the reference code does), SGD with momentum 0.9
//    and a cosine schedule over `alignEpochs`, logits divided by the mean of
//    their per-task norms and a temperature (`logitNorm`). Evaluation uses the
//    aligned copy; training goes on from the head as the task left it.
import {
  absentMask,
  ClassGaussians,
  definePlugin,
  o,
  type OptionsInput,
  pretrainedBackbone,
  type Rng,
  tf,
} from '../../src/plugin-api.js';
import type { NamedTensors } from '../../src/contracts/optimizer.js';
import type { Model } from '../../src/contracts/model.js';

const options = {
  slow: o.number({
    description:
      "the backbone's learning rate as a fraction of the head's (SLCA: 0.01; a frozen backbone is " +
      "train.params: ['head.*'])",
    default: 0.01,
    min: 0,
    exclusiveMin: true,
    max: 1,
  }),
  alignEpochs: o.integer({
    description: 'epochs of classifier alignment after each task from the second',
    default: 5,
    min: 0,
  }),
  samples: o.integer({ description: 'features sampled per class and epoch of alignment', default: 256, min: 1 }),
  alignLr: o.number({
    description: "alignment's SGD learning rate (cosine-annealed over its epochs)",
    default: 0.01,
    min: 0,
  }),
  alignWeightDecay: o.number({
    description: "alignment's weight decay (added to the gradient, as SGD's)",
    default: 5e-4,
    min: 0,
  }),
  logitNorm: o.number({
    description: 'temperature of the logit normalisation during alignment; 0: plain cross-entropy',
    default: 0.1,
    min: 0,
  }),
};

declare module '../../src/plugin/kinds.js' {
  interface StrategyPlugins {
    slca: OptionsInput<typeof options>;
  }
}

/** The names of the head's weight and bias: the last layer with parameters, which the features feed. */
function headOf(model: Model): { weight: string; bias?: string } {
  const layers = model.architecture?.layers ?? [];
  const last = [...layers].reverse().find((l) => l.type === 'dense' || l.type === 'conv2d');
  if (!last || last.type !== 'dense') throw new Error("strategy 'slca' needs a model whose last layer is dense");
  return {
    weight: `${last.name}.weight`,
    bias: model.params.has(`${last.name}.bias`) ? `${last.name}.bias` : undefined,
  };
}

type Options = {
  readonly [K in keyof typeof options]: number;
};

/** A head's weight [d, outputs] and bias. */
interface Head {
  weight: tf.Tensor2D;
  bias?: tf.Tensor1D;
}

/**
 * SLCA's stage 2: a copy of `start` retrained on features sampled from every seen class's Gaussian. `taskLabels`:
 * each task's classes so far; `taskIndex`: the task just trained (its classes' means are not shrunk).
 */
function alignHead(start: Head, gaussians: ClassGaussians, taskLabels: number[][], draw: Rng, opts: Options): Head {
  const taskIndex = taskLabels.length - 1;
  const classes = gaussians.classes;
  const taskOf = new Map(taskLabels.flatMap((labels, t) => labels.map((l) => [l, t] as const)));
  const column = new Map(classes.map((c, i) => [c, i]));
  const columns = tf.tensor1d(classes, 'int32');
  let weight = tf.clone(start.weight);
  let bias = start.bias ? tf.clone(start.bias) : undefined;
  let velocity: tf.Tensor[] = [tf.zerosLike(weight), ...(bias ? [tf.zerosLike(bias)] : [])];
  // Each task's classes as columns of the seen-class logits (the per-task norms).
  const groups = taskLabels.map((labels) =>
    tf.tensor1d(
      labels.map((l) => column.get(l)!),
      'int32',
    ),
  );
  const loss = (x: tf.Tensor, y: tf.Tensor, w: tf.Tensor, b?: tf.Tensor) => {
    let logits = tf.gather(b ? tf.add(tf.matMul(x, w), b) : tf.matMul(x, w), columns, 1);
    if (opts.logitNorm > 0) {
      const norms = tf.stack(
        groups.map((g) => tf.norm(tf.gather(logits, g, 1), 2, 1)),
        1,
      );
      logits = tf.div(logits, tf.mul(tf.add(tf.mean(norms, 1, true), 1e-7), opts.logitNorm));
    }
    return tf.losses.softmaxCrossEntropy(tf.oneHot(y, classes.length), logits);
  };
  for (let epoch = 0; epoch < opts.alignEpochs; epoch++) {
    const lr = 0.5 * opts.alignLr * (1 + Math.cos((Math.PI * epoch) / opts.alignEpochs));
    const samples = tf.tidy(() =>
      tf.concat(
        classes.map((c) =>
          gaussians.sample(c, opts.samples, draw, 0.9 + ((taskOf.get(c)! + 1) / (taskIndex + 1)) * 0.1),
        ),
      ),
    );
    const order = draw.permutation(classes.length * opts.samples);
    for (let start = 0; start < order.length; start += opts.samples) {
      const rows = order.subarray(start, start + opts.samples);
      const next = tf.tidy(() => {
        const x = tf.gather(samples, tf.tensor1d(rows, 'int32'));
        const y = tf.tensor1d(
          Int32Array.from(rows, (r) => Math.floor(r / opts.samples)),
          'int32',
        );
        const params = bias ? [weight, bias] : [weight];
        const grads = tf.grads((...p: tf.Tensor[]) => loss(x, y, p[0], p[1]))(params);
        // SGD as PyTorch's: v ← 0.9·v + (g + wd·p), p ← p − lr·v.
        const v = grads.map((g, i) =>
          tf.add(tf.mul(velocity[i], 0.9), tf.add(g, tf.mul(params[i], opts.alignWeightDecay))),
        );
        return { params: params.map((p, i) => tf.sub(p, tf.mul(v[i], lr))), v };
      });
      tf.dispose([weight, ...(bias ? [bias] : []), ...velocity]);
      [weight, bias] = next.params as [tf.Tensor2D, tf.Tensor1D | undefined];
      velocity = next.v;
    }
    samples.dispose();
  }
  tf.dispose([columns, ...groups, ...velocity]);
  return { weight, bias };
}

export default definePlugin({
  kind: 'strategy',
  name: 'slca',
  description: 'SLCA: slow learner on the pre-trained backbone, classifier aligned on sampled class Gaussians',
  options,
  roles: ['prediction'],
  async create(opts, ctx) {
    const model = pretrainedBackbone(await ctx.resolve('model'), 'slca');
    const { outputs } = await ctx.problem();
    const head = headOf(model);
    const headNames = new Set([head.weight, head.bias].filter((n): n is string => !!n));
    const gaussians = new ClassGaussians(outputs);
    const rng = ctx.rng('align');
    // The labels of each task seen so far, in order (the per-task logit norms).
    const taskLabels: number[][] = [];
    let mask: tf.Tensor1D | undefined;
    let aligned: Head | undefined;
    let absent: tf.Tensor1D | undefined;
    const embed = (x: tf.Tensor) => model.features(x, false);
    const release = () => {
      tf.dispose([mask, absent, aligned?.weight, aligned?.bias].filter((t) => t !== undefined));
      mask = absent = aligned = undefined;
    };
    const seenMask = () => {
      const seen = new Float64Array(outputs);
      for (const l of taskLabels.flat()) seen[l] = 1;
      return absentMask(seen);
    };

    return {
      name: 'slca',
      onTaskStart({ task, scenario }) {
        mask?.dispose();
        const labels = new Set(scenario.labels(task, 'train'));
        mask = tf.tensor1d(Array.from({ length: outputs }, (_, c) => (labels.has(c) ? 0 : -1e9)));
      },
      // The loss over the current task's classes only.
      composeBatch: () => ({ currentMask: mask }),
      gradients({ grads }) {
        const out: NamedTensors = {};
        for (const [name, g] of Object.entries(grads)) out[name] = headNames.has(name) ? g : tf.mul(g, opts.slow);
        return out;
      },
      onTaskEnd({ task, scenario, sampledTrainingSet }) {
        taskLabels.push([...new Set(scenario.labels(task, 'train'))].sort((a, b) => a - b));
        gaussians.add(sampledTrainingSet(task), embed);
        absent?.dispose();
        absent = seenMask();
        if (aligned) tf.dispose([aligned.weight, aligned.bias].filter((t) => t !== undefined));
        const start = {
          weight: model.params.get(head.weight)! as tf.Tensor2D,
          bias: head.bias ? (model.params.get(head.bias)! as tf.Tensor1D) : undefined,
        };
        aligned =
          task.index > 0 && opts.alignEpochs > 0
            ? alignHead(start, gaussians, taskLabels, rng.fork(`task${task.index}`), opts)
            : undefined;
      },
      predict({ x, logits }) {
        if (!absent) return undefined;
        if (!aligned) return tf.add(logits, absent);
        const scores = tf.matMul(embed(x), aligned.weight);
        return tf.add(aligned.bias ? tf.add(scores, aligned.bias) : scores, absent);
      },
      checkpoint: () => ({
        gaussians: gaussians.snapshot(),
        taskLabels: taskLabels.map((l) => [...l]),
        aligned: aligned ? { weight: aligned.weight, ...(aligned.bias ? { bias: aligned.bias } : {}) } : null,
      }),
      restore(s) {
        release();
        gaussians.restore(s.gaussians as never);
        taskLabels.splice(0, taskLabels.length, ...(s.taskLabels as number[][]));
        if (taskLabels.length) absent = seenMask();
        const a = s.aligned as { weight: tf.Tensor2D; bias?: tf.Tensor1D } | null;
        aligned = a ? { weight: tf.clone(a.weight), bias: a.bias ? tf.clone(a.bias) : undefined } : undefined;
      },
      dispose() {
        release();
        gaussians.dispose();
      },
    };
  },
});
