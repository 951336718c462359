import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/tensor/tf.js';
import { selectBackend } from '../../../src/tensor/backend.js';
import { Rng } from '../../../src/tensor/rng.js';

/** Runs `f` on the cpu and the wasm backend and returns both results. */
async function onBoth(f: () => tf.Tensor[]): Promise<Record<'cpu' | 'wasm', number[][]>> {
  const out = {} as Record<'cpu' | 'wasm', number[][]>;
  for (const b of ['cpu', 'wasm'] as const) {
    await selectBackend(b);
    const before = tf.memory().numTensors;
    const buffers = tf.engine().backend.numDataIds();
    const ts = tf.tidy(f);
    out[b] = ts.map((t) => Array.from(t.dataSync()));
    tf.dispose(ts);
    expect(tf.memory().numTensors).toBe(before);
    // The kernels' intermediates are released inside the backend too.
    expect(tf.engine().backend.numDataIds()).toBe(buffers);
  }
  return out;
}

const close = (a: number[][], b: number[][]) =>
  a.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(b[i][j], 3)));

describe('wasm gradient kernels', () => {
  it.each([
    ['same', 1],
    ['valid', 1],
    ['same', 2],
    ['valid', 2],
  ] as const)('conv2d filter gradient matches the cpu backend (padding %s, stride %i)', async (pad, stride) => {
    const rng = new Rng(3);
    const xv = Float32Array.from({ length: 2 * 7 * 7 * 3 }, () => rng.normal());
    const wv = Float32Array.from({ length: 3 * 3 * 3 * 4 }, () => rng.normal());
    const r = await onBoth(() => {
      const x = tf.tensor4d(xv, [2, 7, 7, 3]);
      const w = tf.tensor4d(wv, [3, 3, 3, 4]);
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad))),
      )([x, w]);
      return [dx, dw];
    });
    close(r.wasm, r.cpu);
  });

  it('gather gradient (UnsortedSegmentSum) matches the cpu backend', async () => {
    const r = await onBoth(() => {
      const table = tf.tensor2d([
        [1, 2],
        [3, 4],
        [5, 6],
        [7, 8],
      ]);
      const idx = tf.tensor1d([0, 2, 2, 3, 0, 0], 'int32');
      return [
        tf.grad((t: tf.Tensor) =>
          tf.sum(
            tf.mul(
              tf.gather(t, idx),
              tf.tensor2d([
                [1, 1],
                [2, 2],
                [3, 3],
                [4, 4],
                [5, 5],
                [6, 6],
              ]),
            ),
          ),
        )(table),
      ];
    });
    expect(r.wasm).toEqual(r.cpu);
    expect(r.wasm[0]).toEqual([12, 12, 0, 0, 5, 5, 4, 4]);
  });
});
