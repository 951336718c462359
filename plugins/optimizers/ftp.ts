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
import type { NamedTensors, OptimizerState, Projection, StepContext } from '../../src/contracts/optimizer.js';
import { rowAxisOf, rowLayout, rowSums, type RowLayout } from '../../src/optim/rows.js';
import { adamCoefficients, innerState, nestState, scaleByAdam } from '../../src/optim/transforms.js';
import { inSet, maskedProjection } from '../../src/optim/masking.js';
import { fusedInput, inputNames, tentativeOf, type ProjectionInput } from '../../src/optim/projection-input.js';
import { rowKernels, type PartStep, type PartStepResult, type RowKernels } from '../../src/tensor/native-kernels.js';
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
 * tensors, sets FTP's overhead (bench/op-count.ts); there, too, the passes
 * over the large matrices run as two fused kernels instead of eight ops, the
 * first of which also forms w + u and reduces the rows to per-tensor values,
 * the second of which also steps γ — Adam with the coefficients and the float
 * arithmetic of scaleByAdam, then the clamp (src/tensor/native/row_kernels.cc)
 * — so that no small op is left. `fused: 'ops'` keeps the op path on every
 * backend (tests and the bench compare the two).
 */
export function ftpProjection(k: number, fused: (() => RowKernels | undefined) | 'ops' = rowKernels): Projection {
  const adam = scaleByAdam(GAMMA);
  // Host-side only: the layout of the rows, recomputed when the tensors change.
  let layout: { key: string; value: RowLayout } | undefined;
  const layoutOf = (xs: NamedTensors, rowAxis: Readonly<Record<string, number>>, runs = 0, names = Object.keys(xs)) => {
    const key = `${runs}|${names.map((n) => `${n}:${xs[n].shape.join('x')}@${rowAxisOf(rowAxis, n, runs > 0)}`).join(',')}`;
    if (layout?.key !== key) layout = { key, value: rowLayout(Object.fromEntries(names.map((n) => [n, xs[n].shape])), rowAxis, runs) };
    return layout.value;
  };
  const projection: Projection = {
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
    project: (tentative, state, ctx) => step({ tentative }, state, ctx),
    projectStep: (updates, state, ctx) => step({ updates }, state, ctx),
  };
  return projection;

  /** One projection from the tentative weights, or from ctx.params and the base rule's updates. */
  function step(from: ProjectionInput, state: OptimizerState, ctx: StepContext): { params: NamedTensors; state: OptimizerState } {
    const names = inputNames(from);
    if (names.length === 0) return { params: {}, state };
    const t = ctx.anchorStep;
    const kernels = fused === 'ops' ? undefined : fused();
    const next: OptimizerState = { 'ftp.prevC': {}, 'ftp.layout': state['ftp.layout'] };
    const prevScale = state['ftp.prevScale'][STACKED];
    let offsets: tf.Tensor[];
    let scale: tf.Tensor;
    let ceiling: tf.Tensor | undefined;
    let gammaGrad: tf.Tensor | undefined;
    // Joint per-part factors from γ (the kernel path), or per-row ones (the op path).
    let project: (gamma: tf.Tensor) => tf.Tensor[];
    // The kernel path: γ's step (below) and the projection in one kernel.
    let stepAndProject: ((step: Omit<PartStep, 'values' | 'ceiling' | 'grad'>) => PartStepResult) | undefined;
    if (kernels) {
      // Native TensorFlow: one pass writes each offset w̃ − w0 (forming w̃ = w + u in the same pass) and the rows'
      // scales, each tensor's largest row norm and its γ gradient; another steps γ and writes
      // w0 + clip(γ/‖c‖₁, 0, 1) · c.
      const stacked = (ctx.runs ?? 0) > 0;
      const rows = { axes: names.map((name) => rowAxisOf(ctx.rowAxis, name, stacked)), stacked };
      const anchors = names.map((n) => ctx.anchor[n]);
      const { base, updates } = fusedInput(from, names, ctx);
      const r = kernels.offsets(base, anchors, rows, {
        pad: 1,
        ...(updates && { updates }),
        ...(t > 1 && { grads: names.map((n) => ctx.rawGrads[n]), prevs: names.map((n) => state['ftp.prevC'][n]), rowWeights: prevScale }),
      });
      ({ offsets, scale, partMax: ceiling, partDots: gammaGrad } = r);
      project = (gamma) => kernels.scaleAdd(anchors, offsets, scale, rows, gamma);
      stepAndProject = (step) => kernels.stepScaleAdd(anchors, offsets, scale, rows, { ...step, values: state['ftp.gamma'][STACKED], grad: gammaGrad!, ceiling: ceiling! });
    } else {
      const L = layoutOf(ctx.params, ctx.rowAxis, ctx.runs, names);
      const { rowTensor, tensorRows, pad } = state['ftp.layout'];
      offsets = names.map((name) => tf.sub(tentativeOf(from, name, ctx), ctx.anchor[name]));
      // Every row's L1 norm (+1e-8, the reference's guard), and a padding row that joins no tensor: [rows + 1].
      const norms = tf.add(tf.concat([...offsets.map((c, i) => rowSums(tf.abs(c), L, i)), pad]), 1e-8);
      scale = tf.reciprocal(norms);
      if (t > 1) {
        const prevs = names.map((name) => state['ftp.prevC'][name]);
        const rowDots = tf.concat([...names.map((name, i) => rowSums(tf.mul(ctx.rawGrads[name], prevs[i]), L, i)), pad]);
        // [parts, most rows], padded with the padding row: each part's largest norm, and Σ over its rows.
        ceiling = tf.max(tf.gather(norms, tensorRows), 1);
        gammaGrad = tf.sum(tf.gather(tf.mul(rowDots, prevScale), tensorRows), 1);
      }
      project = (gamma) => {
        // Each row's clip factor min(γ/‖c‖₁, 1) (the padding row's too, which no tensor reads).
        const byTensor = tf.split(tf.clipByValue(tf.mul(tf.gather(gamma, rowTensor), scale), 0, 1), [...L.rows, 1]);
        return names.map((name, i) => tf.add(ctx.anchor[name], tf.mul(offsets[i], L.broadcast[i] ? tf.reshape(byTensor[i], L.broadcast[i]!) : byTensor[i])));
      };
    }
    let gamma: tf.Tensor;
    let projected: tf.Tensor[];
    if (t === 1) {
      // No previous offset yet: the reference starts from the floor.
      gamma = state['ftp.gamma'][STACKED];
      nestState(next, 'ftp.adam', innerState(state, 'ftp.adam'));
      projected = project(gamma);
    } else if (stepAndProject) {
      // γ's Adam step in the kernel: the base Adam transform's coefficients and arithmetic (the same bits as below).
      const moments = innerState(state, 'ftp.adam');
      const r = stepAndProject({ m: moments['adam.m'][STACKED], v: moments['adam.v'][STACKED], coefficients: tf.tensor1d([...adamCoefficients(GAMMA, t), GAMMA.lr, GAMMA.floor, k]) });
      nestState(next, 'ftp.adam', { 'adam.m': { [STACKED]: r.m }, 'adam.v': { [STACKED]: r.v } });
      gamma = r.values;
      projected = r.out;
    } else {
      // d(loss)/d(γ) of each tensor: Σ over its rows of (Σ g ⊙ c_prev) / ‖c_prev‖₁, from this step's raw gradient.
      let grad = gammaGrad!;
      if (k !== 1) grad = tf.where(tf.greater(grad, 0), tf.mul(grad, k), grad);
      const r = adam.update({ [STACKED]: grad }, innerState(state, 'ftp.adam'), { ...ctx, step: t });
      nestState(next, 'ftp.adam', r.state);
      gamma = tf.minimum(tf.maximum(tf.sub(state['ftp.gamma'][STACKED], tf.mul(r.updates[STACKED], GAMMA.lr)), GAMMA.floor), ceiling!);
      projected = project(gamma);
    }
    const out: NamedTensors = {};
    names.forEach((name, i) => {
      out[name] = projected[i];
      next['ftp.prevC'][name] = offsets[i];
    });
    next['ftp.gamma'] = { [STACKED]: gamma };
    next['ftp.prevScale'] = { [STACKED]: scale };
    return { params: out, state: next };
  }
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
