// What the anchored optimizers (ftp, pgd, tpgm, l2sp, spd) share: a base
// update rule (AdamW or SGD, the very rules of the adamw and sgd plugins),
// the anchor they stay close to, and which parameters they leave alone.
import {
  matchesAny,
  o,
  type Options,
  type PluginContext,
  type Problem,
  scheduleOption,
  toSchedule,
  unmatchedPatterns,
} from '../../src/plugin-api.js';
import { ANCHOR_KINDS, type UpdateRule } from '../../src/contracts/optimizer.js';
import type { Model } from '../../src/contracts/model.js';
import { ADAMW_DEFAULTS, adamwRule, describeAdamw } from './adamw.js';
import { SGD_DEFAULTS, describeSgd, sgdRule, validateNesterov } from './sgd.js';

// The base rule's options default exactly as the plain plugins' do (lr 1e-3
// and weight decay 0.01 on adamw; lr 0.01 and no weight decay on sgd), so that
// `{ name: 'ftp' }` is adamw's default step plus the projection.
const byBase = (adamw: number, sgd: number) => (o: Record<string, unknown>) => (o.base === 'sgd' ? sgd : adamw);

export const baseOptions = {
  base: o.enum(['adamw', 'sgd'], { description: 'base update rule the method composes with', default: 'adamw' }),
  lr: scheduleOption({
    description: 'learning rate of the base rule, or a schedule of it',
    default: byBase(ADAMW_DEFAULTS.lr, SGD_DEFAULTS.lr),
    defaultText: `${ADAMW_DEFAULTS.lr} with base adamw, ${SGD_DEFAULTS.lr} with base sgd (as the plain plugins)`,
    min: 0,
    exclusiveMin: true,
  }),
  beta1: o.number({ description: 'adamw: first-moment decay', default: 0.9, min: 0, max: 1, exclusiveMax: true }),
  beta2: o.number({ description: 'adamw: second-moment decay', default: 0.999, min: 0, max: 1, exclusiveMax: true }),
  eps: o.number({ description: 'adamw: denominator guard', default: 1e-8, min: 0, exclusiveMin: true }),
  momentum: o.number({ description: 'sgd: momentum', default: 0, min: 0, max: 1 }),
  dampening: o.number({ description: 'sgd: dampening', default: 0, min: 0, max: 1 }),
  nesterov: o.boolean({ description: 'sgd: Nesterov momentum', default: false }),
  weightDecay: scheduleOption({
    description: 'base weight decay (decoupled for adamw, L2 for sgd), or a schedule of it',
    default: byBase(ADAMW_DEFAULTS.weightDecay, SGD_DEFAULTS.weightDecay),
    defaultText:
      `${ADAMW_DEFAULTS.weightDecay} with base adamw, ${SGD_DEFAULTS.weightDecay} with base sgd (as the plain ` +
      `plugins)`,
    min: 0,
  }),
  decayExclude: o.strings({ description: 'parameter-name patterns with no weight decay (e.g. "*.bias")', default: [] }),
};

export const anchorOptions = {
  anchor: o.enum(ANCHOR_KINDS.filter((k) => k !== 'zeros') as ['initial', 'task-start'], {
    description:
      "'initial': the weights the run started from (pre-trained); 'task-start': re-anchor at each task of a sequence",
    default: 'initial',
  }),
  exclude: o.strings({
    description:
      'parameter-name patterns (e.g. "head.*") left unconstrained; by default the parameters without a ' +
      'pre-trained value',
    default: [],
  }),
};

type BaseOpts = Options<typeof baseOptions>;

export function baseRule(opts: BaseOpts): UpdateRule {
  return opts.base === 'adamw' ? adamwRule(opts) : sgdRule(opts);
}

export function describeBase(opts: BaseOpts): string {
  return opts.base === 'adamw' ? describeAdamw(opts) : describeSgd(opts);
}

export function validateBase(opts: BaseOpts): Problem[] {
  const problems: Problem[] = opts.base === 'sgd' ? validateNesterov(opts) : [];
  if (opts.base === 'adamw' && (opts.momentum !== 0 || opts.nesterov)) {
    problems.push({ path: 'momentum', message: "momentum and nesterov apply to base 'sgd' only" });
  }
  return problems;
}

/**
 * The parameters an anchored method constrains. Explicit `exclude` patterns
 * are always left out, and each must match some parameter (a pattern that
 * matches nothing is a typo). With the initial anchor, parameters the model
 * marks as new (no pre-trained value, e.g. a fresh head) are left out too.
 */
export function constrainedParameters(
  model: Model,
  exclude: readonly string[],
  anchor: 'initial' | 'task-start',
): Set<string> {
  const names = [...model.params.keys()];
  const unmatched = unmatchedPatterns(exclude, names);
  if (unmatched.length) {
    throw new Error(
      `exclude pattern${unmatched.length > 1 ? 's' : ''} ${unmatched.map((p) => `'${p}'`).join(', ')} ` +
        `match${unmatched.length > 1 ? '' : 'es'} no parameter; parameters: ${names.join(', ')}`,
    );
  }
  const fresh = anchor === 'initial' ? (model.fresh ?? new Set<string>()) : new Set<string>();
  return new Set(names.filter((n) => !matchesAny(n, exclude) && !fresh.has(n)));
}

type AnchorOpts = Options<typeof anchorOptions>;

/**
 * What every anchored method's component shares: the base rule, learning
 * rate, anchor, the constrained parameters and a description
 * "name(settings, anchor=…, constrained n/m tensors) on base(…)".
 */
export async function anchoredParts(opts: BaseOpts & AnchorOpts, ctx: PluginContext, name: string, settings: string) {
  const model = await ctx.resolve('model');
  const constrained = constrainedParameters(model, opts.exclude, opts.anchor);
  return {
    model,
    constrained,
    component: {
      rule: baseRule(opts),
      learningRate: toSchedule(opts.lr),
      anchor: opts.anchor,
      description:
        `${name}(${settings}, anchor=${opts.anchor}, constrained ${constrained.size}/${model.params.size} ` +
        `tensors) on ${describeBase(opts)}`,
    },
  };
}
