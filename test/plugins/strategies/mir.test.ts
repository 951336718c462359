// MIR's retrieval against an independent float64 computation of the virtual
// SGD step and of every candidate's loss before and after it.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/tensor/backend.js';
import { tf } from '../../../src/tensor/tf.js';
import { mostInterfered } from '../../../plugins/strategies/mir.js';
import { parameterList } from '../../../src/strategies/sample-gradients.js';
import { crossEntropy64, linearModel } from './fixture-linear.js';

beforeAll(async () => {
  await selectBackend('auto');
});

const W = [
  [0.3, -0.2, 0.1],
  [-0.1, 0.4, 0.2],
];
const INCOMING = {
  x: [
    [1, 0.5],
    [0.2, -1],
  ],
  y: [2, 2],
};
const CANDIDATES = {
  x: [
    [1, 0],
    [0, 1],
    [0.5, 0.5],
    [-1, 0.3],
    [0.7, -0.4],
  ],
  y: [0, 1, 0, 2, 1],
};

const logitsOf = (w: number[][], x: number[]) => w[0].map((_, c) => x[0] * w[0][c] + x[1] * w[1][c]);
const softmax = (z: number[]) => {
  const e = z.map((v) => Math.exp(v - Math.max(...z)));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

describe('MIR retrieval', () => {
  it('picks the candidates whose loss the virtual step raises most (float64 reference)', () => {
    const lr = 0.5;
    // ∇W of the incoming rows' mean cross-entropy: mean over rows of x ⊗ (softmax − onehot).
    const grad = W.map((row) => row.map(() => 0));
    INCOMING.x.forEach((x, n) => {
      const p = softmax(logitsOf(W, x));
      for (let i = 0; i < 2; i++)
        for (let c = 0; c < 3; c++) grad[i][c] += (x[i] * (p[c] - (c === INCOMING.y[n] ? 1 : 0))) / INCOMING.x.length;
    });
    const virtual = W.map((row, i) => row.map((v, c) => v - lr * grad[i][c]));
    const rise = CANDIDATES.x.map(
      (x, n) => crossEntropy64(logitsOf(virtual, x), CANDIDATES.y[n]) - crossEntropy64(logitsOf(W, x), CANDIDATES.y[n]),
    );
    const expected = rise
      .map((r, i) => [r, i])
      .sort((a, b) => b[0] - a[0])
      .map(([, i]) => i);
    const model = linearModel(W);
    const chosen = tf.tidy(() =>
      mostInterfered(
        parameterList(model),
        { x: tf.tensor2d(INCOMING.x), labels: tf.tensor1d(INCOMING.y, 'int32') },
        { x: tf.tensor2d(CANDIDATES.x), labels: tf.tensor1d(CANDIDATES.y, 'int32') },
        2,
        lr,
      ),
    );
    expect(Array.from(chosen.dataSync())).toEqual(expected.slice(0, 2));
    chosen.dispose();
    model.dispose();
  });
});
