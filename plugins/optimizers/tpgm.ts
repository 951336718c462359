// TPGM — Trainable Projected Gradient Method (Tian et al., CVPR 2023), the
// method FTP speeds up. Every `projEvery` steps, one radius per tensor is
// learned by a separate Adam optimiser on the validation loss of the
// projected model — an extra forward and backward pass on a held-out batch —
// and the weights are then projected onto the learned L1 balls (row-wise).
import { definePlugin } from '../../src/plugin/define-plugin.js';
import { o, type OptionsInput } from '../../src/plugin/options.js';
import { tf } from '../../src/tensor/tf.js';
import type { NamedTensors, OptimizerState, PeriodicPhase } from '../../src/contracts/optimizer.js';
import { projectRows, rowL1 } from '../../src/optim/rows.js';
import { anchorOptions, anchoredParts, baseOptions, validateBase } from './anchored-base.js';

const options = {
  ...baseOptions,
  ...anchorOptions,
  projLr: o.number({ description: 'learning rate of the Adam optimiser of the radii', default: 1e-2, min: 0, exclusiveMin: true }),
  projEvery: o.integer({ description: 'learn the radii and project every N steps (TPGM usually: every step)', default: 1, min: 1 }),
  valFraction: o.number({ description: "fraction of each task's training examples held out for learning the radii", default: 0.1, min: 0, max: 1, exclusiveMin: true, exclusiveMax: true }),
};

declare module '../../src/plugin/kinds.js' {
  interface OptimizerPlugins {
    tpgm: OptionsInput<typeof options>;
  }
}

const ADAM = { beta1: 0.9, beta2: 0.999, eps: 1e-8, floor: 1e-8 } as const;

export function tpgmPhase(constrained: ReadonlySet<string>, opts: { projLr: number; projEvery: number; valFraction: number }): PeriodicPhase {
  return {
    name: 'tpgm',
    every: opts.projEvery,
    validationFraction: opts.valFraction,
    init(params) {
      const state: OptimizerState = { 'tpgm.gamma': {}, 'tpgm.m': {}, 'tpgm.v': {}, 'tpgm.t': {} };
      for (const name of Object.keys(params)) {
        if (!constrained.has(name)) continue;
        // Negative: "not yet set"; the first phase starts each radius at the largest row offset (no projection).
        state['tpgm.gamma'][name] = tf.scalar(-1);
        state['tpgm.m'][name] = tf.scalar(0);
        state['tpgm.v'][name] = tf.scalar(0);
      }
      state['tpgm.t'].count = tf.scalar(0);
      return state;
    },
    run(state, ctx, validationLoss) {
      const names = Object.keys(state['tpgm.gamma']);
      const offsets: NamedTensors = {};
      const norms: NamedTensors = {};
      const start: tf.Tensor[] = names.map((name) => {
        offsets[name] = tf.sub(ctx.params[name], ctx.anchor[name]);
        norms[name] = rowL1(offsets[name], ctx.rowAxis[name] ?? 0);
        const g = state['tpgm.gamma'][name];
        return tf.where(tf.less(g, 0), tf.max(norms[name]), g);
      });
      const projectedWith = (gammas: tf.Tensor[]): NamedTensors => {
        const out: NamedTensors = { ...ctx.params };
        names.forEach((name, i) => (out[name] = projectRows(ctx.anchor[name], offsets[name], norms[name], gammas[i])));
        return out;
      };
      // The extra pass TPGM pays for: gradient of the validation loss in the radii.
      const grads = tf.grads((...gammas: tf.Tensor[]) => validationLoss(projectedWith(gammas)))(start);
      const t = tf.add(state['tpgm.t'].count, 1);
      const bc1 = tf.sub(1, tf.pow(ADAM.beta1, t));
      const bc2 = tf.sub(1, tf.pow(ADAM.beta2, t));
      const next: OptimizerState = { 'tpgm.gamma': {}, 'tpgm.m': {}, 'tpgm.v': {}, 'tpgm.t': { count: t } };
      const gammas = names.map((name, i) => {
        const m = tf.add(tf.mul(state['tpgm.m'][name], ADAM.beta1), tf.mul(grads[i], 1 - ADAM.beta1));
        const v = tf.add(tf.mul(state['tpgm.v'][name], ADAM.beta2), tf.mul(tf.square(grads[i]), 1 - ADAM.beta2));
        const stepSize = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), ADAM.eps));
        const gamma = tf.minimum(tf.maximum(tf.sub(start[i], tf.mul(stepSize, opts.projLr)), ADAM.floor), tf.max(norms[name]));
        next['tpgm.gamma'][name] = gamma;
        next['tpgm.m'][name] = m;
        next['tpgm.v'][name] = v;
        return gamma;
      });
      return { params: projectedWith(gammas), state: next };
    },
  };
}

export default definePlugin({
  kind: 'optimizer',
  name: 'tpgm',
  description: 'Trainable Projected Gradient Method (CVPR 2023): radii learned on a validation split every projEvery steps (extra passes)',
  options,
  validate: (opts) => validateBase(opts),
  async create(opts, ctx) {
    const { model, constrained, component } = await anchoredParts(opts, ctx, 'tpgm', `projLr=${opts.projLr}, projEvery=${opts.projEvery}, valFraction=${opts.valFraction}`);
    if (!model.apply) throw new Error('tpgm needs a model that can run with other parameter values (Model.apply)');
    return { ...component, phase: tpgmPhase(constrained, opts), constraints: (_p, _r, phaseState) => phaseState['tpgm.gamma'] ?? {} };
  },
});
