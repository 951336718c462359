// The layers on native TensorFlow's step kernels (TensorFlow's gradient ops,
// FusedBatchNormV3) against the op path they replace. Each case computes a
// layer's output and the gradients of a loss through it with respect to every
// input, once on the backend's path and once with ANCHORAGE_STEP_KERNELS=0,
// and asserts they agree to float32 rounding; on other backends both are the
// op path, and the cases check the op path's layers against each other.
import { afterEach, describe, expect, it } from 'vitest';
import { tf } from '../../src/tensor/tf.js';
import { selectBackend } from '../../src/tensor/backend.js';
import { ACT, batchNormTraining, conv2d, dense } from '../../src/models/layer-ops.js';
import { STEP_KERNELS_ENV } from '../../src/tensor/kernels/native-ops.js';
import type { Activation } from '../../src/contracts/layers.js';

const backend = await selectBackend((process.env.ANCHORAGE_BACKEND as 'auto' | undefined) ?? 'auto');
const saved = process.env[STEP_KERNELS_ENV];
afterEach(() => {
  if (saved === undefined) delete process.env[STEP_KERNELS_ENV];
  else process.env[STEP_KERNELS_ENV] = saved;
});

/** The output and every input's gradient of Σ output ⊙ weights, as arrays; tensors and backend buffers released. */
function outputAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[]): number[][] {
  const before = tf.memory().numTensors;
  const buffers = tf.engine().backend.numDataIds();
  const out = tf.tidy(() => {
    const y = f(...inputs);
    const probe = tf.randomNormal(y.shape, 0, 1, 'float32', 7);
    const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), probe)))(inputs);
    return [y, ...grads];
  });
  const values = out.map((t) => Array.from(t.dataSync()));
  tf.dispose(out);
  expect(tf.memory().numTensors).toBe(before);
  expect(tf.engine().backend.numDataIds()).toBe(buffers);
  return values;
}

/** The same computation on the backend's path and on the op path. */
function onBothPaths(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[]): { path: number[][]; ops: number[][] } {
  delete process.env[STEP_KERNELS_ENV];
  const path = outputAndGrads(f, inputs);
  process.env[STEP_KERNELS_ENV] = '0';
  const ops = outputAndGrads(f, inputs);
  delete process.env[STEP_KERNELS_ENV];
  return { path, ops };
}

/** Each array equal to float32 rounding, relative to its largest magnitude. */
function expectClose(a: number[][], b: number[][]): void {
  expect(a.length).toBe(b.length);
  a.forEach((row, i) => {
    expect(row.length).toBe(b[i].length);
    const scale = Math.max(1, ...b[i].map(Math.abs));
    const worst = Math.max(...row.map((v, j) => Math.abs(v - b[i][j])));
    expect(worst / scale, `array ${i}`).toBeLessThan(2e-5);
  });
}

const normal = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);

/** The kernels a function runs, by tfjs's names. */
async function kernelsOf(f: () => tf.Tensor): Promise<string[]> {
  const profile = await tf.profile(() => tf.tidy(() => tf.sum(f())));
  return profile.kernels.map((k) => k.name);
}

