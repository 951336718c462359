// ER-ACE's logit mask against a hand-worked case.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/tensor/backend.js';
import { tf } from '../../../src/tensor/tf.js';
import { aceMask } from '../../../plugins/strategies/er-ace.js';

const values = (t: tf.Tensor) => Array.from(t.dataSync());

beforeAll(async () => {
  await selectBackend('auto');
});

describe('ER-ACE mask', () => {
  it('lets only the classes present in the batch, and classes not seen yet, compete (hand-worked)', () => {
    tf.tidy(() => {
      const classes = tf.range(0, 6, 1, 'int32');
      // Seen before: up to class 3. Batch labels {2, 4}: present 2, 4; at or above max(3, 4) = 4: 4, 5.
      const m = values(aceMask(tf.tensor1d([4, 2, 4], 'int32'), 6, 3, classes));
      expect(m.map((v) => (v === 0 ? 'on' : 'off'))).toEqual(['off', 'off', 'on', 'off', 'on', 'on']);
    });
  });
});
