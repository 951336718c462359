import { definePlugin } from '../../src/plugin/define-plugin.js';
import { o, type OptionsInput } from '../../src/plugin/options.js';
import { addDecayedWeights, chain, scaleByAdam, scaleByLearningRate } from '../../src/optim/transforms.js';

export const adamwOptions = {
  lr: o.number({ description: 'learning rate', default: 1e-3, min: 0, exclusiveMin: true }),
  beta1: o.number({ description: "Adam's first-moment decay", default: 0.9, min: 0, max: 1, exclusiveMax: true }),
  beta2: o.number({ description: "Adam's second-moment decay", default: 0.999, min: 0, max: 1, exclusiveMax: true }),
  eps: o.number({ description: 'added to the denominator', default: 1e-8, min: 0, exclusiveMin: true }),
  weightDecay: o.number({ description: 'decoupled weight decay (PyTorch AdamW semantics; 0 gives Adam)', default: 0.01, min: 0 }),
};

declare module '../../src/plugin/kinds.js' {
  interface OptimizerPlugins {
    adamw: OptionsInput<typeof adamwOptions>;
  }
}

/** AdamW = chain(scaleByAdam, addDecayedWeights, scaleByLearningRate), as in Optax; matches torch.optim.AdamW. */
export function adamwRule(opts: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number }) {
  return chain(scaleByAdam(opts), addDecayedWeights(opts.weightDecay), scaleByLearningRate(opts.lr));
}

export default definePlugin({
  kind: 'optimizer',
  name: 'adamw',
  description: 'Adam with decoupled weight decay (torch.optim.AdamW semantics)',
  options: adamwOptions,
  create: (opts) => ({
    rule: adamwRule(opts),
    learningRate: opts.lr,
    description: `adamw(lr=${opts.lr}, betas=(${opts.beta1}, ${opts.beta2}), eps=${opts.eps}, weightDecay=${opts.weightDecay})`,
  }),
});
