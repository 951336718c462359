// DER — Dark Experience Replay (Buzzega et al., 2020): logit matching on a
// reservoir memory filled during training. See src/strategies/dark-experience.ts.
import { darkExperience, definePlugin, o, type OptionsInput } from '../../src/plugin-api.js';

const options = {
  size: o.integer({ description: 'examples kept in the memory', default: 500, min: 1 }),
  alpha: o.number({ description: 'weight of the logit-matching (MSE) term', default: 0.3, min: 0 }),
  batchSize: o.integer({ description: 'memory examples per step (0: the training batch size)', default: 0, min: 0 }),
};

declare module '../../src/plugin/kinds.js' {
  interface StrategyPlugins {
    der: OptionsInput<typeof options>;
  }
}

export default definePlugin({
  kind: 'strategy',
  name: 'der',
  description: 'Dark Experience Replay: match the logits stored with reservoir-sampled examples',
  options,
  taskFree: true,
  create: (opts, ctx) => darkExperience('der', { ...opts, beta: 0 }, ctx),
});
