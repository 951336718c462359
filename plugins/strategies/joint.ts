import { definePlugin, type OptionsInput } from '../../src/plugin-api.js';
import { EMPTY_TRAINING_SET, concatTrainingSets } from '../../src/contracts/strategy.js';

const options = {};

declare module '../../src/plugin/kinds.js' {
  interface StrategyPlugins {
    joint: OptionsInput<typeof options>;
  }
}

/**
 * Joint training, the upper bound: the first task trains on every task's data
 * at once, later tasks train on nothing, so each row of the accuracy matrix
 * is the jointly trained model.
 */
export default definePlugin({
  kind: 'strategy',
  name: 'joint',
  description: "all tasks' data at once (the upper bound)",
  roles: ['training-set'],
  options,
  create: () => ({
    name: 'joint',
    checkpoint: () => ({}),
    restore() {},
    trainingSet: (ctx) =>
      ctx.task.index === 0
        ? concatTrainingSets(ctx.stream.tasks.map((t) => ctx.sampledTrainingSet(t)))
        : EMPTY_TRAINING_SET,
  }),
});
