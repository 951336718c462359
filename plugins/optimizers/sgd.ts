import {
  chain,
  definePlugin,
  describeSchedule,
  o,
  type OptionsInput,
  type Problem,
  type ScalarOrSchedule,
  scaleByLearningRate,
  scheduleOption,
  toSchedule,
  trace,
} from '../../src/plugin-api.js';
import { decay } from './adamw.js';

export const SGD_DEFAULTS = { lr: 0.01, weightDecay: 0 } as const;

export const sgdOptions = {
  lr: scheduleOption({
    description: 'learning rate, or a schedule of it',
    default: SGD_DEFAULTS.lr,
    min: 0,
    exclusiveMin: true,
  }),
  momentum: o.number({ description: 'momentum factor', default: 0, min: 0, max: 1 }),
  dampening: o.number({ description: 'dampening of momentum', default: 0, min: 0, max: 1 }),
  nesterov: o.boolean({ description: 'Nesterov momentum (needs momentum > 0 and dampening 0)', default: false }),
  weightDecay: scheduleOption({
    description: 'L2 penalty added to the gradient before momentum (torch.optim.SGD semantics), or a schedule of it',
    default: SGD_DEFAULTS.weightDecay,
    min: 0,
  }),
  decayExclude: o.strings({ description: 'parameter-name patterns with no weight decay (e.g. "*.bias")', default: [] }),
};

declare module '../../src/plugin/kinds.js' {
  interface OptimizerPlugins {
    sgd: OptionsInput<typeof sgdOptions>;
  }
}

type SgdOpts = {
  lr: ScalarOrSchedule;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: ScalarOrSchedule;
  decayExclude: readonly string[];
};

export function sgdRule(opts: SgdOpts) {
  return chain(decay(opts.weightDecay, opts.decayExclude), trace(opts), scaleByLearningRate(toSchedule(opts.lr)));
}

export function describeSgd(opts: SgdOpts): string {
  const noDecay = opts.decayExclude.length ? `, decayExclude=[${opts.decayExclude.join(', ')}]` : '';
  return (
    `sgd(lr=${describeSchedule(opts.lr)}, momentum=${opts.momentum}, dampening=${opts.dampening}, ` +
    `nesterov=${opts.nesterov}, weightDecay=${describeSchedule(opts.weightDecay)}${noDecay})`
  );
}

export function validateNesterov(opts: { momentum: number; dampening: number; nesterov: boolean }): Problem[] {
  return opts.nesterov && (opts.momentum === 0 || opts.dampening !== 0)
    ? [{ path: 'nesterov', message: 'Nesterov momentum needs momentum > 0 and dampening 0' }]
    : [];
}

export default definePlugin({
  kind: 'optimizer',
  name: 'sgd',
  description:
    'stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay (torch.optim.SGD semantics)',
  options: sgdOptions,
  validate: validateNesterov,
  create: (opts) => ({ rule: sgdRule(opts), learningRate: toSchedule(opts.lr), description: describeSgd(opts) }),
});
