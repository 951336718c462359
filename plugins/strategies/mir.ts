// MIR — Maximally Interfered Retrieval (Aljundi et al., NeurIPS 2019). ER
// with a reservoir memory, but the replayed rows are not a uniform draw:
// from `candidates` rows drawn from the memory, the ones whose loss would
// rise most under a virtual SGD step on the incoming batch
// (θ' = θ − lr·∇L_in(θ); score = L(θ') − L(θ) per row) are replayed. The
// retrieved rows join the incoming ones in one mean cross-entropy, as replay
// does (Chaudhry et al.'s ER), or, with memoryLoss 'separate', each set its
// own mean, summed, as the reference code trains; from 'earlier-tasks'
// draws the candidates from earlier tasks' rows only, as the reference does
// (that needs task boundaries; the default does not).
import {
  onlineReplayOptions,
  onlineReplayTaskFree,
  replayedRows,
  separateMemoryLoss,
  definePlugin,
  DeviceReservoir,
  requireReservoirMemory,
  o,
  type OptionsInput,
  tf,
  crossEntropyGradients,
  parameterList,
  rowCrossEntropy,
  type ParameterList,
} from '../../src/plugin-api.js';
import type { Snapshot } from '../../src/contracts/snapshot.js';
import { featureSize } from '../../src/contracts/data.js';

const options = {
  size: o.integer({ description: 'examples kept in the reservoir memory', default: 500, min: 1 }),
  batchSize: o.integer({
    description: 'memory rows replayed per step (0: the training batch size)',
    default: 0,
    min: 0,
  }),
  candidates: o.integer({
    description: 'memory rows drawn per step to choose the replayed ones from',
    default: 50,
    min: 1,
  }),
  lr: o.number({ description: "the virtual SGD step's learning rate", default: 0.1, min: 0, exclusiveMin: true }),
  ...onlineReplayOptions,
};

declare module '../../src/plugin/kinds.js' {
  interface StrategyPlugins {
    mir: OptionsInput<typeof options>;
  }
}

/**
 * Indices (into `candidates`) of the `k` rows whose cross-entropy rises most after a virtual SGD step of size `lr` on
 * the incoming rows. Inside a step.
 */
export function mostInterfered(
  p: ParameterList,
  incoming: { x: tf.Tensor; labels: tf.Tensor },
  candidates: { x: tf.Tensor; labels: tf.Tensor },
  k: number,
  lr: number,
): tf.Tensor {
  const grads = crossEntropyGradients(p, incoming.x, incoming.labels);
  const virtual = p.values.map((v, i) => tf.sub(v, tf.mul(grads[i], lr)));
  const before = rowCrossEntropy(p.outputs(p.values, candidates.x), candidates.labels);
  const after = rowCrossEntropy(p.outputs(virtual, candidates.x), candidates.labels);
  return tf.topk(tf.sub(after, before), k).indices;
}

export default definePlugin({
  kind: 'strategy',
  name: 'mir',
  description: 'replay of the memory rows a virtual update on the incoming batch would interfere with most',
  options,
  taskFree: onlineReplayTaskFree,
  async create(opts, ctx) {
    const stream = await ctx.resolve('stream');
    const { outputs } = await ctx.problem();
    const size = featureSize(stream.featureShape);
    requireReservoirMemory('size', opts.size, size, 0);
    const reservoir = new DeviceReservoir(opts.size, false, ctx.rng('memory'));
    let params: ParameterList | undefined;
    return {
      name: 'mir',
      onTaskStart({ task, model }) {
        params = parameterList(model);
        return task.index === 0 ? { state: reservoir.initialState(size, outputs) } : undefined;
      },
      onTrainingStart({ task, steps, batchSize, rowsAt }) {
        const exclude = opts.from === 'earlier-tasks' ? { task: task.index } : undefined;
        reservoir.planTask(steps, batchSize, rowsAt, opts.candidates, exclude);
      },
      composeBatch(batch, state) {
        const drawn = reservoir.sample(batch.step, state);
        if (!drawn) return undefined;
        const k = Math.min(opts.batchSize || batch.size, opts.candidates);
        const chosen = mostInterfered(params!, batch, drawn, k, opts.lr);
        const rows = { x: tf.gather(drawn.x, chosen), labels: tf.gather(drawn.labels, chosen) };
        return { rows: replayedRows({ ...rows, taskIds: tf.gather(drawn.taskIds, chosen) }, opts.memoryLoss) };
      },
      loss: (lossCtx) => separateMemoryLoss(lossCtx, opts.memoryLoss),
      afterStep: ({ batch, state }) => reservoir.insert(batch, state),
      checkpoint: () => ({ reservoir: reservoir.snapshot() }),
      restore(s) {
        reservoir.restore(s.reservoir as Snapshot);
      },
      dispose: () => reservoir.dispose(),
    };
  },
});
