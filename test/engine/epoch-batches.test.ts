// One epoch's batches: every step's rows, labels and task ids in the epoch's order, the last batch short, on the
// backend the suite runs (one split per epoch on native TensorFlow, a slice per step elsewhere), nothing left behind;
// for rows held as floats and for byte images (held as bytes and decoded per step where the backend can).
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import { EpochBatches } from '../../src/engine/epoch-batches.js';
import { featureRows } from '../../src/tensor/feature-rows.js';
import { featureValues, type FeatureArray } from '../../src/contracts/data.js';

beforeAll(async () => {
  await selectBackend('auto');
});

const n = 11;
const width = 16;
const KINDS: [string, FeatureArray][] = [
  ['float rows', Float32Array.from({ length: n * width }, (_, i) => i)],
  ['byte images', Uint8Array.from({ length: n * width }, (_, i) => (i * 7) % 256)],
];

describe("an epoch's batches", () => {
  it.each(KINDS)(
    'hands each step its rows in the epoch order, the last batch short, and frees them all (%s)',
    (_, held) => {
      const features = featureValues(held);
      const rows = {
        x: featureRows(held, n, width),
        y: tf.tensor1d(
          Array.from({ length: n }, (_, i) => 100 + i),
          'int32',
        ),
        ids: tf.tensor1d(
          Array.from({ length: n }, (_, i) => i % 3),
          'int32',
        ),
      };
      const order = Int32Array.from([3, 10, 0, 7, 1, 9, 2, 8, 4, 6, 5]);
      const before = tf.memory().numTensors;
      const batches = new EpochBatches(rows, order, 4);
      for (let s = 0; s < 3; s++) {
        const picked = Array.from(order.subarray(s * 4, s * 4 + 4));
        tf.tidy(() => {
          const b = batches.rows(s);
          expect(b.x.shape).toEqual([picked.length, width]);
          expect(Array.from(b.x.dataSync())).toEqual(
            picked.flatMap((r) => Array.from(features.subarray(r * width, (r + 1) * width))),
          );
          expect(Array.from(b.labels.dataSync())).toEqual(picked.map((r) => 100 + r));
          expect(Array.from(b.taskIds.dataSync())).toEqual(picked.map((r) => r % 3));
        });
      }
      // A step's tidy disposes what it was handed; the batches stay readable until the epoch ends.
      const again = tf.tidy(() => batches.rows(2).labels);
      expect(Array.from(again.dataSync())).toEqual([104, 106, 105]);
      again.dispose();
      batches.dispose();
      expect(tf.memory().numTensors).toBe(before);
      rows.x.dispose();
      tf.dispose([rows.y, rows.ids]);
    },
  );
});
