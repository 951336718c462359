// iCaRL (Rebuffi et al., 2017): each task trains on its data plus the
// exemplars kept so far, with a sigmoid cross-entropy whose targets for
// earlier classes are the previous model's outputs (distillation) and
// one-hot labels otherwise, over the classes seen so far; exemplars are
// chosen by herding on the model's features, an equal share per class; at
// evaluation the nearest mean of exemplars (in L2-normalised feature space)
// replaces the network's own classifier.
import { definePlugin, MemoryBuffer, o, OptionError, type OptionsInput, readRows, tf } from '../../src/plugin-api.js';
import type { Snapshot } from '../../src/contracts/snapshot.js';
import type { NamedTensors } from '../../src/contracts/optimizer.js';
import type { Model } from '../../src/contracts/model.js';
import { concatTrainingSets, type TrainingSet } from '../../src/contracts/strategy.js';

const options = {
  size: o.integer({ description: 'exemplars kept in all (K), an equal share per class', default: 500, min: 1 }),
};

declare module '../../src/plugin/kinds.js' {
  interface StrategyPlugins {
    icarl: OptionsInput<typeof options>;
  }
}

/** Features of a host training set, read back in batches (at a task's end, never in a step). */
const featuresOf = (model: Model, set: TrainingSet) =>
  readRows(
    set,
    Int32Array.from({ length: set.count }, (_, i) => i),
    (x) => model.features!(x, false),
    1000,
  );

/**
 * Each class's mean of its exemplars' normalised features, itself normalised
 * (iCaRL's class prototypes), and −1e9 for classes without exemplars.
 */
function classMeans(
  model: Model,
  exemplars: TrainingSet,
  outputs: number,
): { values: tf.Tensor2D; absent: tf.Tensor1D } {
  const { values, dim } = featuresOf(model, exemplars);
  const sums = new Float64Array(outputs * dim);
  const counts = new Float64Array(outputs);
  for (let i = 0; i < exemplars.count; i++) {
    const row = values.subarray(i * dim, (i + 1) * dim);
    const norm = Math.hypot(...row) || 1;
    const l = exemplars.labels[i];
    counts[l] += 1;
    for (let d = 0; d < dim; d++) sums[l * dim + d] += row[d] / norm;
  }
  const mu = new Float32Array(outputs * dim);
  for (let c = 0; c < outputs; c++) {
    if (!counts[c]) continue;
    const norm = Math.hypot(...sums.subarray(c * dim, (c + 1) * dim)) || 1;
    for (let d = 0; d < dim; d++) mu[c * dim + d] = sums[c * dim + d] / norm;
  }
  return { values: tf.tensor2d(mu, [outputs, dim]), absent: tf.tensor1d(Array.from(counts, (n) => (n ? 0 : -1e9))) };
}

/**
 * Nearest-mean-of-exemplars scores: −‖φ(x) − μ_c‖² up to a constant; −1e9 for
 * classes without exemplars.
 */
export function nmeScores(features: tf.Tensor, means: tf.Tensor2D, absent: tf.Tensor1D): tf.Tensor {
  const phi = tf.div(features, tf.maximum(tf.norm(features, 2, 1, true), 1e-12));
  const meanSq = tf.sum(tf.square(means), 1);
  return tf.add(tf.sub(tf.mul(tf.matMul(phi, means, false, true), 2), meanSq), absent);
}

