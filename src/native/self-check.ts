// The fused kernels against TensorFlow's own ops, run by `anchorage setup
// native` on the build it just made (in a process of its own, so that a
// build that cannot run on this CPU fails the check, not the setup): two
// tensors with their rows on different axes, every input and output of
// the seven ops. The tests (test/native/kernels.test.ts) go much further;
// this is the check that a build works where it was built.
import { tf } from '../tensor/tf.js';
import {
  rowKernels,
  fusedAdam,
  fusedAdd,
  fusedAnchorPull,
  fusedScale,
  fusedSpd,
  type AddKernel,
  type ScaleKernel,
} from './kernels.js';

/** Largest |x − y| / (|y| + 1) over all entries. */
function worst(pairs: [tf.Tensor, tf.Tensor][]): number {
  return Math.max(
    ...pairs.map(([x, y]) => tf.tidy(() => tf.max(tf.div(tf.abs(tf.sub(x, y)), tf.add(tf.abs(y), 1))).dataSync()[0])),
  );
}

/** The step's last stages, the update scaled by −lr and then applied, beside their ops. */
function stepStages(scale: ScaleKernel, add: AddKernel, p: tf.Tensor[], u: tf.Tensor[]): [tf.Tensor, tf.Tensor][] {
  const scaled = scale(u, tf.scalar(-0.01));
  const applied = add(p, u);
  return [
    ...scaled.map((y, i): [tf.Tensor, tf.Tensor] => [y, tf.mul(u[i], -0.01)]),
    ...applied.map((y, i): [tf.Tensor, tf.Tensor] => [y, tf.add(p[i], u[i])]),
  ];
}

