// ER-ACE — Experience Replay with asymmetric cross-entropy (Caccia et al.,
// 2022). From the second task on, the incoming rows' cross-entropy only lets
// the classes present in the incoming minibatch (and classes not seen yet)
// compete, so new classes stop pushing old ones' logits down; replayed rows
// from a reservoir memory (filled during training) take a plain
// cross-entropy over every class. Loss = CE_masked(incoming) + CE(replayed),
// each a mean over its rows, as in the reference (mammoth's er_ace.py).
// With task boundaries hidden there is no "second task": the mask and the
// replay apply from the first step the memory holds rows, and the classes
// seen so far are tracked step by step (Caccia et al.'s online setting).
import {
  definePlugin,
  DeviceReservoir,
  meanCrossEntropy,
  requireReservoirMemory,
  o,
  type OptionsInput,
  rowsOf,
  tf,
} from '../../src/plugin-api.js';
import type { Snapshot } from '../../src/contracts/snapshot.js';
import { featureSize } from '../../src/contracts/data.js';

const options = {
  size: o.integer({ description: 'examples kept in the memory', default: 500, min: 1 }),
  batchSize: o.integer({ description: 'memory examples per step (0: the training batch size)', default: 0, min: 0 }),
};

declare module '../../src/plugin/kinds.js' {
  interface StrategyPlugins {
    'er-ace': OptionsInput<typeof options>;
  }
}

/**
 * The additive mask of ER-ACE's incoming rows: 0 for a class present among
 * `labels` or at or above `seenMax` (the largest label seen so far, this
 * minibatch's included), −1e9 elsewhere. Inside a step.
 */
export function aceMask(
  labels: tf.Tensor,
  outputs: number,
  seenBefore: number | tf.Tensor,
  classIndex: tf.Tensor,
): tf.Tensor {
  const present = tf.max(tf.oneHot(labels, outputs), 0);
  const seenMax = tf.maximum(tf.max(labels), seenBefore);
  const allowed = tf.logicalOr(tf.greater(present, 0), tf.greaterEqual(classIndex, seenMax));
  return tf.where(allowed, tf.zeros([outputs]), tf.fill([outputs], -1e9));
}

export default definePlugin({
  kind: 'strategy',
  name: 'er-ace',
  description: 'ER with asymmetric cross-entropy: incoming rows see only their own classes',
  options,
  taskFree: true,
  async create(opts, ctx) {
    const stream = await ctx.resolve('stream');
    const { outputs } = await ctx.problem();
    requireReservoirMemory('size', opts.size, featureSize(stream.featureShape), 0);
    const reservoir = new DeviceReservoir(opts.size, false, ctx.rng('memory'));
    const classIndex = tf.keep(tf.range(0, outputs, 1, 'int32'));
    let seenBefore = -1;
    let taskIndex = 0;
    let hidden = false;
    return {
      name: 'er-ace',
      onTaskStart({ task, boundaries }) {
        taskIndex = task.index;
        hidden = boundaries === 'hidden';
        if (task.index > 0) return undefined;
        const state = reservoir.initialState(featureSize(stream.featureShape), outputs);
        // The largest label seen before each step, kept on the backend: no boundary says when it changes.
        return { state: hidden ? { ...state, seenMax: tf.scalar(-1, 'int32') } : state };
      },
      onTrainingStart({ steps, batchSize, rowsAt }) {
        reservoir.planTask(steps, batchSize, rowsAt, opts.batchSize || batchSize);
      },
      composeBatch(batch, state) {
        if (taskIndex === 0 && !hidden) return undefined;
        const drawn = reservoir.sample(batch.step, state);
        if (hidden && !drawn) return undefined;
        return {
          currentMask: aceMask(batch.labels, outputs, hidden ? state.seenMax : seenBefore, classIndex),
          rows: drawn ? { x: drawn.x, labels: drawn.labels, taskIds: drawn.taskIds, weight: 0 } : undefined,
        };
      },
      loss({ logits, labels, own }) {
        const [replayed] = own;
        return replayed ? meanCrossEntropy(rowsOf(logits, replayed), rowsOf(labels, replayed)) : undefined;
      },
      afterStep({ batch, state }) {
        const next = reservoir.insert(batch, state);
        return hidden ? { ...next, seenMax: tf.maximum(state.seenMax, tf.max(batch.labels)) } : next;
      },
      onTaskEnd({ trained }) {
        for (const l of trained.labels) seenBefore = Math.max(seenBefore, l);
      },
      checkpoint: () => ({ reservoir: reservoir.snapshot(), seenBefore, taskIndex, hidden }),
      restore(s) {
        reservoir.restore(s.reservoir as Snapshot);
        seenBefore = s.seenBefore as number;
        taskIndex = s.taskIndex as number;
        hidden = s.hidden === true;
      },
      dispose() {
        reservoir.dispose();
        classIndex.dispose();
      },
    };
  },
});
