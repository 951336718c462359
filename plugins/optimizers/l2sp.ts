// L2-SP (Li et al., ICML 2018): an L2 penalty towards the starting point.
// The gradient of kept tensors gets alpha·(w − w0); that of new tensors
// (excluded: a fresh head) gets beta·w; then the base rule runs.
import {
  addDecayedWeights,
  chain,
  definePlugin,
  inSet,
  mapNamed,
  not,
  o,
  type OptionsInput,
  partition,
  tf,
} from '../../src/plugin-api.js';
import type { UpdateRule } from '../../src/contracts/optimizer.js';
import { anchorOptions, anchoredParts, baseOptions, validateBase } from './anchored-base.js';
import { anchorPullNative } from './l2sp-native.js';

const options = {
  ...baseOptions,
  ...anchorOptions,
  alpha: o.number({ description: 'strength of the pull towards the anchor for kept tensors', default: 0.1, min: 0 }),
  beta: o.number({ description: 'plain L2 strength for new (excluded) tensors', default: 0.01, min: 0 }),
};

declare module '../../src/plugin/kinds.js' {
  interface OptimizerPlugins {
    l2sp: OptionsInput<typeof options>;
  }
}

/**
 * Adds `alpha·(w − w0)`: the pull towards the anchor (the kept tensors' part of L2-SP); on native TensorFlow one
 * fused kernel for all tensors (l2sp-native.ts).
 */
export function anchorPull(alpha: number): UpdateRule {
  return { name: 'anchor-pull', init: () => ({}), update: anchorPullNative(alpha, anchorPullReference(alpha)) };
}

/** The reference: the pull as ops, tensor by tensor. */
export function anchorPullReference(alpha: number): UpdateRule['update'] {
  return (updates, _state, ctx) => ({
    updates: mapNamed(updates, (g, name) => tf.add(g, tf.mul(tf.sub(ctx.params[name], ctx.anchor[name]), alpha))),
    state: {},
  });
}

/** L2-SP's gradient transform: the anchor pull on kept tensors, plain L2 (`beta·w`) on new ones. */
export function l2spPenalty(alpha: number, beta: number, kept: ReadonlySet<string>): UpdateRule {
  return partition(
    { label: 'kept', select: inSet(kept), rule: anchorPull(alpha) },
    { label: 'new', select: not(inSet(kept)), rule: addDecayedWeights(beta) },
  );
}

export default definePlugin({
  kind: 'optimizer',
  name: 'l2sp',
  description:
    'L2-SP (ICML 2018): alpha·(w − w0) added to the gradient of kept tensors, beta·w to new ones, on adamw or sgd',
  options,
  validate: (opts) => validateBase(opts),
  async create(opts, ctx) {
    const { constrained: kept, component } = await anchoredParts(
      opts,
      ctx,
      'l2sp',
      `alpha=${opts.alpha}, beta=${opts.beta}`,
    );
    return { ...component, rule: chain(l2spPenalty(opts.alpha, opts.beta, kept), component.rule) };
  },
});
