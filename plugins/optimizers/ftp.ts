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

/**
 * FTP's projection over the named tensors in `constrained`; others pass
 * through. The constraints' Adam update runs on all tensors at once (stacked
 * scalars): on native TensorFlow each small op has a fixed cost that would
 * otherwise be paid once per tensor.
 */
export function ftpProjection(constrained: ReadonlySet<string>, k: number): Projection {
  return {
    name: 'ftp',
    init(params) {
      const state: OptimizerState = { 'ftp.gamma': {}, 'ftp.m': {}, 'ftp.v': {}, 'ftp.prevC': {}, 'ftp.prevScale': {} };
      for (const name of Object.keys(params)) {
        if (!constrained.has(name)) continue;
        state['ftp.gamma'][name] = tf.scalar(GAMMA.floor);
        state['ftp.m'][name] = tf.scalar(0);
        state['ftp.v'][name] = tf.scalar(0);
        // The one offset tensor FTP keeps per parameter (besides the anchor), and its rows' 1/‖·‖₁.
        state['ftp.prevC'][name] = tf.zerosLike(params[name]);
        state['ftp.prevScale'][name] = tf.scalar(0);
      }
      return state;
    },
    project(tentative, state, ctx) {
      const out: NamedTensors = { ...tentative };
      const next: OptimizerState = { 'ftp.gamma': {}, 'ftp.m': {}, 'ftp.v': {}, 'ftp.prevC': {}, 'ftp.prevScale': {} };
      const names = Object.keys(state['ftp.gamma']);
      if (names.length === 0) return { params: out, state: next };
      const t = ctx.anchorStep;
      const offsets = names.map((name) => tf.sub(tentative[name], ctx.anchor[name]));
      const norms = names.map((name, i) => rowL1(offsets[i], ctx.rowAxis[name] ?? 0));
      let gammas: tf.Tensor[];
      if (t === 1) {
        // No previous offset yet: the reference starts from the floor.
        gammas = names.map(() => tf.scalar(GAMMA.floor));
        names.forEach((name) => {
          next['ftp.m'][name] = state['ftp.m'][name];
          next['ftp.v'][name] = state['ftp.v'][name];
        });
      } else {
        // d(loss)/d(gamma) from this step's raw gradient and last step's offset, row by row.
        let grad: tf.Tensor = tf.stack(
          names.map((name) => tf.sum(tf.mul(rowSum(tf.mul(ctx.rawGrads[name], state['ftp.prevC'][name]), ctx.rowAxis[name] ?? 0), state['ftp.prevScale'][name]))),
        );
        if (k !== 1) grad = tf.where(tf.greater(grad, 0), tf.mul(grad, k), grad);
        const m = tf.add(tf.mul(tf.stack(names.map((n) => state['ftp.m'][n])), GAMMA.beta1), tf.mul(grad, 1 - GAMMA.beta1));
        const v = tf.add(tf.mul(tf.stack(names.map((n) => state['ftp.v'][n])), GAMMA.beta2), tf.mul(tf.square(grad), 1 - GAMMA.beta2));
        const bc1 = 1 - Math.pow(GAMMA.beta1, t);
        const bc2 = 1 - Math.pow(GAMMA.beta2, t);
        const step = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), GAMMA.eps));
        const gamma = tf.sub(tf.stack(names.map((n) => state['ftp.gamma'][n])), tf.mul(step, GAMMA.lr));
        const ceiling = tf.stack(norms.map((nrm) => tf.max(nrm)));
        gammas = tf.unstack(tf.minimum(tf.maximum(gamma, GAMMA.floor), ceiling));
        const ms = tf.unstack(m);
        const vs = tf.unstack(v);
        names.forEach((name, i) => {
          next['ftp.m'][name] = ms[i];
          next['ftp.v'][name] = vs[i];
        });
      }
      names.forEach((name, i) => {
        out[name] = projectRows(ctx.anchor[name], offsets[i], norms[i], gammas[i]);
        next['ftp.gamma'][name] = gammas[i];
        next['ftp.prevC'][name] = offsets[i];
        next['ftp.prevScale'][name] = tf.reciprocal(norms[i]);
      });
      return { params: out, state: next };
    },
  };
}

export default definePlugin({
  kind: 'optimizer',
  name: 'ftp',
  description: 'Fast Trainable Projection (NeurIPS 2023): learned per-tensor L1 constraints around the anchor, on adamw or sgd',
  options,
  validate: (opts) => validateBase(opts),
  async create(opts, ctx) {
    const { constrained, component } = await anchoredParts(opts, ctx, 'ftp', `k=${opts.k}`);
    return { ...component, projection: ftpProjection(constrained, opts.k), constraints: (state) => state['ftp.gamma'] ?? {} };
  },
});
