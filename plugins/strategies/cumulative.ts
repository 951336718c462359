import { definePlugin, type OptionsInput } from '../../src/plugin-api.js';
import { concatTrainingSets } from '../../src/contracts/strategy.js';

const options = {};

declare module '../../src/plugin/kinds.js' {
  interface StrategyPlugins {
    cumulative: OptionsInput<typeof options>;
  }
}

/** Cumulative training: task k trains on the data of tasks 0..k. */
export default definePlugin({
  kind: 'strategy',
  name: 'cumulative',
  description: 'each task trains on the data of every task so far',
  roles: ['training-set'],
  options,
  create: () => ({
    name: 'cumulative',
    checkpoint: () => ({}),
    restore() {},
    trainingSet: (ctx) =>
      concatTrainingSets(ctx.stream.tasks.slice(0, ctx.task.index + 1).map((t) => ctx.sampledTrainingSet(t))),
  }),
});
