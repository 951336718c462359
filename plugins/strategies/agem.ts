// A-GEM — Averaged Gradient Episodic Memory (Chaudhry et al., 2019): before
// each step, the gradient g_ref of the loss on a minibatch drawn from the
// episodic memory; if the step's gradient g points against it (g·g_ref < 0)
// it is projected: g ← g − (g·g_ref / g_ref·g_ref)·g_ref. The test is a
// tf.where on the backend, not a read-back.
import {
  definePlugin,
  dot,
  MemoryBatches,
  MemoryBuffer,
  o,
  OptionError,
  type OptionsInput,
  tf,
} from '../../src/plugin-api.js';
import type { Snapshot } from '../../src/contracts/snapshot.js';
import type { NamedTensors } from '../../src/contracts/optimizer.js';

const options = {
  size: o.integer({ description: 'examples kept in the episodic memory', default: 500, min: 1 }),
  policy: o.enum(['per-task', 'reservoir', 'class-balanced'], {
    description: 'how the memory is filled at the end of each task',
    default: 'per-task',
  }),
  refBatchSize: o.integer({
    description: 'memory examples behind each reference gradient (the paper: 256; 0: the training batch size)',
    default: 256,
    min: 0,
  }),
};

declare module '../../src/plugin/kinds.js' {
  interface StrategyPlugins {
    agem: OptionsInput<typeof options>;
  }
}

/** The A-GEM projection of g against g_ref (inside a step). */
export function agemProject(g: NamedTensors, ref: NamedTensors): NamedTensors {
  const gr = dot(g, ref);
  const rr = dot(ref, ref);
  const scale = tf.where(tf.less(gr, 0), tf.div(gr, tf.maximum(rr, 1e-12)), tf.zerosLike(gr));
  const out: NamedTensors = {};
  for (const n of Object.keys(g)) out[n] = tf.sub(g[n], tf.mul(scale, ref[n]));
  return out;
}

export default definePlugin({
  kind: 'strategy',
  name: 'agem',
  description: 'Averaged GEM: project the gradient when it conflicts with a memory minibatch gradient',
  options,
  async create(opts, ctx) {
    const { outputs } = await ctx.problem();
    if (opts.policy === 'class-balanced' && opts.size < outputs)
      throw new OptionError(
        'size',
        `a class-balanced memory of ${opts.size} cannot hold one example of each of the ${outputs} classes`,
      );
    const memory = new MemoryBuffer(opts.size, opts.policy, ctx.rng('memory'));
    const sampling = ctx.rng('reference-batches');
    let batches: MemoryBatches | undefined;
    const release = () => {
      batches?.dispose();
      batches = undefined;
    };
    return {
      name: 'agem',
      onTrainingStart({ steps, batchSize }) {
        release();
        if (memory.count > 0 && steps > 0)
          batches = new MemoryBatches(memory.toTrainingSet(), steps, opts.refBatchSize || batchSize, sampling);
      },
      gradients({ step, grads, gradientsOf }) {
        if (!batches) return undefined;
        const ref = batches.batch(step);
        return agemProject(grads, gradientsOf(ref.x, ref.labels, ref.taskIds));
      },
      onTaskEnd({ trained }) {
        release();
        memory.add(trained);
      },
      checkpoint: () => ({ memory: memory.snapshot(), sampling: sampling.state() }),
      restore(s) {
        memory.restore(s.memory as Snapshot);
        sampling.setState(s.sampling as number[]);
      },
      dispose: release,
    };
  },
});
