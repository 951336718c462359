// TPGM — Trainable Projected Gradient Method (Tian et al., CVPR 2023), the
// method FTP speeds up. Every `projEvery` steps, one radius per tensor is
// learned by a separate Adam optimiser on the validation loss of the
// projected model — an extra forward and backward pass on a held-out batch —
// and the weights are then projected onto the learned L1 balls (row-wise).
import {
  definePlugin,
  innerState,
  inSet,
  maskedPhase,
  nestState,
  o,
  type OptionsInput,
  projectRows,
  rowAxisOf,
  rowL1,
  scaleByAdam,
  tf,
} from '../../src/plugin-api.js';
import type { NamedTensors, OptimizerState, PeriodicPhase } from '../../src/contracts/optimizer.js';
import { STACKED, perTensorConstraints } from './ftp.js';
import { anchorOptions, anchoredParts, baseOptions, validateBase } from './anchored-base.js';

const options = {
  ...baseOptions,
  ...anchorOptions,
  projLr: o.number({
    description: 'learning rate of the Adam optimiser of the radii',
    default: 1e-2,
    min: 0,
    exclusiveMin: true,
  }),
  projEvery: o.integer({
    description: 'learn the radii and project every N steps (TPGM usually: every step)',
    default: 1,
    min: 1,
  }),
  valFraction: o.number({
    description: "fraction of each task's training examples held out for learning the radii",
    default: 0.1,
    min: 0,
    max: 1,
    exclusiveMin: true,
    exclusiveMax: true,
  }),
};

declare module '../../src/plugin/kinds.js' {
  interface OptimizerPlugins {
    tpgm: OptionsInput<typeof options>;
  }
}

const ADAM = { beta1: 0.9, beta2: 0.999, eps: 1e-8, floor: 1e-8 } as const;

/**
 * TPGM's radius learning over every tensor it is given (wrap it in
 * maskedPhase for the anchored set). The radii of all tensors are one vector,
 * updated by the base Adam transform with its own count of phases.
 */
export function tpgmPhase(opts: { projLr: number; projEvery: number; valFraction: number }): PeriodicPhase {
  const adam = scaleByAdam(ADAM);
  return {
    name: 'tpgm',
    every: opts.projEvery,
    validationFraction: opts.valFraction,
    init(params) {
      const names = Object.keys(params);
      if (names.length === 0) return {};
      // Negative: "not yet set"; the first phase starts each radius at the largest row offset (no projection).
      const gamma = tf.fill([names.length], -1);
      const state: OptimizerState = { 'tpgm.gamma': { [STACKED]: gamma } };
      nestState(state, 'tpgm.adam', adam.init({ [STACKED]: gamma }));
      return state;
    },
    run(state, ctx, validationLoss) {
      const names = Object.keys(ctx.params);
      if (names.length === 0) return { params: ctx.params, state };
      const offsets = names.map((name) => tf.sub(ctx.params[name], ctx.anchor[name]));
      const norms = names.map((name, i) => rowL1(offsets[i], rowAxisOf(ctx.rowAxis, name)));
      // One radius per tensor, at most its largest row offset.
      const ceiling = tf.stack(norms.map((nrm) => tf.max(nrm)));
      const stored = state['tpgm.gamma'][STACKED];
      const start = tf.where(tf.less(stored, 0), ceiling, stored);
      const projectedWith = (gammas: tf.Tensor[]): NamedTensors => {
        const out: NamedTensors = {};
        names.forEach((name, i) => (out[name] = projectRows(ctx.anchor[name], offsets[i], norms[i], gammas[i])));
        return out;
      };
      // The extra pass TPGM pays for: gradient of the validation loss in the radii.
      const grads = tf.grads((...gammas: tf.Tensor[]) => validationLoss(projectedWith(gammas)))(tf.unstack(start));
      // Adam's count is the number of phases since the radii were (re)initialised.
      const r = adam.update({ [STACKED]: tf.stack(grads) }, innerState(state, 'tpgm.adam'), {
        ...ctx,
        step: Math.max(1, Math.floor(ctx.anchorStep / opts.projEvery)),
      });
      const gamma = tf.minimum(tf.maximum(tf.sub(start, tf.mul(r.updates[STACKED], opts.projLr)), ADAM.floor), ceiling);
      const next: OptimizerState = { 'tpgm.gamma': { [STACKED]: gamma } };
      nestState(next, 'tpgm.adam', r.state);
      return { params: projectedWith(tf.unstack(gamma)), state: next };
    },
  };
}

export default definePlugin({
  kind: 'optimizer',
  name: 'tpgm',
  description:
    'Trainable Projected Gradient Method (CVPR 2023): radii learned on a validation split every projEvery steps ' +
    '(extra passes)',
  options,
  validate: (opts) => validateBase(opts),
  async create(opts, ctx) {
    const { model, constrained, component } = await anchoredParts(
      opts,
      ctx,
      'tpgm',
      `projLr=${opts.projLr}, projEvery=${opts.projEvery}, valFraction=${opts.valFraction}`,
    );
    if (!model.apply) throw new Error('tpgm needs a model that can run with other parameter values (Model.apply)');
    const order = [...model.params.keys()].filter((n) => constrained.has(n));
    return {
      ...component,
      phase: maskedPhase(tpgmPhase(opts), inSet(constrained)),
      constraints: (_p, _r, phaseState) => perTensorConstraints(phaseState['tpgm.gamma']?.[STACKED], order),
    };
  },
});
