// anchorage's fused kernels (native TensorFlow only): the same rows, sums,
// projections and Adam steps as the tfjs op path, for every layout the
// projection optimizers meet. On another backend, or where the kernels are
// not built, every test here is skipped with the reason.
import { beforeEach, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/tensor/backend.js';
import {
  addonProblem,
  fusedAdam,
  fusedAdd,
  fusedScale,
  rowKernels,
  rowKernelsStatus,
} from '../../src/native/kernels.js';
import { adamCoefficients, scaleByAdam } from '../../src/optim/transforms.js';
import { rowLayout, rowSums } from '../../src/optim/rows.js';
import type { NamedTensors, StepContext } from '../../src/contracts/optimizer.js';
import { tf } from '../../src/tensor/tf.js';
import { nativeKernelsMissing } from '../helpers.js';
import { KERNELS_ABI } from '../../src/native/cache.js';

const backend = await selectBackend((process.env.ANCHORAGE_BACKEND as 'auto' | undefined) ?? 'auto');
const missing = nativeKernelsMissing(backend.name);

/** Largest |a − b| relative to the largest |b| (1 when b is all zeros). */
function gap(a: tf.Tensor, b: tf.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / Math.max(1, tf.max(tf.abs(b)).dataSync()[0]));
}

// name → [shape, row axis]
const LAYOUTS: Record<string, [number[], number]> = {
  'dense [in, out], rows on axis 1': [[37, 11], 1],
  'dense [out, in], rows on axis 0 (strided rows)': [[11, 37], 0],
  'conv [kh, kw, in, out]': [[3, 3, 4, 6], 3],
  'conv rows on a middle axis': [[3, 5, 4, 2], 1],
  bias: [[13], 0],
  scalar: [[], 0],
};

