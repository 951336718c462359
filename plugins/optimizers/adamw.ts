import {
  addDecayedWeights,
  byPatterns,
  chain,
  definePlugin,
  describeSchedule,
  masked,
  not,
  o,
  type OptionsInput,
  type ScalarOrSchedule,
  scaleByAdam,
  scaleByLearningRate,
  scheduleOption,
  toSchedule,
} from '../../src/plugin-api.js';
import type { UpdateRule } from '../../src/contracts/optimizer.js';

export const ADAMW_DEFAULTS = { lr: 1e-3, weightDecay: 0.01 } as const;

export const adamwOptions = {
  lr: scheduleOption({
    description: 'learning rate, or a schedule of it',
    default: ADAMW_DEFAULTS.lr,
    min: 0,
    exclusiveMin: true,
  }),
  beta1: o.number({ description: "Adam's first-moment decay", default: 0.9, min: 0, max: 1, exclusiveMax: true }),
  beta2: o.number({ description: "Adam's second-moment decay", default: 0.999, min: 0, max: 1, exclusiveMax: true }),
  eps: o.number({ description: 'added to the denominator', default: 1e-8, min: 0, exclusiveMin: true }),
  weightDecay: scheduleOption({
    description: 'decoupled weight decay (PyTorch AdamW semantics; 0 gives Adam), or a schedule of it',
    default: ADAMW_DEFAULTS.weightDecay,
    min: 0,
  }),
  decayExclude: o.strings({ description: 'parameter-name patterns with no weight decay (e.g. "*.bias")', default: [] }),
};

declare module '../../src/plugin/kinds.js' {
  interface OptimizerPlugins {
    adamw: OptionsInput<typeof adamwOptions>;
  }
}

/** The decay rule, masked to the parameters not excluded from it. */
export function decay(rate: ScalarOrSchedule, exclude: readonly string[]): UpdateRule {
  const rule = addDecayedWeights(typeof rate === 'number' ? rate : toSchedule(rate));
  return exclude.length ? masked(rule, not(byPatterns(exclude))) : rule;
}

/** AdamW = chain(scaleByAdam, addDecayedWeights, scaleByLearningRate), as in Optax; matches torch.optim.AdamW. */
export function adamwRule(opts: {
  lr: ScalarOrSchedule;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: ScalarOrSchedule;
  decayExclude: readonly string[];
}) {
  return chain(scaleByAdam(opts), decay(opts.weightDecay, opts.decayExclude), scaleByLearningRate(toSchedule(opts.lr)));
}

export function describeAdamw(opts: Parameters<typeof adamwRule>[0]): string {
  const noDecay = opts.decayExclude.length ? `, decayExclude=[${opts.decayExclude.join(', ')}]` : '';
  return (
    `adamw(lr=${describeSchedule(opts.lr)}, betas=(${opts.beta1}, ${opts.beta2}), eps=${opts.eps}, ` +
    `weightDecay=${describeSchedule(opts.weightDecay)}${noDecay})`
  );
}

export default definePlugin({
  kind: 'optimizer',
  name: 'adamw',
  description: 'Adam with decoupled weight decay (torch.optim.AdamW semantics)',
  options: adamwOptions,
  create: (opts) => ({ rule: adamwRule(opts), learningRate: toSchedule(opts.lr), description: describeAdamw(opts) }),
});
