import { definePlugin } from '../../src/plugin/define-plugin.js';
import { o, type OptionsInput } from '../../src/plugin/options.js';
import { addDecayedWeights, chain, scaleByLearningRate, trace } from '../../src/optim/transforms.js';

export const sgdOptions = {
  lr: o.number({ description: 'learning rate', default: 0.01, min: 0, exclusiveMin: true }),
  momentum: o.number({ description: 'momentum factor', default: 0, min: 0, max: 1 }),
  dampening: o.number({ description: 'dampening of momentum', default: 0, min: 0, max: 1 }),
  nesterov: o.boolean({ description: 'Nesterov momentum (needs momentum > 0 and dampening 0)', default: false }),
  weightDecay: o.number({ description: 'L2 penalty added to the gradient before momentum (torch.optim.SGD semantics)', default: 0, min: 0 }),
};

declare module '../../src/plugin/kinds.js' {
  interface OptimizerPlugins {
    sgd: OptionsInput<typeof sgdOptions>;
  }
}

export function sgdRule(opts: { lr: number; momentum: number; dampening: number; nesterov: boolean; weightDecay: number }) {
  return chain(addDecayedWeights(opts.weightDecay), trace(opts), scaleByLearningRate(opts.lr));
}

export default definePlugin({
  kind: 'optimizer',
  name: 'sgd',
  description: 'stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay (torch.optim.SGD semantics)',
  options: sgdOptions,
  validate: (opts) =>
    opts.nesterov && (opts.momentum === 0 || opts.dampening !== 0)
      ? [{ path: 'nesterov', message: 'Nesterov momentum needs momentum > 0 and dampening 0' }]
      : [],
  create: (opts) => ({
    rule: sgdRule(opts),
    learningRate: opts.lr,
    description: `sgd(lr=${opts.lr}, momentum=${opts.momentum}, dampening=${opts.dampening}, nesterov=${opts.nesterov}, weightDecay=${opts.weightDecay})`,
  }),
});
