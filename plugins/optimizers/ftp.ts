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

/** FTP's projection over the named tensors in `constrained`; others pass through. */
export function ftpProjection(constrained: ReadonlySet<string>, k: number): Projection {
  return {
    name: 'ftp',
    init(params) {
      const gamma: NamedTensors = {};
      const m: NamedTensors = {};
      const v: NamedTensors = {};
      const prevC: NamedTensors = {};
      for (const name of Object.keys(params)) {
        if (!constrained.has(name)) continue;
        gamma[name] = tf.scalar(GAMMA.floor);
        m[name] = tf.scalar(0);
        v[name] = tf.scalar(0);
        // The one offset tensor FTP keeps per parameter (besides the anchor).
        prevC[name] = tf.zerosLike(params[name]);
      }
      return { 'ftp.gamma': gamma, 'ftp.m': m, 'ftp.v': v, 'ftp.prevC': prevC };
    },
    project(tentative, state, ctx) {
      const out: NamedTensors = { ...tentative };
      const next: OptimizerState = { 'ftp.gamma': {}, 'ftp.m': {}, 'ftp.v': {}, 'ftp.prevC': {} };
      const t = ctx.anchorStep;
      const bc1 = 1 - Math.pow(GAMMA.beta1, t);
      const bc2 = 1 - Math.pow(GAMMA.beta2, t);
      for (const name of Object.keys(state['ftp.gamma'])) {
        const axis = ctx.rowAxis[name] ?? 0;
        const anchor = ctx.anchor[name];
        const c = tf.sub(tentative[name], anchor);
        const norms = rowL1(c, axis);
        let gamma: tf.Tensor;
        let m = state['ftp.m'][name];
        let v = state['ftp.v'][name];
        if (t === 1) {
          // No previous offset yet: the reference starts from the floor.
          gamma = tf.scalar(GAMMA.floor);
        } else {
          const prevC = state['ftp.prevC'][name];
          // d(loss)/d(gamma) from this step's raw gradient and last step's offset, row by row.
          const rowDot = rowSum(tf.mul(ctx.rawGrads[name], prevC), axis);
          let grad = tf.sum(tf.div(rowDot, rowL1(prevC, axis)));
          grad = tf.where(tf.greater(grad, 0), tf.mul(grad, k), grad);
          m = tf.add(tf.mul(m, GAMMA.beta1), tf.mul(grad, 1 - GAMMA.beta1));
          v = tf.add(tf.mul(v, GAMMA.beta2), tf.mul(tf.square(grad), 1 - GAMMA.beta2));
          const step = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), GAMMA.eps));
          gamma = tf.sub(state['ftp.gamma'][name], tf.mul(step, GAMMA.lr));
          gamma = tf.minimum(tf.maximum(gamma, GAMMA.floor), tf.max(norms));
        }
        out[name] = projectRows(anchor, c, norms, gamma);
        next['ftp.gamma'][name] = gamma;
        next['ftp.m'][name] = m;
        next['ftp.v'][name] = v;
        next['ftp.prevC'][name] = c;
      }
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
