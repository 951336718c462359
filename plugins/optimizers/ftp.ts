// FTP — Fast Trainable Projection (Tian et al., NeurIPS 2023).
//
// After the base update, each constrained tensor is projected row by row onto
// an L1 ball around its anchor whose radius — one learned scalar γ per
// tensor — is trained by Adam on a gradient computed from the gradient of
// this step and the previous step's offset: no extra forward or backward
// pass. Semantics follow the authors' reference implementation, pinned by the
// golden traces in test/fixtures/golden (see its README). This file is the
// reference: tfjs ops that read like the algorithm. On native TensorFlow the
// same step runs as two fused kernels (ftp-native.ts), checked against it.
import {
  definePlugin,
  innerState,
  inSet,
  maskedProjection,
  nestState,
  o,
  type OptionsInput,
  rowAxisOf,
  rowLayout,
  type RowLayout,
  rowSums,
  scaleByAdam,
  tf,
} from '../../src/plugin-api.js';
import type { NamedTensors, OptimizerState, Projection, StepContext } from '../../src/contracts/optimizer.js';
import { anchorOptions, anchoredParts, baseOptions, validateBase } from './anchored-base.js';
import { ftpNativeStep } from './ftp-native.js';

const options = {
  ...baseOptions,
  ...anchorOptions,
  k: o.number({
    description: 'annealing: positive constraint gradients are multiplied by k (1: none)',
    default: 1,
    min: 0,
    max: 1,
  }),
};

declare module '../../src/plugin/kinds.js' {
  interface OptimizerPlugins {
    ftp: OptionsInput<typeof options>;
  }
}

/** The constraint optimiser's settings, fixed by the reference implementation. */
export const FTP_GAMMA = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, floor: 1e-8 } as const;

/** State key of the per-tensor scalars (γ and its Adam moments): one vector, in the order of the parameters. */
export const STACKED = '*';

/**
 * FTP's projection of every tensor it is given (wrap it in maskedProjection
 * for the anchored set). Everything but the offsets is done once for all
 * tensors: their rows' norms, scales and clip factors are one vector, the
 * constraints γ another (each op has a fixed cost on native TensorFlow, so the
 * count of ops, not of tensors, sets FTP's overhead).
 *
 * State: γ per tensor ('ftp.gamma', one vector), its Adam moments
 * ('ftp.adam/…'), the previous offsets c_{t−1} ('ftp.prevC', per tensor), the
 * reciprocals of their rows' norms ('ftp.prevScale', one vector) and the row
 * layout's constants ('ftp.layout').
 */
