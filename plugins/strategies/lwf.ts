// LwF — Learning without Forgetting (Li & Hoiem, 2017): the outputs of the
// model as it was before the current task are distilled into the current one
// on the current task's inputs (soft targets at temperature T).
import { definePlugin, o, type OptionsInput, tf } from '../../src/plugin-api.js';
import type { Snapshot } from '../../src/contracts/snapshot.js';
import type { NamedTensors } from '../../src/contracts/optimizer.js';

const options = {
  alpha: o.number({ description: 'weight of the distillation loss', default: 1, min: 0 }),
  temperature: o.number({
    description: 'softmax temperature of the soft targets',
    default: 2,
    min: 0,
    exclusiveMin: true,
  }),
};

declare module '../../src/plugin/kinds.js' {
  interface StrategyPlugins {
    lwf: OptionsInput<typeof options>;
  }
}

export default definePlugin({
  kind: 'strategy',
  name: 'lwf',
  description: "Learning without Forgetting: distil the previous model's outputs on the current inputs",
  options,
  async create(opts, ctx) {
    const model = await ctx.resolve('model');
    if (!model.apply) throw new Error('lwf needs a model that can run with other parameter values (Model.apply)');
    let previous: NamedTensors | undefined;
    // Additive mask over the outputs seen before the current task (0 there, -1e9 elsewhere): a gather
    // would need UnsortedSegmentSum for its gradient, which the wasm backend lacks.
    let seen: tf.Tensor1D | undefined;
    const outputsSeen = new Set<number>();
    const release = () => {
      if (previous) tf.dispose(Object.values(previous));
      seen?.dispose();
    };
    const T = opts.temperature;
    return {
      name: 'lwf',
      onTaskEnd({ task, scenario }) {
        release();
        previous = Object.fromEntries([...model.params].map(([n, v]) => [n, tf.clone(v)]));
        for (const out of scenario.allowedOutputs(task) ??
          (scenario.scenario === 'class-il' ? task.classes : Array.from({ length: scenario.outputs }, (_, i) => i)))
          outputsSeen.add(out);
        const mask = new Float32Array(scenario.outputs).fill(-1e9);
        for (const out of outputsSeen) mask[out] = 0;
        seen = tf.tensor1d(mask);
      },
      loss({ x, rawLogits }) {
        if (!previous || !seen || opts.alpha === 0) return undefined;
        const soft = tf.softmax(tf.add(tf.div(model.apply!(previous, x, false), T), seen));
        const logProbs = tf.logSoftmax(tf.add(tf.div(rawLogits, T), seen));
        const distill = tf.neg(tf.mean(tf.sum(tf.mul(soft, logProbs), 1)));
        return tf.mul(distill, opts.alpha * T * T);
      },
      checkpoint: () => ({
        previous: previous ? { ...previous } : null,
        outputsSeen: [...outputsSeen],
        seen: seen ?? null,
      }),
      restore(s) {
        release();
        previous = s.previous
          ? Object.fromEntries(Object.entries(s.previous as Snapshot).map(([n, t]) => [n, tf.clone(t as tf.Tensor)]))
          : undefined;
        outputsSeen.clear();
        for (const o of s.outputsSeen as number[]) outputsSeen.add(o);
        seen = s.seen ? (tf.clone(s.seen as tf.Tensor) as tf.Tensor1D) : undefined;
      },
      dispose: release,
    };
  },
});
