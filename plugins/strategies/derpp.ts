// DER++ (Buzzega et al., 2020): DER's logit matching plus a cross-entropy on
// the labels of a second memory minibatch. See src/strategies/dark-experience.ts.
import { darkExperience, definePlugin, o, type OptionsInput } from '../../src/plugin-api.js';

const options = {
  size: o.integer({ description: 'examples kept in the memory', default: 500, min: 1 }),
  alpha: o.number({ description: 'weight of the logit-matching (MSE) term', default: 0.1, min: 0 }),
  beta: o.number({
    description: 'weight of the cross-entropy on replayed labels',
    default: 0.5,
    min: 0,
    exclusiveMin: true,
  }),
  batchSize: o.integer({
    description: 'memory examples per step in each term (0: the training batch size)',
    default: 0,
    min: 0,
  }),
};

declare module '../../src/plugin/kinds.js' {
  interface StrategyPlugins {
    derpp: OptionsInput<typeof options>;
  }
}

export default definePlugin({
  kind: 'strategy',
  name: 'derpp',
  description: 'DER++: logit matching plus cross-entropy on replayed labels',
  options,
  taskFree: true,
  create: (opts, ctx) => darkExperience('derpp', opts, ctx),
});
