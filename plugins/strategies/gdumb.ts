// GDumb (Prabhu, Torr & Dokania, 2020): a memory filled by a greedy
// class-balancing sampler; before each evaluation the model is trained from
// scratch on the memory alone (here: at the start of each task the model and
// optimizer are reset to the run's initial state and the task trains on the
// memory, which already holds the task's examples). The stream itself is
// never trained on directly.
import { definePlugin, MemoryBuffer, o, OptionError, type OptionsInput, requireMemory } from '../../src/plugin-api.js';
import { featureSize } from '../../src/contracts/data.js';
import type { Snapshot } from '../../src/contracts/snapshot.js';
import { concatTrainingSets } from '../../src/contracts/strategy.js';

const options = {
  size: o.integer({ description: 'examples kept in the memory', default: 500, min: 1 }),
  passes: o.integer({
    description: "copies of the memory in each task's training set (more epochs on the memory for the same schedule)",
    default: 1,
    min: 1,
  }),
};

declare module '../../src/plugin/kinds.js' {
  interface StrategyPlugins {
    gdumb: OptionsInput<typeof options>;
  }
}

export default definePlugin({
  kind: 'strategy',
  name: 'gdumb',
  description: 'GDumb: greedy class-balanced memory, model retrained from scratch on it for every evaluation',
  options,
  roles: ['training-set', 'model-reset'],
  async create(opts, ctx) {
    const { outputs, featureShape } = await ctx.problem();
    if (opts.size < outputs)
      throw new OptionError(
        'size',
        `a memory of ${opts.size} cannot hold one example of each of the ${outputs} classes`,
      );
    // The task's training set is `passes` copies of the memory (features, labels, task ids), made whole on the host
    // and uploaded whole to the backend: two copies at once.
    const perCopy = opts.size * featureSize(featureShape);
    const bytes = (copies: number) => 2 * 4 * copies * (perCopy + 2 * opts.size);
    requireMemory('size', `a memory of ${opts.size} examples`, bytes(1), perCopy);
    const what = `${opts.passes} copies of a memory of ${opts.size} examples`;
    requireMemory('passes', what, bytes(opts.passes), opts.passes * perCopy);
    const memory = new MemoryBuffer(opts.size, 'greedy-balanced', ctx.rng('memory'));
    return {
      name: 'gdumb',
      onTaskStart({ task, sampledTrainingSet }) {
        memory.add(sampledTrainingSet(task));
        return { resetModel: true };
      },
      checkpoint: () => ({ memory: memory.snapshot() }),
      restore(s) {
        memory.restore(s.memory as Snapshot);
      },
      trainingSet() {
        const set = memory.toTrainingSet();
        return opts.passes === 1 ? set : concatTrainingSets(Array(opts.passes).fill(set));
      },
    };
  },
});
