// FTP's step on native TensorFlow as two fused kernels (src/native/): the
// first forms each tentative tensor w̃ = w + u and its offset c = w̃ − w0 in
// one pass, with every row's 1/‖c‖₁, each tensor's largest row norm and its
// γ gradient; the second steps γ (annealing, Adam with the reference's
// arithmetic, the clip) and writes w0 + clip(γ/‖c‖₁, 0, 1)·c. The state is
// the reference's (ftp.ts) and so are the results; where the kernels are not
// loaded (wasm, cpu, ANCHORAGE_FUSED_KERNELS=0) the reference runs.
import { adamCoefficients, innerState, nestState, rowAxisOf, rowKernels, tf } from '../../src/plugin-api.js';
import type { NamedTensors, OptimizerState, Projection } from '../../src/contracts/optimizer.js';

/** FTP's constants, from ftp.ts: γ's optimiser settings, and the state key of its per-tensor vectors. */
export interface FtpConstants {
  readonly gamma: { lr: number; beta1: number; beta2: number; eps: number; floor: number };
  readonly key: string;
}

/** Projection.projectStep for FTP: the fused kernels where loaded, else the reference's projection of w + u. */
export function ftpNativeStep(
  k: number,
  reference: Projection,
  c: FtpConstants,
): NonNullable<Projection['projectStep']> {
  return (updates, state, ctx) => {
    const names = Object.keys(updates);
    const kernels = names.length ? rowKernels() : undefined;
    if (!kernels) {
      const tentative: NamedTensors = {};
      for (const name of names) tentative[name] = tf.add(ctx.params[name], updates[name]);
      return reference.project(tentative, state, ctx);
    }
    const t = ctx.anchorStep;
    const rows = { axes: names.map((name) => rowAxisOf(ctx.rowAxis, name)) };
    const anchors = names.map((n) => ctx.anchor[n]);
    const prevScale = state['ftp.prevScale'][c.key];
    const r = kernels.offsets(
      names.map((n) => ctx.params[n]),
      anchors,
      rows,
      {
        pad: 1,
        updates: names.map((n) => updates[n]),
        ...(t > 1 && {
          grads: names.map((n) => ctx.rawGrads[n]),
          prevs: names.map((n) => state['ftp.prevC'][n]),
          rowWeights: prevScale,
        }),
      },
    );
    const next: OptimizerState = { 'ftp.layout': state['ftp.layout'], 'ftp.prevScale': { [c.key]: r.scale } };
    next['ftp.prevC'] = Object.fromEntries(names.map((name, i) => [name, r.offsets[i]]));
    let gamma: tf.Tensor;
    let projected: tf.Tensor[];
    if (t === 1) {
      // No previous offset yet: γ stays at the floor.
      gamma = state['ftp.gamma'][c.key];
      nestState(next, 'ftp.adam', innerState(state, 'ftp.adam'));
      projected = kernels.scaleAdd(anchors, r.offsets, r.scale, rows, gamma);
    } else {
      // γ's Adam step inside the kernel: scaleByAdam's coefficients and arithmetic (the reference's bits).
      const moments = innerState(state, 'ftp.adam');
      const s = kernels.stepScaleAdd(anchors, r.offsets, r.scale, rows, {
        values: state['ftp.gamma'][c.key],
        grad: r.partDots!,
        ceiling: r.partMax,
        m: moments['adam.m'][c.key],
        v: moments['adam.v'][c.key],
        coefficients: tf.tensor1d([...adamCoefficients(c.gamma, t), c.gamma.lr, c.gamma.floor, k]),
      });
      nestState(next, 'ftp.adam', { 'adam.m': { [c.key]: s.m }, 'adam.v': { [c.key]: s.v } });
      gamma = s.values;
      projected = s.out;
    }
    next['ftp.gamma'] = { [c.key]: gamma };
    return { params: Object.fromEntries(names.map((name, i) => [name, projected[i]])), state: next };
  };
}
