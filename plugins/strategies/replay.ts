// Experience replay: a memory of stored training examples, a batch of which
// is mixed into every training step of later tasks ("exact replay" in Hsu et
// al., 2018; van de Ven & Tolias' "replay of stored data"). The replayed rows
// join the sampled ones in one mean cross-entropy.
import { definePlugin, MemoryBatches, MemoryBuffer, o, OptionError, type OptionsInput } from '../../src/plugin-api.js';
import type { Snapshot } from '../../src/contracts/snapshot.js';

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
  async create(opts, ctx) {
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
        return batches ? { rows: batches.batch(batch.step) } : undefined;
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
