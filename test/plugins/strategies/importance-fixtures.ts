// A linear model and the contexts the importance estimators (SI, MAS) are handed, for their tests.
import { tf } from '../../../src/tensor/tf.js';
import { Rng } from '../../../src/tensor/rng.js';
import type { Model } from '../../../src/contracts/model.js';
import type { PluginContext } from '../../../src/plugin/define-plugin.js';
import type { TaskContext } from '../../../src/contracts/strategy.js';
/** A linear model y = x·W over 2 features and 2 outputs, for the importance estimators. */
let models = 0;
export function linearModel(w: number[]): Model & { w: tf.Variable } {
  const v = tf.variable(tf.tensor2d(w, [2, 2]), true, `linear-${(models += 1)}`);
  return {
    w: v,
    params: new Map([['w', v]]),
    rowAxis: { w: 1 },
    forward: (x) => tf.matMul(x, v),
    apply: (p, x) => tf.matMul(x, p.w),
    describe: () => 'linear',
    dispose: () => v.dispose(),
  };
}

export const pluginCtx = {
  seed: 0,
  rng: (l: string) => new Rng(0).fork(l),
  resolve: async () => {
    throw new Error('unused');
  },
  problem: async () => ({ featureShape: [2], outputs: 2, batchSize: 1 }),
  resolvePath: (p: string) => p,
} as unknown as PluginContext;

export function taskCtx(
  model: Model,
  state: Record<string, tf.Tensor>,
  trained?: { features: number[]; labels: number[] },
): TaskContext & { trained: never } {
  const task = {
    index: 0,
    name: 't0',
    classes: [0, 1],
    train: { features: new Float32Array(0), labels: new Int32Array(0), count: 0 },
    test: { features: new Float32Array(0), labels: new Int32Array(0), count: 0 },
  };
  const set = trained
    ? {
        features: Float32Array.from(trained.features),
        labels: Int32Array.from(trained.labels),
        taskIds: new Int32Array(trained.labels.length),
        count: trained.labels.length,
      }
    : undefined;
  return {
    task,
    stream: { name: 's', featureShape: [2], numClasses: 2, tasks: [task] },
    model,
    scenario: { scenario: 'class-il', outputs: 2, labels: () => Int32Array.from([0, 1]), allowedOutputs: () => null },
    sampledTrainingSet: () => set!,
    state,
    trained: set as never,
  };
}
