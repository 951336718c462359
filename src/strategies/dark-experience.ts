// Dark Experience Replay (Buzzega et al., 2020), shared by the `der` and
// `derpp` plugins. A reservoir memory filled during training, on the
// backend, stores each example with the logits the network gave it then;
// every step adds α·MSE(f(x_buf), stored logits) on one memory minibatch and,
// for DER++, β·CE(f(x'_buf), y'_buf) on a second, independent one (the
// reference implementation, mammoth's der.py / derpp.py). The memory rows
// carry weight 0 in the base loss: they enter only through these terms.
import type { Snapshot } from '../contracts/snapshot.js';
import { tf } from '../tensor/tf.js';
import type { ExtraRows, Strategy } from '../contracts/strategy.js';
import type { PluginContext } from '../plugin/define-plugin.js';
import { DeviceReservoir, requireReservoirMemory } from '../memory/device.js';
import { featureSize } from '../contracts/data.js';
import { meanCrossEntropy, meanSquaredError, rowsOf } from './losses.js';

export interface DarkExperienceOptions {
  size: number;
  alpha: number;
  /** 0: DER. */
  beta: number;
  batchSize: number;
}

export async function darkExperience(name: string, opts: DarkExperienceOptions, ctx: PluginContext): Promise<Strategy> {
  const stream = await ctx.resolve('stream');
  const { outputs } = await ctx.problem();
  requireReservoirMemory('size', opts.size, featureSize(stream.featureShape), outputs);
  const rng = ctx.rng('memory');
  let reservoir: DeviceReservoir | undefined;
  return {
    name,
    onTaskStart({ task }) {
      if (task.index > 0 && reservoir) return undefined;
      reservoir = new DeviceReservoir(opts.size, true, rng);
      return { state: reservoir.initialState(featureSize(stream.featureShape), outputs) };
    },
    onTrainingStart({ steps, batchSize, rowsAt }) {
      const perStep = opts.batchSize || batchSize;
      // Two independent minibatches per step for DER++: the reservoir draws 2×perStep and each term takes half.
      reservoir!.planTask(steps, batchSize, rowsAt, opts.beta > 0 ? 2 * perStep : perStep);
    },
    composeBatch(batch, state) {
      const drawn = reservoir!.sample(batch.step, state);
      if (!drawn) return undefined;
      const n = drawn.x.shape[0];
      if (opts.beta === 0) return { rows: { ...drawn, weight: 0 } };
      const half = n / 2;
      const part = (start: number): ExtraRows => ({
        x: tf.slice(drawn.x, [start, 0], [half, -1]),
        labels: tf.slice(drawn.labels, [start], [half]),
        taskIds: tf.slice(drawn.taskIds, [start], [half]),
        logits: tf.slice(drawn.logits!, [start, 0], [half, -1]),
        weight: 0,
      });
      return { rows: [part(0), part(half)] };
    },
    loss({ rawLogits, logits, labels, own }) {
      if (own.length === 0) return undefined;
      const [forLogits, forLabels] = own;
      let term = tf.mul(meanSquaredError(rowsOf(rawLogits, forLogits), forLogits.rows.logits!), opts.alpha);
      if (forLabels)
        term = tf.add(term, tf.mul(meanCrossEntropy(rowsOf(logits, forLabels), rowsOf(labels, forLabels)), opts.beta));
      return term;
    },
    afterStep({ batch, state }) {
      return reservoir!.insert(batch, state);
    },
    checkpoint: () => ({ reservoir: reservoir ? reservoir.snapshot() : null }),
    restore(s) {
      reservoir?.dispose();
      reservoir = undefined;
      if (!s.reservoir) return;
      reservoir = new DeviceReservoir(opts.size, true, rng);
      reservoir.restore(s.reservoir as Snapshot);
    },
    dispose() {
      reservoir?.dispose();
    },
  };
}