/** The largest relative difference between the kernels and TensorFlow's ops; throws when the kernels are not loaded. */
export function selfCheck(): number {
  const [kernels, adamKernel, pullKernel, spdKernel] = [rowKernels(), fusedAdam(), fusedAnchorPull(), fusedSpd()];
  const [scaleKernel, addKernel] = [fusedScale(), fusedAdd()];
  if (!kernels || !adamKernel || !pullKernel || !spdKernel || !scaleKernel || !addKernel)
    throw new Error('the fused kernels are not loaded');
  return tf.tidy(() => {
    // A [5, 3] kernel with rows on its last axis and a [4] bias (one row): 3 + 1 rows, then one padding row; 2 parts.
    const shapes = [[5, 3], [4]];
    const rows = { axes: [1, 0] };
    const [p, a, g, c, u] = [1, 2, 3, 4, 5].map((s) =>
      shapes.map((shape, i) => tf.randomNormal(shape, 0, 1, 'float32', 10 * s + i + 1)),
    );
    const w = tf.linspace(1, 2, 5);
    const r = kernels.offsets(p, a, rows, { grads: g, prevs: c, rowWeights: w, updates: u, pad: 1 });
    const off = p.map((x, i) => tf.sub(tf.add(x, u[i]), a[i]));
    const rowsOf = (x: tf.Tensor[]) => tf.concat([tf.sum(x[0], 0), tf.reshape(tf.sum(x[1]), [1]), tf.zeros([1])]);
    const norms = rowsOf(off.map((x) => tf.abs(x)));
    const dots = rowsOf(g.map((x, i) => tf.mul(x, c[i])));
    const byPart = (v: tf.Tensor, reduce: (x: tf.Tensor) => tf.Tensor) =>
      tf.stack([reduce(tf.slice(v, 0, 3)), reduce(tf.slice(v, 3, 1))]);
    const f = tf.linspace(0, 1, 5);
    const parts = tf.tensor1d([0.5, 2]);
    const factor = tf.clipByValue(
      tf.mul(tf.gather(parts, tf.tensor1d([0, 0, 0, 1], 'int32')), tf.slice(f, 0, 4)),
      0,
      1,
    );
    const projected = kernels.scaleAdd(a, r.offsets, f, rows, parts);
    const expected = (fac: tf.Tensor) => [
      tf.add(a[0], tf.mul(off[0], tf.slice(fac, 0, 3))),
      tf.add(a[1], tf.mul(off[1], tf.slice(fac, 3, 1))),
    ];
    // FTP's constraint step in the scale-add: annealing k = 0.5, Adam at step 3, lr 0.01, floor 1e-8.
    const [m0, v0] = [tf.tensor1d([0.1, -0.2]), tf.tensor1d([0.01, 0.02])];
    const bc2 = Math.sqrt(1 - 0.999 ** 3);
    const coefficients = [0.9, 0.1, 0.999, 0.001, 0.271, bc2, 1e-8];
    const step = kernels.stepScaleAdd(a, r.offsets, f, rows, {
      values: parts,
      grad: r.partDots!,
      ceiling: r.partMax,
      m: m0,
      v: v0,
      coefficients: tf.tensor1d([...coefficients, 0.01, 1e-8, 0.5]),
    });
    const gk = tf.where(tf.greater(r.partDots!, 0), tf.mul(r.partDots!, 0.5), r.partDots!);
    const m1 = tf.add(tf.mul(m0, 0.9), tf.mul(gk, 0.1));
    const v1 = tf.add(tf.mul(v0, 0.999), tf.mul(tf.square(gk), 0.001));
    const gamma = tf.minimum(
      tf.maximum(tf.sub(parts, tf.mul(tf.div(tf.div(m1, 0.271), tf.add(tf.div(tf.sqrt(v1), bc2), 1e-8)), 0.01)), 1e-8),
      r.partMax,
    );
    const factor1 = tf.clipByValue(
      tf.mul(tf.gather(gamma, tf.tensor1d([0, 0, 0, 1], 'int32')), tf.slice(f, 0, 4)),
      0,
      1,
    );
    const adam = adamKernel(
      g,
      c,
      c.map((x) => tf.abs(x)),
      tf.tensor1d(coefficients),
    );
    const adamOps = g.map((x, i) => {
      const m = tf.add(tf.mul(c[i], 0.9), tf.mul(x, 0.1));
      const v = tf.add(tf.mul(tf.abs(c[i]), 0.999), tf.mul(tf.square(x), 0.001));
      return { m, v, update: tf.div(tf.div(m, 0.271), tf.add(tf.div(tf.sqrt(v), bc2), 1e-8)) };
    });
    // L2-SP's pull and SPD's projection (λ 0.5; tentative p + u, previous weights c, anchor a, gradient g).
    const pulled = pullKernel(g, p, a, tf.scalar(0.3));
    const tentative = p.map((x, i) => tf.add(x, u[i]));
    const spd = spdKernel(tentative, c, a, g, tf.scalar(0.5));
    const spdOps = tentative.map((t, i) => {
      const [o, prev] = [tf.sub(t, a[i]), tf.sub(c[i], a[i])];
      const norm = (x: tf.Tensor) => tf.sqrt(tf.sum(tf.square(x)));
      const ratio = tf.clipByValue(tf.div(tf.sub(norm(o), norm(prev)), tf.add(norm(o), 1e-12)), 0, 1);
      const selected = tf.cast(tf.greater(tf.sum(tf.mul(g[i], prev)), 0), 'float32');
      return tf.sub(t, tf.mul(tf.mul(tf.mul(ratio, selected), 0.5), o));
    });
    return worst([
      ...stepStages(scaleKernel, addKernel, p, u),
      ...pulled.map((y, i): [tf.Tensor, tf.Tensor] => [y, tf.add(g[i], tf.mul(tf.sub(p[i], a[i]), 0.3))]),
      ...spd.map((y, i): [tf.Tensor, tf.Tensor] => [y, spdOps[i]]),
      ...r.offsets.map((o, i): [tf.Tensor, tf.Tensor] => [o, off[i]]),
      [r.norms, norms],
      [r.dots!, dots],
      [r.scale, tf.div(1, tf.add(norms, 1e-8))],
      [r.partMax, byPart(tf.add(norms, 1e-8), (x) => tf.max(x))],
      [r.partDots!, byPart(tf.mul(dots, w), (x) => tf.sum(x))],
      ...projected.map((y, i): [tf.Tensor, tf.Tensor] => [y, expected(factor)[i]]),
      [step.values, gamma],
      [step.m, m1],
      [step.v, v1],
      ...step.out.map((y, i): [tf.Tensor, tf.Tensor] => [y, expected(factor1)[i]]),
      ...adamOps.flatMap((o, i): [tf.Tensor, tf.Tensor][] => [
        [adam.m[i], o.m],
        [adam.v[i], o.v],
        [adam.updates[i], o.update],
      ]),
    ]);
  });
}