export default definePlugin({
  kind: 'strategy',
  name: 'icarl',
  description: 'iCaRL: herding exemplars, distillation, nearest-mean-of-exemplars classification',
  options,
  roles: ['prediction', 'training-set'],
  async create(opts, ctx) {
    const model = await ctx.resolve('model');
    const { outputs } = await ctx.problem();
    if (!model.apply || !model.features)
      throw new Error('icarl needs a model that exposes its features and can run with other parameter values');
    if (opts.size < outputs)
      throw new OptionError('size', `${opts.size} exemplars cannot hold one of each of the ${outputs} classes`);
    const memory = new MemoryBuffer(opts.size, 'herding', ctx.rng('memory'));
    let previous: NamedTensors | undefined;
    let means: { values: tf.Tensor2D; absent: tf.Tensor1D } | undefined;
    // 1 on the outputs of classes seen before the current task, and on those seen so far.
    let past: tf.Tensor1D | undefined;
    let seen: tf.Tensor1D | undefined;
    const seenLabels = new Set<number>();
    const pastLabels = new Set<number>();
    const indicator = (labels: Set<number>) =>
      tf.tensor1d(Array.from({ length: outputs }, (_, i) => (labels.has(i) ? 1 : 0)));
    const release = () => {
      if (previous) tf.dispose(Object.values(previous));
      previous = undefined;
      if (means) tf.dispose([means.values, means.absent]);
      means = undefined;
      tf.dispose([past!, seen!].filter(Boolean));
      past = seen = undefined;
    };
    return {
      name: 'icarl',
      onTaskStart({ task, scenario }) {
        tf.dispose([past!, seen!].filter(Boolean));
        for (const l of scenario.labels(task, 'train')) seenLabels.add(l);
        past = indicator(pastLabels);
        seen = indicator(seenLabels);
      },
      trainingSet: (c) =>
        memory.count
          ? concatTrainingSets([c.sampledTrainingSet(c.task), memory.toTrainingSet()])
          : c.sampledTrainingSet(c.task),
      composeBatch: () => ({ currentWeight: 0 }),
      loss({ x, rawLogits, labels }) {
        const onehot = tf.oneHot(labels, outputs);
        const targets = previous
          ? tf.add(tf.mul(tf.sigmoid(model.apply!(previous, x, false)), past!), tf.mul(onehot, tf.sub(1, past!)))
          : onehot;
        // Sigmoid cross-entropy with logits, written stably: max(z,0) − z·t + log(1 + e^−|z|).
        const z = rawLogits;
        const bce = tf.add(tf.sub(tf.relu(z), tf.mul(z, targets)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
        return tf.div(tf.mean(tf.sum(tf.mul(bce, seen!), 1)), seenLabels.size);
      },
      onTaskEnd({ task, sampledTrainingSet, scenario }) {
        if (previous) tf.dispose(Object.values(previous));
        previous = Object.fromEntries([...model.params].map(([n, v]) => [n, tf.keep(tf.clone(v))]));
        for (const l of scenario.labels(task, 'train')) pastLabels.add(l);
        const fresh = sampledTrainingSet(task);
        memory.add(fresh, { embeddings: featuresOf(model, fresh) });
        if (means) tf.dispose([means.values, means.absent]);
        means = classMeans(model, memory.toTrainingSet(), outputs);
      },
      predict({ x }) {
        return means ? nmeScores(model.features!(x, false), means.values, means.absent) : undefined;
      },
      checkpoint: () => ({
        memory: memory.snapshot(),
        previous: previous ? { ...previous } : null,
        means: means ? { values: means.values, absent: means.absent } : null,
        seenLabels: [...seenLabels],
        pastLabels: [...pastLabels],
      }),
      restore(s) {
        release();
        memory.restore(s.memory as Snapshot);
        previous = s.previous
          ? Object.fromEntries(
              Object.entries(s.previous as Snapshot).map(([n, t]) => [n, tf.keep(tf.clone(t as tf.Tensor))]),
            )
          : undefined;
        const m = s.means as Snapshot | null;
        means = m
          ? { values: tf.clone(m.values as tf.Tensor2D), absent: tf.clone(m.absent as tf.Tensor1D) }
          : undefined;
        seenLabels.clear();
        pastLabels.clear();
        for (const l of s.seenLabels as number[]) seenLabels.add(l);
        for (const l of s.pastLabels as number[]) pastLabels.add(l);
      },
      dispose: release,
    };
  },
});
