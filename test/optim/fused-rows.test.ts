// anchorage's fused row kernels (native TensorFlow only): the same rows,
// sums and projection as the tfjs op path, for every layout the projection
// optimizers meet — and FTP and PGD through them equal to the same through
// ops, alone and with runs stacked.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/tensor/backend.js';
import { rowKernels, rowKernelsStatus } from '../../src/tensor/native-kernels.js';
import { rowLayout, rowSums } from '../../src/optim/rows.js';
import { ftpProjection } from '../../plugins/optimizers/ftp.js';
import { pgdProjection } from '../../plugins/optimizers/pgd.js';
import type { NamedTensors, OptimizerState, StepContext } from '../../src/contracts/optimizer.js';
import { tf } from '../../src/tensor/tf.js';

let native = false;
beforeAll(async () => {
  native = (await selectBackend('auto')).name === 'tensorflow';
});

/** Largest |a − b| relative to the largest |b| (1 when b is all zeros). */
function gap(a: tf.Tensor, b: tf.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / Math.max(1, tf.max(tf.abs(b)).dataSync()[0]));
}

// name → [shape, row axis, stacked]
const LAYOUTS: Record<string, [number[], number, boolean]> = {
  'dense [in, out], rows on axis 1': [[37, 11], 1, false],
  'dense [out, in], rows on axis 0 (strided rows)': [[11, 37], 0, false],
  'conv [kh, kw, in, out]': [[3, 3, 4, 6], 3, false],
  'conv rows on a middle axis': [[3, 5, 4, 2], 1, false],
  bias: [[13], 0, false],
  scalar: [[], 0, false],
  'dense stacked over 3 runs': [[3, 37, 11], 2, true],
  'conv stacked over 3 runs': [[3, 3, 3, 4, 6], 4, true],
  'bias stacked over 3 runs': [[3, 13], 1, true],
};

