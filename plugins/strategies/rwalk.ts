// RWalk — Riemannian Walk (Chaudhry et al., ECCV 2018): EWC++'s running
// Fisher plus a path-integral score of each parameter's contribution to the
// drop in loss, s += (−g·Δθ) / (½·F·Δθ² + ε) per step, averaged over tasks;
// after a task the penalty is λ·Σ (F + s̄)·(θ − θ*)² (src/strategies/running-fisher.ts).
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
  create: (opts) =>
    runningFisherStrategy('rwalk', { lambda: opts.lambda, alpha: opts.alpha, score: { epsilon: opts.epsilon } }),
});