describe('fused kernels (native TensorFlow)', () => {
  beforeEach((ctx) => {
    if (missing) ctx.skip(missing);
  });

  it('are loaded on the native backend (built by `anchorage setup native`)', () => {
    expect(rowKernelsStatus()).toMatchObject({ loaded: true });
    expect(rowKernels()).toBeDefined();
    expect(fusedAdam()).toBeDefined();
  });

  it(
    'every layout, one call for all tensors: offsets, row L1 norms, row dot products and the row-scaled add equal ' +
      'the op path',
    () => {
      const kernels = rowKernels();
      {
        const group = Object.values(LAYOUTS);
        const names = group.map((_, i) => `t${i}`);
        const shapes = Object.fromEntries(group.map(([shape], i) => [names[i], shape]));
        const axes = group.map(([, axis]) => axis);
        const L = rowLayout(shapes, Object.fromEntries(names.map((n, i) => [n, axes[i]])));
        const [p, a, g, c] = [1, 2, 3, 4].map((seed) =>
          group.map(([shape], i) => tf.randomNormal(shape, 0, 1, 'float32', seed * 100 + i)),
        );
        const rows = { axes };
        const total = L.rows.reduce((s, r) => s + r, 0);
        const weights = tf.linspace(0.5, 2, total + 2);
        const fused = kernels!.offsets(p, a, rows, { grads: g, prevs: c, rowWeights: weights, pad: 2 });
        const offsets = p.map((x, i) => tf.sub(x, a[i]));
        const zeros = tf.zeros([2]);
        offsets.forEach((o, i) => expect(gap(fused.offsets[i], o), `${group[i]}`).toBe(0));
        const norms = tf.concat([...offsets.map((o, i) => rowSums(tf.abs(o), L, i)), zeros]);
        const dots = tf.concat([...g.map((x, i) => rowSums(tf.mul(x, c[i]), L, i)), zeros]);
        expect(gap(fused.norms, norms)).toBeLessThan(1e-6);
        expect(gap(fused.dots!, dots)).toBeLessThan(1e-6);
        expect(fused.norms.shape).toEqual([total + 2]);
        // The per-row scales and the per-tensor summaries, as FTP's op path forms them.
        const guarded = tf.add(fused.norms, 1e-8);
        // TensorFlow's reciprocal is not correctly rounded (it may differ from 1 / x by an ulp): element by element.
        const want = tf.reciprocal(guarded);
        expect(tf.max(tf.div(tf.abs(tf.sub(fused.scale, want)), want)).dataSync()[0]).toBeLessThan(1e-6);
        const partRows = tf.tensor2d(L.tensorRows, [L.partRows.length, L.mostRows], 'int32');
        expect(gap(fused.partMax, tf.max(tf.gather(guarded, partRows), 1))).toBe(0);
        const weighted = tf.mul(fused.dots!, weights);
        // tensorRows pads a part with its own first row: count that row once.
        const partSums = L.partRows.map((r, q) => tf.sum(tf.slice(weighted, L.tensorRows[q * L.mostRows], r)));
        expect(gap(fused.partDots!, tf.stack(partSums))).toBeLessThan(1e-6);
        expect(fused.partMax.shape).toEqual([L.partRows.length]);
        const factors = tf.linspace(-1, 2, total + 2);
        const byTensor = tf.split(factors, [...L.rows, 2]);
        const projected = kernels!.scaleAdd(a, fused.offsets, factors, rows);
        projected.forEach((y, i) => {
          const f = L.broadcast[i] ? tf.reshape(byTensor[i], L.broadcast[i]) : byTensor[i];
          expect(gap(y, tf.add(a[i], tf.mul(offsets[i], f))), `${group[i]}`).toBeLessThan(1e-6);
        });
        // Per-part values: each row's factor is clamp(value[its part] · factors[row], 0, 1).
        const values = tf.linspace(0.1, 3, L.partRows.length);
        const rowPart = tf.tensor1d(Int32Array.from([...L.rowTensor, 0, 0]), 'int32');
        const clamped = tf.split(tf.clipByValue(tf.mul(tf.gather(values, rowPart), factors), 0, 1), [...L.rows, 2]);
        kernels!.scaleAdd(a, fused.offsets, factors, rows, values).forEach((y, i) => {
          const f = L.broadcast[i] ? tf.reshape(clamped[i], L.broadcast[i]) : clamped[i];
          expect(gap(y, tf.add(a[i], tf.mul(offsets[i], f))), `${group[i]} by part`).toBeLessThan(1e-6);
        });
        // The add fused in: p + u formed in the pass, the same float sum as tf.add.
        const withUpdate = kernels!.offsets(p, a, rows, { updates: g, pad: 2 });
        withUpdate.offsets.forEach((o, i) =>
          expect(gap(o, tf.sub(tf.add(p[i], g[i]), a[i])), `${group[i]} with update`).toBe(0),
        );
        // Without a gradient: no dot products, and no output left behind for them.
        const before = tf.memory().numTensors;
        const noGrad = kernels!.offsets(p, a, rows);
        expect(noGrad.dots).toBeUndefined();
        expect(noGrad.partDots).toBeUndefined();
        // The offsets, norms, scales and part maxima.
        expect(tf.memory().numTensors - before).toBe(group.length + 3);
      }
    },
  );

  for (const [title, [shape, axis]] of Object.entries(LAYOUTS)) {
    it(`${title}, alone: the same rows as rowSums and the same projection`, () => {
      const kernels = rowKernels();
      const [p, a] = [1, 2].map((seed) => tf.randomNormal(shape, 0, 1, 'float32', seed));
      const L = rowLayout({ x: shape }, { x: axis });
      const { offsets, norms } = kernels!.offsets([p], [a], { axes: [axis] });
      expect(gap(norms, rowSums(tf.abs(tf.sub(p, a)), L, 0))).toBeLessThan(1e-6);
      const factors = tf.linspace(0, 1, L.rows[0]);
      const f = L.broadcast[0] ? tf.reshape(factors, L.broadcast[0]) : factors;
      expect(
        gap(kernels!.scaleAdd([a], offsets, factors, { axes: [axis] })[0], tf.add(a, tf.mul(offsets[0], f))),
      ).toBeLessThan(1e-6);
    });
  }

  it(
    'a call of over 4M elements (split among the intra-op threads) gives the same offsets, rows and projection as ' +
      'the op path',
    () => {
      const kernels = rowKernels();
      // Rows innermost (cut by lines) and rows of contiguous elements (cut by rows), 4.5M elements in all.
      const shapes = [
        [1500, 2000],
        [900, 1700],
      ];
      const axes = [1, 0];
      const L = rowLayout({ a: shapes[0], b: shapes[1] }, { a: 1, b: 0 });
      const [p, a, g, c, u] = [1, 2, 3, 4, 5].map((seed) =>
        shapes.map((shape, i) => tf.randomNormal(shape, 0, 1, 'float32', seed * 10 + i)),
      );
      const total = L.rows[0] + L.rows[1];
      const weights = tf.linspace(0.5, 2, total);
      const rows = { axes };
      const fused = kernels!.offsets(p, a, rows, { grads: g, prevs: c, rowWeights: weights, updates: u });
      const offsets = p.map((x, i) => tf.sub(tf.add(x, u[i]), a[i]));
      offsets.forEach((o, i) => expect(gap(fused.offsets[i], o)).toBe(0));
      expect(gap(fused.norms, tf.concat(offsets.map((o, i) => rowSums(tf.abs(o), L, i))))).toBeLessThan(1e-6);
      expect(gap(fused.dots!, tf.concat(g.map((x, i) => rowSums(tf.mul(x, c[i]), L, i))))).toBeLessThan(1e-6);
      const factors = tf.linspace(0, 1, total);
      const byTensor = tf.split(factors, L.rows as number[]);
      kernels!.scaleAdd(a, fused.offsets, factors, rows).forEach((y, i) => {
        const f = L.broadcast[i] ? tf.reshape(byTensor[i], L.broadcast[i]) : byTensor[i];
        expect(gap(y, tf.add(a[i], tf.mul(offsets[i], f)))).toBeLessThan(1e-6);
      });
    },
  );

  it(
    'reject a row axis out of range, row axes that do not match the tensors, too few row factors or weights, ' +
      'wrong part values and misshapen updates',
    () => {
      const kernels = rowKernels();
      const x = tf.ones([4, 5]);
      expect(() => kernels!.offsets([x], [x], { axes: [2] })).toThrow(/row_axis 2 out of range/);
      expect(() => kernels!.offsets([x, x], [x, x], { axes: [1] })).toThrow(/row_axes has 1 entries for 2 tensors/);
      expect(() => kernels!.scaleAdd([x], [x], tf.ones([4]), { axes: [1] })).toThrow(/expected 5 row factors, got 4/);
      expect(() => kernels!.scaleAdd([x], [x], tf.ones([5]), { axes: [1] }, tf.ones([2]))).toThrow(
        /expected 1 part values, got 2/,
      );
      expect(() =>
        kernels!.offsets([x], [x], { axes: [1] }, { grads: [x], prevs: [x], rowWeights: tf.ones([3]) }),
      ).toThrow(/expected 5 row weights, got 3/);
      expect(() => kernels!.offsets([x], [x], { axes: [1] }, { updates: [tf.ones([5, 4])] })).toThrow(
        /update 0 differs in shape/,
      );
    },
  );

  it(
    'Adam through the fused kernel gives the same bits as ' + 'scaleByAdam through ops over 20 steps, for every layout',
    () => {
      const shapes: Record<string, number[]> = Object.fromEntries(
        Object.entries(LAYOUTS).map(([title, [shape]]) => [title, shape]),
      );
      // Large enough to take the parallel path too (over 4M elements).
      shapes.large = [2100, 2000];
      const params: NamedTensors = Object.fromEntries(
        Object.entries(shapes).map(([n, s], i) => [n, tf.randomNormal(s, 0, 1, 'float32', i)]),
      );
      const opts = { beta1: 0.9, beta2: 0.999, eps: 1e-8 };
      const paths = { fused: scaleByAdam(opts), ops: scaleByAdam(opts, 'ops') };
      const state = { fused: paths.fused.init(params), ops: paths.ops.init(params) };
      for (let step = 1; step <= 20; step++) {
        tf.tidy(() => {
          const grads: NamedTensors = Object.fromEntries(
            Object.entries(shapes).map(([n, s], i) => [
              n,
              tf.randomNormal(s, 0, step % 3 === 0 ? 1e-3 : 1, 'float32', 100 * step + i),
            ]),
          );
          const ctx: StepContext = {
            step,
            taskStep: step,
            taskSteps: 20,
            anchorStep: step,
            params,
            rawGrads: grads,
            anchor: {},
            rowAxis: {},
          };
          const r = {
            fused: paths.fused.update(grads, state.fused, ctx),
            ops: paths.ops.update(grads, state.ops, ctx),
          };
          for (const n of Object.keys(shapes)) {
            for (const [what, a, b] of [
              ['update', r.fused.updates[n], r.ops.updates[n]],
              ['m', r.fused.state['adam.m'][n], r.ops.state['adam.m'][n]],
              ['v', r.fused.state['adam.v'][n], r.ops.state['adam.v'][n]],
            ] as const) {
              expect(tf.sum(tf.notEqual(a, b)).dataSync()[0], `step ${step}, ${n}: ${what}`).toBe(0);
            }
          }
          for (const path of ['fused', 'ops'] as const) {
            tf.dispose(Object.values(state[path]).flatMap((x) => Object.values(x)));
            state[path] = r[path].state;
            for (const slot of Object.values(state[path])) for (const t of Object.values(slot)) tf.keep(t);
          }
        });
      }
    },
  );

  it(
    "the step's last stages — every update times −lr, every update added to its parameter — give the same bits as " +
      'a Mul and an Add per tensor, NaN and infinities included',
    () => {
      tf.tidy(() => {
        // Shapes of every layout, one larger than a kernel block (blocks are cut on large tensors).
        const shapes = [...Object.values(LAYOUTS).map(([s]) => s), [300, 257]];
        const [p, u] = [1, 2].map((seed) => shapes.map((s, i) => tf.randomNormal(s, 0, 3, 'float32', seed * 10 + i)));
        u[4] = tf.tensor1d([NaN, Infinity, -Infinity, 0, -0, 1e-38, 3e38, 1, 2, 3, 4, 5, 6]);
        const r = tf.scalar(-0.0137);
        const scaled = fusedScale()!(u, r);
        const applied = fusedAdd()!(p, u);
        const differ = (x: tf.Tensor, y: tf.Tensor) =>
          tf
            .sum(tf.logicalAnd(tf.notEqual(x, y), tf.logicalNot(tf.logicalAnd(tf.isNaN(x), tf.isNaN(y)))))
            .dataSync()[0];
        shapes.forEach((shape, i) => {
          expect(scaled[i].shape, `scale ${i}`).toEqual(shape);
          expect(differ(scaled[i], tf.mul(u[i], r)), `scale ${i}`).toBe(0);
          expect(applied[i].shape, `add ${i}`).toEqual(shape);
          expect(differ(applied[i], tf.add(p[i], u[i])), `add ${i}`).toBe(0);
        });
        expect(tf.isNaN(scaled[4]).dataSync()[0]).toBe(1);
        expect(() => fusedAdd()!([tf.ones([2, 3])], [tf.ones([3, 2])])).toThrow(/differs in shape/);
      });
    },
  );

  it('Adam rejects moments of another shape and a wrong number of coefficients', () => {
    const adam = fusedAdam();
    const x = tf.ones([4, 5]);
    expect(() => adam!([x], [tf.ones([5, 4])], [x], tf.ones([7]))).toThrow(/moments 0 differ in shape/);
    expect(() => adam!([x], [x], [x], tf.ones([6]))).toThrow(/expected 7 coefficients, got 6/);
  });

  it(
    "FTP's constraint step inside the scale-add (Adam, annealing, floor and ceiling) gives the same bits as its " +
      'ops, NaN included',
    () => {
      const kernels = rowKernels();
      // Six tensors: 6 parts.
      const shapes = [[5, 4], [7], [3, 2], [4], [2, 6], [9]];
      const rows = { axes: shapes.map((s) => s.length - 1) };
      const [a, c] = [1, 2].map((seed) => shapes.map((s, i) => tf.randomNormal(s, 0, 1, 'float32', seed * 10 + i)));
      const scale = tf.linspace(0.05, 2, 4 + 1 + 2 + 1 + 6 + 1 + 1);
      const values = tf.tensor1d([1e-8, 0.3, 0.01, 2, 0.5, 0.2]);
      // Positive and negative gradients (k anneals the positive ones); a ceiling that binds and a NaN on each side.
      const grad = tf.tensor1d([0.4, -0.2, 3e-3, -5, NaN, 0.1]);
      const ceiling = tf.tensor1d([5, 0.25, 5, 5, 5, NaN]);
      const m = tf.tensor1d([0.1, -0.3, 0, 1e-4, 0.2, -0.05]);
      const v = tf.tensor1d([0.01, 0.2, 0, 1e-6, 0.3, 0.02]);
      const GAMMA = { beta1: 0.9, beta2: 0.999, eps: 1e-8 };
      const [step, lr, floor, k] = [4, 1e-2, 1e-8, 0.5];
      const fused = kernels!.stepScaleAdd(a, c, scale, rows, {
        values,
        grad,
        ceiling,
        m,
        v,
        coefficients: tf.tensor1d([...adamCoefficients(GAMMA, step), lr, floor, k]),
      });
      // The ops of plugins/optimizers/ftp.ts.
      const annealed = tf.where(tf.greater(grad, 0), tf.mul(grad, k), grad);
      const adam = scaleByAdam(GAMMA, 'ops').update({ g: annealed }, { 'adam.m': { g: m }, 'adam.v': { g: v } }, {
        step,
      } as StepContext);
      const gamma = tf.minimum(tf.maximum(tf.sub(values, tf.mul(adam.updates.g, lr)), floor), ceiling);
      const same = (x: tf.Tensor, y: tf.Tensor) => {
        const [xs, ys] = [x.dataSync(), y.dataSync()];
        return xs.length === ys.length && xs.every((e, i) => Object.is(e, ys[i]));
      };
      const shown = `γ: ${String(fused.values.dataSync())} against ${String(gamma.dataSync())}`;
      expect(same(fused.values, gamma), shown).toBe(true);
      expect(same(fused.m, adam.state['adam.m'].g)).toBe(true);
      expect(same(fused.v, adam.state['adam.v'].g)).toBe(true);
      // The NaNs went through as TensorFlow's ops pass them, and the ceiling bound part 1.
      expect(Array.from(fused.values.dataSync()).map(Number.isNaN)).toEqual([false, false, false, false, true, true]);
      expect(fused.values.dataSync()[1]).toBe(Math.fround(0.25));
      const projected = kernels!.scaleAdd(a, c, scale, rows, gamma);
      fused.out.forEach((y, i) => expect(same(y, projected[i]), `tensor ${i}`).toBe(true));
      // Bad input: a part vector of the wrong length, too few coefficients.
      const six = { values, grad, ceiling, m, v, coefficients: tf.ones([10]) };
      expect(() => kernels!.stepScaleAdd(a, c, scale, rows, { ...six, m: tf.ones([5]) })).toThrow(
        /expected 6 values in part_m, got 5/,
      );
      expect(() => kernels!.stepScaleAdd(a, c, scale, rows, { ...six, coefficients: tf.ones([7]) })).toThrow(
        /expected 10 part coefficients, got 7/,
      );
    },
  );
});