describe.skipIf(process.env.ANCHORAGE_BACKEND && process.env.ANCHORAGE_BACKEND !== 'tensorflow')('fused row kernels (native TensorFlow)', () => {
  it('are loaded on the native backend (built by `anchorage setup native`)', () => {
    if (!native) return expect(rowKernels()).toBeUndefined();
    expect(rowKernelsStatus()).toMatchObject({ loaded: true });
    expect(rowKernels()).toBeDefined();
  });

  it('every layout, one call for all tensors: offsets, row L1 norms, row dot products and the row-scaled add equal the op path', () => {
    const kernels = rowKernels();
    if (!native) return expect(kernels).toBeUndefined();
    const cases = Object.values(LAYOUTS);
    for (const stacked of [false, true]) {
      // Kernels take tensors that are all stacked or none.
      const group = cases.filter((c) => c[2] === stacked);
      const names = group.map((_, i) => `t${i}`);
      const shapes = Object.fromEntries(group.map(([shape], i) => [names[i], shape]));
      const axes = group.map(([, axis]) => axis);
      const L = rowLayout(shapes, Object.fromEntries(names.map((n, i) => [n, axes[i]])), stacked ? group[0][0][0] : 0);
      const [p, a, g, c] = [1, 2, 3, 4].map((seed) => group.map(([shape], i) => tf.randomNormal(shape, 0, 1, 'float32', seed * 100 + i)));
      const rows = { axes, stacked };
      const fused = kernels!.offsets(p, a, rows, g, c, 2);
      const offsets = p.map((x, i) => tf.sub(x, a[i]));
      const zeros = tf.zeros([2]);
      offsets.forEach((o, i) => expect(gap(fused.offsets[i], o), `${group[i]}`).toBe(0));
      expect(gap(fused.norms, tf.concat([...offsets.map((o, i) => rowSums(tf.abs(o), L, i)), zeros]))).toBeLessThan(1e-6);
      expect(gap(fused.dots!, tf.concat([...g.map((x, i) => rowSums(tf.mul(x, c[i]), L, i)), zeros]))).toBeLessThan(1e-6);
      const total = L.rows.reduce((s, r) => s + r, 0);
      expect(fused.norms.shape).toEqual([total + 2]);
      const factors = tf.linspace(-1, 2, total + 2);
      const byTensor = tf.split(factors, [...L.rows, 2]);
      const projected = kernels!.scaleAdd(a, fused.offsets, factors, rows);
      projected.forEach((y, i) => {
        const f = L.broadcast[i] ? tf.reshape(byTensor[i], L.broadcast[i]!) : byTensor[i];
        expect(gap(y, tf.add(a[i], tf.mul(offsets[i], f))), `${group[i]}`).toBeLessThan(1e-6);
      });
      // Without a gradient: no dot products, and no output left behind for them.
      const before = tf.memory().numTensors;
      const noGrad = kernels!.offsets(p, a, rows);
      expect(noGrad.dots).toBeUndefined();
      expect(tf.memory().numTensors - before).toBe(group.length + 1);
    }
  });

  for (const [title, [shape, axis, stacked]] of Object.entries(LAYOUTS)) {
    it(`${title}, alone: the same rows as rowSums and the same projection`, () => {
      const kernels = rowKernels();
      if (!native) return expect(kernels).toBeUndefined();
      const [p, a] = [1, 2].map((seed) => tf.randomNormal(shape, 0, 1, 'float32', seed));
      const L = rowLayout({ x: shape }, { x: axis }, stacked ? shape[0] : 0);
      const { offsets, norms } = kernels!.offsets([p], [a], { axes: [axis], stacked });
      expect(gap(norms, rowSums(tf.abs(tf.sub(p, a)), L, 0))).toBeLessThan(1e-6);
      const factors = tf.linspace(0, 1, L.rows[0]);
      const f = L.broadcast[0] ? tf.reshape(factors, L.broadcast[0]!) : factors;
      expect(gap(kernels!.scaleAdd([a], offsets, factors, { axes: [axis], stacked })[0], tf.add(a, tf.mul(offsets[0], f)))).toBeLessThan(1e-6);
    });
  }

  it('reject a row axis out of range, row axes that do not match the tensors, and too few row factors', () => {
    const kernels = rowKernels();
    if (!native) return expect(kernels).toBeUndefined();
    const x = tf.ones([4, 5]);
    expect(() => kernels!.offsets([x], [x], { axes: [2], stacked: false })).toThrow(/row_axis 2 out of range/);
    expect(() => kernels!.offsets([x, x], [x, x], { axes: [1], stacked: false })).toThrow(/row_axes has 1 entries for 2 tensors/);
    expect(() => kernels!.scaleAdd([x], [x], tf.ones([4]), { axes: [1], stacked: false })).toThrow(/expected 5 row factors, got 4/);
  });

  const PROJECTIONS = {
    ftp: (fused?: 'ops') => ftpProjection(0.5, fused),
    'pgd (relative radii)': (fused?: 'ops') => pgdProjection(() => 0.05, 'relative', fused),
  };
  for (const [method, make] of Object.entries(PROJECTIONS)) {
    for (const runs of [0, 3]) {
      it(`${method} through the kernels equals ${method} through ops over 30 steps${runs ? `, ${runs} runs stacked` : ''} (params and state within 1e-5)`, () => {
        if (!native) return expect(rowKernels()).toBeUndefined();
        const lead = runs ? [runs] : [];
        const shapes: Record<string, number[]> = { w1: [...lead, 20, 16], b1: [...lead, 16], w2: [...lead, 16, 4] };
        const rowAxis = runs ? { w1: 2, w2: 2, b1: 1 } : { w1: 1, w2: 1, b1: 0 };
        const anchor: NamedTensors = Object.fromEntries(Object.entries(shapes).map(([n, s], i) => [n, tf.randomNormal(s, 0, 1, 'float32', 10 + i)]));
        const paths = { fused: make(), ops: make('ops') };
        const params = { fused: anchor, ops: anchor };
        const state: Record<'fused' | 'ops', OptimizerState> = { fused: paths.fused.init(anchor, rowAxis, runs || undefined), ops: paths.ops.init(anchor, rowAxis, runs || undefined) };
        let clipped = 0;
        for (let step = 1; step <= 30; step++) {
          // A drift away from the anchor plus noise, so that rows get clipped and FTP's γ moves both ways.
          const grads: NamedTensors = Object.fromEntries(Object.entries(shapes).map(([n, s], i) => [n, tf.randomNormal(s, 0.05, 0.3, 'float32', step * 7 + i)]));
          for (const path of ['fused', 'ops'] as const) {
            const ctx: StepContext = { step, taskStep: step, taskSteps: 30, anchorStep: step, params: params[path], rawGrads: grads, anchor, rowAxis, ...(runs ? { runs } : {}) };
            const tentative = Object.fromEntries(Object.entries(params[path]).map(([n, w]) => [n, tf.sub(w, tf.mul(grads[n], 0.1))]));
            const r = paths[path].project(tentative, state[path], ctx);
            if (path === 'fused') clipped += gap(r.params.w1, tentative.w1) > 1e-4 ? 1 : 0;
            params[path] = r.params;
            state[path] = r.state;
          }
          for (const n of Object.keys(shapes)) expect(gap(params.fused[n], params.ops[n]), `step ${step}, ${n}`).toBeLessThan(1e-5);
          for (const [key, slots] of Object.entries(state.ops)) {
            for (const [slot, value] of Object.entries(slots)) expect(gap(state.fused[key][slot], value), `step ${step}, ${key}/${slot}`).toBeLessThan(1e-5);
          }
        }
        // The projection did project (the comparison covered clipped rows), and FTP's γ learned something.
        expect(clipped).toBeGreaterThan(10);
        if (method === 'ftp') expect(tf.max(state.fused['ftp.gamma']['*']).dataSync()[0]).toBeGreaterThan(1e-3);
      });
    }
  }
});
