// GSS-greedy's memory decisions on cases whose outcome is certain: a memory
// fills in order, an example whose gradient agrees with the stored ones'
// (score ≥ 1) never enters a full memory, one whose gradient opposes them
// (score 0) always replaces a row.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/tensor/backend.js';
import { tf } from '../../../src/tensor/tf.js';
import { Rng } from '../../../src/tensor/rng.js';
import { GssMemory } from '../../../plugins/strategies/gss.js';
import { parameterList } from '../../../src/strategies/sample-gradients.js';
import type { StepBatch } from '../../../src/contracts/strategy.js';
import { linearModel } from './fixture-linear.js';

beforeAll(async () => {
  await selectBackend('auto');
});

/** A step's rows: `n` copies of the one-hot feature e0 with `label`. */
function batch(step: number, n: number, label: number): StepBatch {
  return {
    step,
    size: n,
    x: tf.tensor2d(Array.from({ length: n }, () => [1, 0])),
    labels: tf.tensor1d(new Array<number>(n).fill(label), 'int32'),
    taskIds: tf.tensor1d(new Array<number>(n).fill(0), 'int32'),
  };
}

describe('GSS-greedy memory', () => {
  it('fills, keeps out agreeing examples, lets opposing ones replace stored rows', () => {
    // W = 0: every gradient is e0 ⊗ (softmax − onehot) = e0 ⊗ (½ − onehot): label 0 and label 1 point opposite ways.
    const model = linearModel([
      [0, 0],
      [0, 0],
    ]);
    const params = parameterList(model);
    const memory = new GssMemory(4, 2, new Rng(5));
    let state: Record<string, tf.Tensor> = memory.initialState(2);
    memory.planTask(3, 4, (s) => (s === 1 ? 4 : 2), 2);
    const step = (b: StepBatch) => {
      const next = tf.tidy(() => memory.insert(b, state, params));
      tf.dispose([...Object.values(state), b.x, b.labels, b.taskIds]);
      state = next;
      return { labels: Array.from(state.labels.dataSync()).slice(0, 4), scores: Array.from(state.scores.dataSync()) };
    };
    // Step 1: the empty memory takes all four label-0 rows, each scored 1.
    expect(step(batch(1, 4, 0))).toEqual({ labels: [0, 0, 0, 0], scores: [1, 1, 1, 1, 0] });
    // Step 2: label 0 again: cosine 1 with every stored gradient, score 2 ≥ 1: nothing changes.
    expect(step(batch(2, 2, 0)).labels).toEqual([0, 0, 0, 0]);
    // Step 3: label 1: cosine −1, score 0 < 1 (float32: within 1e-6), kept with probability C_i / (C_i + 0) = 1; a
    // replaced row's score is 0, so it is never drawn again: two distinct rows now hold label 1, scored 0.
    const after = step(batch(3, 2, 1));
    expect(after.labels.filter((l) => l === 1)).toHaveLength(2);
    expect(after.scores.slice(0, 4).filter((s) => s < 1e-6)).toHaveLength(2);
    tf.dispose(Object.values(state));
    memory.dispose();
    model.dispose();
  });
});