export function ftpProjection(k: number): Projection {
  const adam = scaleByAdam(FTP_GAMMA);
  // Host-side only: the layout of the rows, recomputed when the tensors change.
  let layout: { key: string; value: RowLayout } | undefined;
  const layoutOf = (xs: NamedTensors, rowAxis: Readonly<Record<string, number>>, names = Object.keys(xs)) => {
    const key = names.map((n) => `${n}:${xs[n].shape.join('x')}@${rowAxisOf(rowAxis, n)}`).join(',');
    if (layout?.key !== key)
      layout = { key, value: rowLayout(Object.fromEntries(names.map((n) => [n, xs[n].shape])), rowAxis) };
    return layout.value;
  };
  return {
    name: 'ftp',
    init(params, rowAxis = {}) {
      const names = Object.keys(params);
      if (names.length === 0) return {};
      const L = layoutOf(params, rowAxis);
      const parts = L.partRows.length;
      const total = L.rowTensor.length;
      const gamma = tf.fill([parts], FTP_GAMMA.floor);
      const state: OptimizerState = {
        'ftp.gamma': { [STACKED]: gamma },
        'ftp.prevC': Object.fromEntries(names.map((name) => [name, tf.zerosLike(params[name])])),
        // The rows' 1/‖·‖₁ of the last offsets, all tensors' rows end to end, plus one padding row.
        'ftp.prevScale': { [STACKED]: tf.zeros([total + 1]) },
        // Constants of the layout, kept with the state so that no step uploads them.
        'ftp.layout': {
          rowTensor: tf.tensor1d(Int32Array.from([...L.rowTensor, 0]), 'int32'),
          tensorRows: tf.tensor2d(paddedRows(L, total), [parts, L.mostRows], 'int32'),
          pad: tf.zeros([1]),
        },
      };
      nestState(state, 'ftp.adam', adam.init({ [STACKED]: gamma }));
      return state;
    },
    project(tentative, state, ctx) {
      const names = Object.keys(tentative);
      if (names.length === 0) return { params: {}, state };
      return step(tentative, names, state, ctx);
    },
  };

  function step(tentative: NamedTensors, names: string[], state: OptimizerState, ctx: StepContext) {
    const L = layoutOf(ctx.params, ctx.rowAxis, names);
    const { rowTensor, tensorRows, pad } = state['ftp.layout'];
    // c_t = w̃ − w0, and every row's ‖c_t‖₁ (+1e-8, the reference's guard), with a padding row that joins no
    // tensor.
    const offsets = names.map((name) => tf.sub(tentative[name], ctx.anchor[name]));
    const norms = tf.add(tf.concat([...offsets.map((c, i) => rowSums(tf.abs(c), L, i)), pad]), 1e-8);
    const scale = tf.reciprocal(norms);
    const next: OptimizerState = { 'ftp.layout': state['ftp.layout'], 'ftp.prevScale': { [STACKED]: scale } };
    next['ftp.prevC'] = Object.fromEntries(names.map((name, i) => [name, offsets[i]]));
    let gamma = state['ftp.gamma'][STACKED];
    if (ctx.anchorStep === 1) {
      // No previous offset yet: γ stays at the floor.
      nestState(next, 'ftp.adam', innerState(state, 'ftp.adam'));
    } else {
      // ∂L/∂γ of each tensor: Σ over its rows of ⟨g_t, c_{t−1}⟩ / ‖c_{t−1}‖₁, from this step's raw
      // gradient.
      const rowDots = tf.concat([
        ...names.map((name, i) => rowSums(tf.mul(ctx.rawGrads[name], state['ftp.prevC'][name]), L, i)),
        pad,
      ]);
      let grad = tf.sum(tf.gather(tf.mul(rowDots, state['ftp.prevScale'][STACKED]), tensorRows), 1);
      // Annealing: a positive gradient (γ would shrink) is damped by k.
      if (k !== 1) grad = tf.where(tf.greater(grad, 0), tf.mul(grad, k), grad);
      const r = adam.update({ [STACKED]: grad }, innerState(state, 'ftp.adam'), { ...ctx, step: ctx.anchorStep });
      nestState(next, 'ftp.adam', r.state);
      // γ ← clip(γ − lr·adam, floor, the tensor's largest row norm).
      const ceiling = tf.max(tf.gather(norms, tensorRows), 1);
      gamma = tf.minimum(tf.maximum(tf.sub(gamma, tf.mul(r.updates[STACKED], FTP_GAMMA.lr)), FTP_GAMMA.floor), ceiling);
    }
    next['ftp.gamma'] = { [STACKED]: gamma };
    // w = w0 + clamp(γ / ‖c_t‖₁, 0, 1) · c_t, row by row (the padding row's factor is read by no tensor).
    const factors = tf.split(tf.clipByValue(tf.mul(tf.gather(gamma, rowTensor), scale), 0, 1), [...L.rows, 1]);
    const params: NamedTensors = {};
    names.forEach(
      (name, i) =>
        (params[name] = tf.add(
          ctx.anchor[name],
          tf.mul(offsets[i], L.broadcast[i] ? tf.reshape(factors[i], L.broadcast[i]) : factors[i]),
        )),
    );
    return { params, state: next };
  }
}

/** [parts, most rows]: each part's row indices, padded with the padding row (`total`), which joins no part. */
function paddedRows(L: RowLayout, total: number): Int32Array {
  return L.tensorRows.map((r, i) => (i % L.mostRows < L.partRows[Math.floor(i / L.mostRows)] ? r : total));
}

/** γ per tensor (logging points only). */
export function perTensorConstraints(stacked: tf.Tensor | undefined, names: readonly string[]): NamedTensors {
  if (!stacked) return {};
  const values = tf.unstack(stacked);
  return Object.fromEntries(names.map((n, i) => [n, values[i]]));
}

export default definePlugin({
  kind: 'optimizer',
  name: 'ftp',
  description:
    'Fast Trainable Projection (NeurIPS 2023): learned per-tensor L1 constraints around the anchor, on adamw or sgd',
  options,
  validate: (opts) => validateBase(opts),
  async create(opts, ctx) {
    const { model, constrained, component } = await anchoredParts(opts, ctx, 'ftp', `k=${opts.k}`);
    const order = [...model.params.keys()].filter((n) => constrained.has(n));
    const reference = ftpProjection(opts.k);
    return {
      ...component,
      projection: maskedProjection(
        { ...reference, projectStep: ftpNativeStep(opts.k, reference, { gamma: FTP_GAMMA, key: STACKED }) },
        inSet(constrained),
      ),
      constraints: (state) => perTensorConstraints(state['ftp.gamma']?.[STACKED], order),
    };
  },
});