describe('the fused kernels addon check', () => {
  it(
    'takes an addon with every op at this version, and names ' + 'what is wrong with one built from another anchorage',
    () => {
      const ops = [
        'AnchorageRowOffsets',
        'AnchorageRowScaleAdd',
        'AnchorageAdam',
        'AnchorageAnchorPull',
        'AnchorageSpd',
        'AnchorageScale',
        'AnchorageAdd',
        'AnchorageByteRows',
      ];
      expect(addonProblem({ ops, abi: KERNELS_ABI })).toBeUndefined();
      // Built before the step's last stages had kernels.
      expect(addonProblem({ ops: ops.slice(0, 5), abi: KERNELS_ABI })).toMatch(
        /lacks AnchorageScale, AnchorageAdd, AnchorageByteRows \(built from an older anchorage/,
      );
      // Built before the ops had a version: the same names, other inputs.
      expect(addonProblem({ ops })).toMatch(
        new RegExp(
          `ops are version 1, this anchorage calls version ${KERNELS_ABI} .*run \`anchorage setup native\` again`,
        ),
      );
      expect(addonProblem({ ops, abi: 2 })).toMatch(
        new RegExp(`version 2, this anchorage calls version ${KERNELS_ABI}`),
      );
      expect(addonProblem({ ops: ops.slice(0, 2), abi: KERNELS_ABI })).toMatch(
        /lacks AnchorageAdam, AnchorageAnchorPull, AnchorageSpd, AnchorageScale, AnchorageAdd, AnchorageByteRows \(/,
      );
      expect(addonProblem({})).toMatch(new RegExp(`lacks ${ops.join(', ')} \\(built from an older anchorage`));
    },
  );
});
