// RWalk — Riemannian Walk (Chaudhry et al., ECCV 2018): EWC++'s running
// Fisher plus a path-integral score of each parameter's part in the drop of
// the loss, the drop over Δt steps divided by ½·F·Δθ² + ε over them, averaged
// over tasks; after a task the penalty is λ·Σ (F + s̄)·(θ − θ*)², F and s̄
// each scaled to a largest entry of 1 (src/strategies/running-fisher.ts).
import { definePlugin, o, runningFisherAlpha, runningFisherStrategy, type OptionsInput } from '../../src/plugin-api.js';

const options = {
  lambda: o.number({ description: 'strength of the quadratic penalty (λ)', default: 1, min: 0 }),
  alpha: runningFisherAlpha,
  epsilon: o.number({
    description: "damping ε of the score's denominator ½·F·Δθ² + ε",
    default: 1e-3,
    min: 0,
    exclusiveMin: true,
  }),
  interval: o.integer({
    description: 'steps per score update (Δt): the loss drop and the distance are taken over this many steps',
    default: 10,
    min: 1,
  }),
  normalize: o.boolean({
    description: 'scale the Fisher and the score each to a largest entry of 1 before they weigh the penalty',
    default: true,
  }),
};

declare module '../../src/plugin/kinds.js' {
  interface StrategyPlugins {
    rwalk: OptionsInput<typeof options>;
  }
}

export default definePlugin({
  kind: 'strategy',
  name: 'rwalk',
  description: 'RWalk: running Fisher plus path-integral scores (Chaudhry et al., 2018)',
  options,
  create: ({ lambda, alpha, epsilon, interval, normalize }) =>
    runningFisherStrategy('rwalk', { lambda, alpha, score: { epsilon, interval, normalize } }),
});
