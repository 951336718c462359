// FTP — Fast Trainable Projection (Tian et al., NeurIPS 2023).
//
// After the base update, each constrained tensor is projected row by row onto
// an L1 ball around its anchor whose radius — one learned scalar `gamma` per
// tensor — is trained by Adam on a gradient computed from the gradient of
// this step and the previous step's offset: no extra forward or backward
// pass. Semantics follow ../shared/golden/README.md (the authors' reference).
import { definePlugin } from '../../src/plugin/define-plugin.js';
import { o, type OptionsInput } from '../../src/plugin/options.js';
import { tf } from '../../src/tensor/tf.js';
import type { NamedTensors, OptimizerState, Projection } from '../../src/contracts/optimizer.js';
import { projectRows, rowL1, rowSum } from '../../src/optim/rows.js';
import { innerState, nestState, scaleByAdam } from '../../src/optim/transforms.js';
import { inSet, maskedProjection } from '../../src/optim/masking.js';
import { anchorOptions, anchoredParts, baseOptions, validateBase } from './anchored-base.js';

const options = {
  ...baseOptions,
  ...anchorOptions,
  k: o.number({ description: 'annealing: positive constraint gradients are multiplied by k (1: none)', default: 1, min: 0, max: 1 }),
};

declare module '../../src/plugin/kinds.js' {
  interface OptimizerPlugins {
    ftp: OptionsInput<typeof options>;
  }
}

/** The constraint optimiser's settings, fixed by the reference implementation. */
const GAMMA = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, floor: 1e-8 } as const;

/** State key of the stacked per-tensor scalars (γ and its Adam moments): one vector, in the order of the parameters. */
export const STACKED = '*';

/**
 * FTP's projection of every tensor it is given (wrap it in maskedProjection
 * for the anchored set). The constraints γ of all tensors are one vector and
 * their update is the base Adam transform on it: one Adam step for all
 * tensors instead of one per tensor — on native TensorFlow each small op has
 * a fixed cost.
 */
export function ftpProjection(k: number): Projection {
  const adam = scaleByAdam(GAMMA);
  return {
    name: 'ftp',
    init(params, rowAxis = {}) {
      const names = Object.keys(params);
      if (names.length === 0) return {};
      const gamma = tf.fill([names.length], GAMMA.floor);
      const state: OptimizerState = { 'ftp.gamma': { [STACKED]: gamma }, 'ftp.prevC': {}, 'ftp.prevScale': {} };
      nestState(state, 'ftp.adam', adam.init({ [STACKED]: gamma }));
      for (const name of names) {
        // The one offset tensor FTP keeps per parameter (besides the anchor), and its rows' 1/‖·‖₁.
        state['ftp.prevC'][name] = tf.zerosLike(params[name]);
        state['ftp.prevScale'][name] = tf.zerosLike(rowSum(params[name], rowAxis[name] ?? 0));
      }
      return state;
    },
    project(tentative, state, ctx) {
      const names = Object.keys(tentative);
      if (names.length === 0) return { params: tentative, state };
      const out: NamedTensors = {};
      const t = ctx.anchorStep;
      const offsets = names.map((name) => tf.sub(tentative[name], ctx.anchor[name]));
      const norms = names.map((name, i) => rowL1(offsets[i], ctx.rowAxis[name] ?? 0));
      const next: OptimizerState = { 'ftp.gamma': {}, 'ftp.prevC': {}, 'ftp.prevScale': {} };
      let gamma: tf.Tensor;
      if (t === 1) {
        // No previous offset yet: the reference starts from the floor.
        gamma = state['ftp.gamma'][STACKED];
        nestState(next, 'ftp.adam', innerState(state, 'ftp.adam'));
      } else {
        // d(loss)/d(γ) from this step's raw gradient and last step's offset, row by row.
        let grad: tf.Tensor = tf.stack(
          names.map((name) => tf.sum(tf.mul(rowSum(tf.mul(ctx.rawGrads[name], state['ftp.prevC'][name]), ctx.rowAxis[name] ?? 0), state['ftp.prevScale'][name]))),
        );
        if (k !== 1) grad = tf.where(tf.greater(grad, 0), tf.mul(grad, k), grad);
        const r = adam.update({ [STACKED]: grad }, innerState(state, 'ftp.adam'), { ...ctx, step: t });
        nestState(next, 'ftp.adam', r.state);
        const ceiling = tf.stack(norms.map((nrm) => tf.max(nrm)));
        gamma = tf.minimum(tf.maximum(tf.sub(state['ftp.gamma'][STACKED], tf.mul(r.updates[STACKED], GAMMA.lr)), GAMMA.floor), ceiling);
      }
      next['ftp.gamma'][STACKED] = gamma;
      const gammas = tf.unstack(gamma);
      names.forEach((name, i) => {
        out[name] = projectRows(ctx.anchor[name], offsets[i], norms[i], gammas[i]);
        next['ftp.prevC'][name] = offsets[i];
        next['ftp.prevScale'][name] = tf.reciprocal(norms[i]);
      });
      return { params: out, state: next };
    },
  };
}

/** γ per tensor (logging points only). */
export function stackedConstraints(stacked: tf.Tensor | undefined, names: readonly string[]): NamedTensors {
  if (!stacked) return {};
  const values = tf.unstack(stacked);
  return Object.fromEntries(names.map((n, i) => [n, values[i]]));
}

export default definePlugin({
  kind: 'optimizer',
  name: 'ftp',
  description: 'Fast Trainable Projection (NeurIPS 2023): learned per-tensor L1 constraints around the anchor, on adamw or sgd',
  options,
  validate: (opts) => validateBase(opts),
  async create(opts, ctx) {
    const { model, constrained, component } = await anchoredParts(opts, ctx, 'ftp', `k=${opts.k}`);
    const order = [...model.params.keys()].filter((n) => constrained.has(n));
    return {
      ...component,
      projection: maskedProjection(ftpProjection(opts.k), inSet(constrained)),
      constraints: (state) => stackedConstraints(state['ftp.gamma']?.[STACKED], order),
    };
  },
});
