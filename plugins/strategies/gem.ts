// GEM — Gradient Episodic Memory (Lopez-Paz & Ranzato, 2017): a memory per
// earlier task; at every step the gradient of each task's whole memory, and
// when the step's gradient would increase any of their losses (g·g_k < 0) it
// is replaced by the closest gradient that increases none, the solution of a
// small quadratic program (solved exactly on its dual: src/strategies/gem-qp.ts).
import {
  definePlugin,
  MAX_GEM_TASKS,
  MemoryBatches,
  MemoryBuffer,
  o,
  OptionError,
  type OptionsInput,
  solveGemDual,
  subsets,
  tf,
} from '../../src/plugin-api.js';
import type { Snapshot } from '../../src/contracts/snapshot.js';
import type { NamedTensors } from '../../src/contracts/optimizer.js';

const options = {
  size: o.integer({
    description: 'examples kept in memory, shared equally by the tasks seen so far',
    default: 500,
    min: 1,
  }),
  margin: o.number({
    description: "the dual variables' lower bound (the reference code's memory_strength)",
    default: 0.5,
    min: 0,
  }),
  epsilon: o.number({ description: 'ridge added to the Gram matrix of the memory gradients', default: 1e-3, min: 0 }),
};

declare module '../../src/plugin/kinds.js' {
  interface StrategyPlugins {
    gem: OptionsInput<typeof options>;
  }
}

/** The GEM step for named gradients (inside a step): unchanged when no memory gradient conflicts. */
export function gemProject(
  g: NamedTensors,
  refs: NamedTensors[],
  margin: number,
  epsilon: number,
  masks: tf.Tensor2D,
): NamedTensors {
  const names = Object.keys(g);
  const flat = (x: NamedTensors) => tf.concat(names.map((n) => tf.reshape(x[n], [-1])));
  const gv = flat(g);
  const G = tf.stack(refs.map(flat)) as tf.Tensor2D; // [t, p]
  const q = tf.squeeze<tf.Tensor1D>(tf.matMul(G, tf.reshape(gv, [-1, 1])), [1]);
  const t = refs.length;
  const P = tf.add<tf.Tensor2D>(tf.matMul(G, G, false, true), tf.mul(tf.eye(t), epsilon));
  const v = solveGemDual(P, q, margin, masks);
  const projected = tf.add(tf.squeeze(tf.matMul(tf.reshape(v, [1, t]), G), [0]), gv);
  const conflict = tf.any(tf.less(q, 0));
  const chosen = tf.where(conflict, projected, gv);
  const out: NamedTensors = {};
  let at = 0;
  for (const n of names) {
    out[n] = tf.reshape(tf.slice(chosen, [at], [g[n].size]), g[n].shape);
    at += g[n].size;
  }
  return out;
}

export default definePlugin({
  kind: 'strategy',
  name: 'gem',
  description: "Gradient Episodic Memory: gradients projected so no earlier task's memory loss increases",
  options,
  async create(opts, ctx) {
    const stream = await ctx.resolve('stream');
    if (opts.size < stream.tasks.length)
      throw new OptionError(
        'size',
        `a memory of ${opts.size} cannot hold one example of each of the ${stream.tasks.length} tasks`,
      );
    const memory = new MemoryBuffer(opts.size, 'per-task', ctx.rng('memory'));
    let perTask: MemoryBatches[] = [];
    let masks: tf.Tensor2D | undefined;
    const release = () => {
      perTask.forEach((m) => m.dispose());
      perTask = [];
      masks?.dispose();
      masks = undefined;
    };
    return {
      name: 'gem',
      onTrainingStart({ task }) {
        release();
        const tasks = [...new Set(memory.all.map((e) => e.task))].filter((t) => t !== task.index).sort((a, b) => a - b);
        if (tasks.length === 0) return;
        if (tasks.length > MAX_GEM_TASKS)
          throw new Error(
            `gem solves its quadratic program exactly for up to ${MAX_GEM_TASKS} earlier tasks; task ` +
              `${task.name} has ${tasks.length}`,
          );
        perTask = tasks.map(
          (t) =>
            new MemoryBatches(
              memory.toTrainingSet((e) => e.task === t),
              1,
              1,
              ctx.rng('unused'),
            ),
        );
        masks = tf.tensor2d(subsets(tasks.length), [1 << tasks.length, tasks.length]);
      },
      gradients({ grads, gradientsOf }) {
        if (!masks) return undefined;
        const refs = perTask.map((m) => gradientsOf(m.all.x, m.all.labels, m.all.taskIds));
        return gemProject(grads, refs, opts.margin, opts.epsilon, masks);
      },
      onTaskEnd({ trained }) {
        release();
        memory.add(trained);
      },
      checkpoint: () => ({ memory: memory.snapshot() }),
      restore(s) {
        memory.restore(s.memory as Snapshot);
      },
      dispose: release,
    };
  },
});
