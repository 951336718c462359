// Experience replay: a memory of stored training examples, a batch of which
// is mixed into every training step of later tasks ("exact replay" in Hsu et
// al., 2018; van de Ven & Tolias' "replay of stored data"). The replayed rows
// join the sampled ones in one mean cross-entropy. `fill: 'online'` is ER as
// online continual learning runs it (Chaudhry et al., 2019; Aljundi et al.'s
// MIR baseline): a reservoir filled step by step and replayed from the first
// step it holds rows, so it needs no task boundaries.
import {
  definePlugin,
  DeviceReservoir,
  MemoryBatches,
  MemoryBuffer,
  o,
  OptionError,
  requireReservoirMemory,
  type OptionsInput,
  type PluginContext,
  onlineReplayOptions,
  onlineReplayTaskFree,
  replayedRows,
  separateMemoryLoss,
} from '../../src/plugin-api.js';
import type { Snapshot } from '../../src/contracts/snapshot.js';
import type { Strategy } from '../../src/contracts/strategy.js';
import { featureSize } from '../../src/contracts/data.js';

const options = {
  size: o.integer({ description: 'examples kept in the memory', default: 1000, min: 1 }),
  policy: o.enum(['reservoir', 'class-balanced'], {
    description: "'reservoir': a uniform sample of every example seen; 'class-balanced': an equal share per label",
    default: 'reservoir',
  }),
  batchSize: o.integer({
    description: 'replayed examples added to each batch (0: the training batch size)',
    default: 0,
    min: 0,
  }),
  fill: {
    ...o.enum(['task-end', 'online'], {
      description:
        "'task-end': the memory takes each task's examples when the task ends; 'online': a reservoir filled after " +
        'every step and replayed from the next (needs no task boundaries)',
      default: 'task-end',
    }),
    omitAtDefault: true,
  },
  weight: {
    ...o.number({
      description:
        'weight of a replayed row relative to a sampled one in the mean cross-entropy: with equal batches, w makes ' +
        "the loss (CE_new + w·CE_replayed)/(1 + w) (De Lange et al.'s Lw_new = 1/(1 + w))",
      default: 1,
      min: 0,
      exclusiveMin: true,
    }),
    omitAtDefault: true,
  },
  ...onlineReplayOptions,
};

declare module '../../src/plugin/kinds.js' {
  interface StrategyPlugins {
    replay: OptionsInput<typeof options>;
  }
}

export default definePlugin({
  kind: 'strategy',
  name: 'replay',
  description: 'a memory of stored examples (reservoir or class-balanced) mixed into every batch of later tasks',
  options,
  taskFree: (opts) =>
    opts.fill === 'online'
      ? onlineReplayTaskFree(opts)
      : "fill 'task-end' fills the memory when a task ends; fill: 'online' needs no boundary",
  validate(opts) {
    const problems = [];
    if (opts.fill === 'online' && opts.policy !== 'reservoir')
      problems.push({ path: 'policy', message: "fill: 'online' keeps a reservoir; class-balanced fills at task ends" });
    for (const field of ['from', 'memoryLoss'] as const)
      if (opts.fill !== 'online' && opts[field] !== onlineReplayOptions[field].default)
        problems.push({ path: field, message: "applies to fill: 'online'" });
    return problems;
  },
  async create(opts, ctx) {
    if (opts.fill === 'online') return onlineReplay(opts, ctx);
    const { outputs } = await ctx.problem();
    if (opts.policy === 'class-balanced' && opts.size < outputs)
      throw new OptionError(
        'size',
        `a class-balanced memory of ${opts.size} cannot hold one example of each of the ${outputs} classes`,
      );
    const memory = new MemoryBuffer(opts.size, opts.policy, ctx.rng('buffer'));
    const sampling = ctx.rng('replay-batches');
    let batches: MemoryBatches | undefined;
    const release = () => {
      batches?.dispose();
      batches = undefined;
    };
    return {
      name: 'replay',
      onTrainingStart({ steps, batchSize }) {
        release();
        if (memory.count > 0 && steps > 0)
          batches = new MemoryBatches(memory.toTrainingSet(), steps, opts.batchSize || batchSize, sampling);
      },
      composeBatch(batch) {
        return batches ? { rows: { ...batches.batch(batch.step), weight: opts.weight } } : undefined;
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

/** Replay filled after every step: a reservoir on the backend, sampled from the first step it holds rows. */
async function onlineReplay(
  opts: { size: number; batchSize: number; weight: number; from: string; memoryLoss: string },
  ctx: PluginContext,
): Promise<Strategy> {
  const stream = await ctx.resolve('stream');
  const { outputs } = await ctx.problem();
  const size = featureSize(stream.featureShape);
  requireReservoirMemory('size', opts.size, size, 0);
  const reservoir = new DeviceReservoir(opts.size, false, ctx.rng('memory'));
  return {
    name: 'replay',
    onTaskStart({ task }) {
      return task.index === 0 ? { state: reservoir.initialState(size, outputs) } : undefined;
    },
    onTrainingStart({ task, steps, batchSize, rowsAt }) {
      const exclude = opts.from === 'earlier-tasks' ? { task: task.index } : undefined;
      reservoir.planTask(steps, batchSize, rowsAt, opts.batchSize || batchSize, exclude);
    },
    composeBatch(batch, state) {
      const drawn = reservoir.sample(batch.step, state);
      if (!drawn) return undefined;
      const rows = { x: drawn.x, labels: drawn.labels, taskIds: drawn.taskIds, weight: opts.weight };
      return { rows: replayedRows(rows, opts.memoryLoss) };
    },
    loss: (lossCtx) => separateMemoryLoss(lossCtx, opts.memoryLoss),
    afterStep: ({ batch, state }) => reservoir.insert(batch, state),
    checkpoint: () => ({ reservoir: reservoir.snapshot() }),
    restore(s) {
      reservoir.restore(s.reservoir as Snapshot);
    },
    dispose: () => reservoir.dispose(),
  };
}
