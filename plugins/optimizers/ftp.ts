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
import { rowLayout, rowSums, type RowLayout } from '../../src/optim/rows.js';
import { innerState, nestState, scaleByAdam } from '../../src/optim/transforms.js';
import { inSet, maskedProjection } from '../../src/optim/masking.js';
import { rowKernels, type RowKernels } from '../../src/tensor/native-kernels.js';
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
 * for the anchored set). Besides the offsets themselves, everything is done
 * once for all tensors: their rows' norms, scales and clip factors are one
 * vector, the constraints γ another, updated by the base Adam transform. On
 * native TensorFlow each op has a fixed cost, so the count of ops, not of
 * tensors, sets FTP's overhead (bench/op-count.ts); there, too, the per-tensor
 * passes over the large matrices run as two fused kernels instead of seven
 * ops (src/tensor/native/row_kernels.cc). `fused: 'ops'` keeps the op path
 * on every backend (tests and the bench compare the two).
 */
export function ftpProjection(k: number, fused: (() => RowKernels | undefined) | 'ops' = rowKernels): Projection {
  const adam = scaleByAdam(GAMMA);
  // Host-side only: the layout of the rows, recomputed when the tensors change.
  let layout: { key: string; value: RowLayout } | undefined;
  const layoutOf = (xs: NamedTensors, rowAxis: Readonly<Record<string, number>>, runs = 0) => {
    const key = `${runs}|${Object.entries(xs).map(([n, t]) => `${n}:${t.shape.join('x')}@${rowAxis[n] ?? 0}`).join(',')}`;
    if (layout?.key !== key) layout = { key, value: rowLayout(Object.fromEntries(Object.entries(xs).map(([n, t]) => [n, t.shape])), rowAxis, runs) };
    return layout.value;
  };
  return {
    name: 'ftp',
    // With runs stacked, each run's slice of a tensor is a part with its own γ (tensor-major: tensor × runs + run).
    stacks: true,
    init(params, rowAxis = {}, runs) {
      const names = Object.keys(params);
      if (names.length === 0) return {};
      const L = layoutOf(params, rowAxis, runs);
      const parts = L.partRows.length;
      const gamma = tf.fill([parts], GAMMA.floor);
      const total = L.rowTensor.length;
      const state: OptimizerState = {
        'ftp.gamma': { [STACKED]: gamma },
        'ftp.prevC': {},
        // The rows' 1/‖·‖₁ of the last offsets, all tensors' rows end to end, plus one padding row.
        'ftp.prevScale': { [STACKED]: tf.zeros([total + 1]) },
        // Constants of the layout, kept with the state so that no step uploads them.
        'ftp.layout': {
          rowTensor: tf.tensor1d(Int32Array.from([...L.rowTensor, 0]), 'int32'),
          tensorRows: tf.tensor2d(L.tensorRows.map((r, i) => (i % L.mostRows < L.partRows[Math.floor(i / L.mostRows)] ? r : total)), [parts, L.mostRows], 'int32'),
          pad: tf.zeros([1]),
        },
      };
      nestState(state, 'ftp.adam', adam.init({ [STACKED]: gamma }));
      // The one offset tensor FTP keeps per parameter (besides the anchor).
      for (const name of names) state['ftp.prevC'][name] = tf.zerosLike(params[name]);
      return state;
    },
    project(tentative, state, ctx) {
      const names = Object.keys(tentative);
      if (names.length === 0) return { params: tentative, state };
      const L = layoutOf(tentative, ctx.rowAxis, ctx.runs);
      const { rowTensor, tensorRows, pad } = state['ftp.layout'];
      const t = ctx.anchorStep;
      const kernels = fused === 'ops' ? undefined : fused();
      const rows = { axes: names.map((name) => ctx.rowAxis[name] ?? ((ctx.runs ?? 0) > 0 ? 1 : 0)), stacked: (ctx.runs ?? 0) > 0 };
      const grads = t === 1 ? undefined : names.map((name) => ctx.rawGrads[name]);
      const prevs = t === 1 ? undefined : names.map((name) => state['ftp.prevC'][name]);
      // Each tensor's offset w̃ − w0, and for all tensors' rows end to end (plus the padding row) Σ|offset| and, after
      // the first step, Σ g ⊙ c_prev: on native TensorFlow one fused kernel, elsewhere the same sums through tfjs ops.
      let offsets: tf.Tensor[];
      let rowNorms: tf.Tensor;
      let rowDots: tf.Tensor | undefined;
      if (kernels) {
        ({ offsets, norms: rowNorms, dots: rowDots } = kernels.offsets(names.map((n) => tentative[n]), names.map((n) => ctx.anchor[n]), rows, grads, prevs, 1));
      } else {
        offsets = names.map((name) => tf.sub(tentative[name], ctx.anchor[name]));
        rowNorms = tf.concat([...offsets.map((c, i) => rowSums(tf.abs(c), L, i)), pad]);
        rowDots = grads && prevs ? tf.concat([...grads.map((g, i) => rowSums(tf.mul(g, prevs[i]), L, i)), pad]) : undefined;
      }
      // Every row's L1 norm (+1e-8, the reference's guard), and a padding row that joins no tensor: [rows + 1].
      const norms = tf.add(rowNorms, 1e-8);
      const scale = tf.reciprocal(norms);
      const perTensor = tf.gather(norms, tensorRows); // [parts, most rows], padded with the padding row
      const ceiling = tf.max(perTensor, 1);
      const next: OptimizerState = { 'ftp.prevC': {}, 'ftp.layout': state['ftp.layout'] };
      let gamma: tf.Tensor;
      if (t === 1) {
        // No previous offset yet: the reference starts from the floor.
        gamma = state['ftp.gamma'][STACKED];
        nestState(next, 'ftp.adam', innerState(state, 'ftp.adam'));
      } else {
        // d(loss)/d(γ) of each tensor: Σ over its rows of (Σ g ⊙ c_prev) / ‖c_prev‖₁, from this step's raw gradient.
        let grad: tf.Tensor = tf.sum(tf.gather(tf.mul(rowDots!, state['ftp.prevScale'][STACKED]), tensorRows), 1);
        if (k !== 1) grad = tf.where(tf.greater(grad, 0), tf.mul(grad, k), grad);
        const r = adam.update({ [STACKED]: grad }, innerState(state, 'ftp.adam'), { ...ctx, step: t });
        nestState(next, 'ftp.adam', r.state);
        gamma = tf.minimum(tf.maximum(tf.sub(state['ftp.gamma'][STACKED], tf.mul(r.updates[STACKED], GAMMA.lr)), GAMMA.floor), ceiling);
      }
      // Each row's clip factor min(γ/‖c‖₁, 1) (the padding row's too, which no tensor reads).
      const factors = tf.clipByValue(tf.mul(tf.gather(gamma, rowTensor), scale), 0, 1);
      const out: NamedTensors = {};
      if (kernels) {
        const projected = kernels.scaleAdd(names.map((n) => ctx.anchor[n]), offsets, factors, rows);
        names.forEach((name, i) => (out[name] = projected[i]));
      } else {
        const byTensor = tf.split(factors, [...L.rows, 1]);
        names.forEach((name, i) => {
          const f = L.broadcast[i] ? tf.reshape(byTensor[i], L.broadcast[i]!) : byTensor[i];
          out[name] = tf.add(ctx.anchor[name], tf.mul(offsets[i], f));
        });
      }
      names.forEach((name, i) => (next['ftp.prevC'][name] = offsets[i]));
      next['ftp.gamma'] = { [STACKED]: gamma };
      next['ftp.prevScale'] = { [STACKED]: scale };
      return { params: out, state: next };
    },
  };
}

/** γ per tensor, or per tensor and run ([runs]) when runs are stacked (logging points only). */
export function stackedConstraints(stacked: tf.Tensor | undefined, names: readonly string[], runs?: number): NamedTensors {
  if (!stacked) return {};
  const values = runs === undefined ? tf.unstack(stacked) : tf.split(stacked, names.length);
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
      constraints: (state, _rule, _phase, runs) => stackedConstraints(state['ftp.gamma']?.[STACKED], order, runs),
    };
  },
});
