// EWC++ (Chaudhry et al., ECCV 2018): EWC whose diagonal Fisher is a running
// average over training, F ← α·g² + (1 − α)·F after every step, rather than a
// pass over stored examples at each task's end; after a task the penalty is
// (λ/2)·Σ F·(θ − θ*)² anchored at that task's final weights
// (src/strategies/running-fisher.ts).
import { definePlugin, o, runningFisherAlpha, runningFisherStrategy, type OptionsInput } from '../../src/plugin-api.js';

const options = {
  lambda: o.number({ description: 'strength of the quadratic penalty (λ)', default: 5000, min: 0 }),
  alpha: runningFisherAlpha,
};

declare module '../../src/plugin/kinds.js' {
  interface StrategyPlugins {
    ewcpp: OptionsInput<typeof options>;
  }
}

export default definePlugin({
  kind: 'strategy',
  name: 'ewcpp',
  description: 'EWC++: EWC with the Fisher as a running average during training (Chaudhry et al., 2018)',
  options,
  create: (opts) => runningFisherStrategy('ewcpp', { lambda: opts.lambda, alpha: opts.alpha }),
});