describe('layer kernels against the op path', () => {
  const activations: Activation[] = ['linear', 'relu', 'tanh', 'sigmoid'];

  it.each(activations.flatMap((a) => [[a, true] as const, [a, false] as const]))(
    'dense with activation %s (bias %s): output and gradients of input, weight and bias equal the op path',
    (activation, withBias) => {
      const x = normal([9, 13], 1);
      const w = normal([13, 6], 2);
      const b = normal([6], 3);
      const inputs = withBias ? [x, w, b] : [x, w];
      const r = onBothPaths((xi, wi, bi) => dense(xi, wi, bi, activation), inputs);
      expectClose(r.path, r.ops);
      tf.dispose([x, w, b]);
    },
  );

  it.each([
    ['same', 1, 'relu', true],
    ['same', 2, 'linear', true],
    ['valid', 1, 'tanh', false],
    ['valid', 2, 'relu', true],
    [1, 1, 'relu', true],
    [1, 2, 'linear', false],
    [2, 1, 'sigmoid', true],
    [1, 2, 'relu', true],
  ] as const)(
    'conv2d with padding %s, stride %i, activation %s (bias %s): output and gradients equal the op path',
    (padding, stride, activation, withBias) => {
      const x = normal([2, 8, 7, 3], 4);
      const f = normal([3, 3, 3, 5], 5);
      const b = normal([5], 6);
      const inputs = withBias ? [x, f, b] : [x, f];
      const r = onBothPaths(
        (xi, fi, bi) => conv2d(xi, fi, bi, { strides: [stride, stride], padding, activation }),
        inputs,
      );
      expectClose(r.path, r.ops);
      tf.dispose([x, f, b]);
    },
  );

  it.each([
    ['[batch, channels]', [16, 5]],
    ['[batch, h, w, channels]', [3, 4, 5, 6]],
  ])('batch norm in training on %s: output and gradients of input, scale and shift equal the op path', (_, shape) => {
    const c = shape[shape.length - 1];
    const x = tf.add(tf.mul(normal(shape, 7), 3), 1.5);
    const gamma = normal([c], 8);
    const beta = normal([c], 9);
    const r = onBothPaths((xi, g, b) => batchNormTraining(xi, g, b, 1e-5), [x, gamma, beta]);
    expectClose(r.path, r.ops);
    tf.dispose([x, gamma, beta]);
  });

  it('batch norm in training updates the running statistics as the op path does (PyTorch: unbiased variance)', () => {
    const x = tf.add(tf.mul(normal([2, 3, 3, 4], 10), 2), 0.5);
    const [gamma, beta] = [tf.ones([4]), tf.zeros([4])];
    const statsAfter = (kernels: boolean) => {
      if (kernels) delete process.env[STEP_KERNELS_ENV];
      else process.env[STEP_KERNELS_ENV] = '0';
      const running = { mean: tf.variable(tf.fill([4], 0.2)), variance: tf.variable(tf.fill([4], 0.7)), momentum: 0.1 };
      tf.tidy(() => batchNormTraining(x, gamma, beta, 1e-5, running));
      tf.tidy(() => batchNormTraining(tf.mul(x, 0.5), gamma, beta, 1e-5, running));
      const out = [Array.from(running.mean.dataSync()), Array.from(running.variance.dataSync())];
      tf.dispose([running.mean, running.variance]);
      return out;
    };
    const [kernels, ops] = [statsAfter(true), statsAfter(false)];
    expectClose(kernels, ops);
    // Two steps from (0.2, 0.7) moved the statistics: the test would not pass with them left alone.
    expect(Math.abs(ops[1][0] - 0.7)).toBeGreaterThan(0.1);
    tf.dispose([x, gamma, beta]);
  });

  it.each(['relu', 'tanh', 'sigmoid'] as const)('activation %s alone: output and gradient equal the op path', (a) => {
    const x = normal([7, 11], 11);
    const r = onBothPaths((xi) => ACT[a](xi), [x]);
    expectClose(r.path, r.ops);
    x.dispose();
  });
});

describe('which kernels the layers run', () => {
  const x = normal([4, 6], 12);
  const w = normal([6, 3], 13);
  const img = normal([2, 5, 5, 2], 14);
  const filter = normal([3, 3, 2, 4], 15);

  it('native TensorFlow: anchorage’s dense, convolution and activation kernels, and no tfjs moments', async (ctx) => {
    if (backend.name !== 'tensorflow')
      ctx.skip(`the step kernels run on native TensorFlow; this run is on ${backend.name}`);
    delete process.env[STEP_KERNELS_ENV];
    const names = await kernelsOf(() =>
      tf.add(
        tf.sum(ACT.relu(dense(x, w, undefined, 'relu'))),
        tf.sum(
          batchNormTraining(
            conv2d(img, filter, undefined, { strides: [1, 1], padding: 1, activation: 'relu' }),
            tf.ones([4]),
            tf.zeros([4]),
            1e-5,
          ),
        ),
      ),
    );
    expect(names).toEqual(expect.arrayContaining(['AnchorageDense', 'AnchorageConv2D', 'AnchorageActivation']));
    expect(names).not.toContain('Mean');
    expect(names).not.toContain('PadV2');
  });

  it('other backends: the op path (no step kernels to run)', async (ctx) => {
    if (backend.name === 'tensorflow') ctx.skip('native TensorFlow runs anchorage’s own kernels (the test above)');
    delete process.env[STEP_KERNELS_ENV];
    const names = await kernelsOf(() => tf.sum(dense(x, w, undefined, 'relu')));
    expect(names).toEqual(expect.arrayContaining(['BatchMatMul', 'Relu']));
    expect(names.filter((n) => n.startsWith('Anchorage'))).toEqual([]);
  });

  it('ANCHORAGE_STEP_KERNELS=0: the op path (matMul, add, activation; pad, then a valid convolution)', async () => {
    process.env[STEP_KERNELS_ENV] = '0';
    const names = await kernelsOf(() =>
      tf.add(
        tf.sum(dense(x, w, undefined, 'relu')),
        tf.sum(conv2d(img, filter, undefined, { strides: [1, 1], padding: 1, activation: 'relu' })),
      ),
    );
    expect(names).toEqual(expect.arrayContaining(['BatchMatMul', 'Relu', 'PadV2', 'Conv2D']));
    expect(names.filter((n) => n.startsWith('Anchorage') || n.startsWith('_Fused'))).toEqual([]);
  });
});
