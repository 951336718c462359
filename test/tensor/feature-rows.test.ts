// A set's rows on the backend: byte images read back as exactly the floats featureValues decodes (byte / 255 as
// float32), by index and by range, whether held as bytes (native TensorFlow with the fused kernels) or as floats
// (elsewhere); float data and widths the bytes cannot be packed in stay floats; nothing is left behind.
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import { featureRows } from '../../src/tensor/feature-rows.js';
import { featureValues } from '../../src/contracts/data.js';
import { nativeKernelsMissing } from '../helpers.js';

const backend = await selectBackend((process.env.ANCHORAGE_BACKEND as 'auto' | undefined) ?? 'auto');
const missing = nativeKernelsMissing(backend.name);

const n = 9;
const width = 12;
/** Every byte value appears, each row different. */
const bytes = Uint8Array.from({ length: n * width }, (_, i) => (i * 29 + 3) % 256);

function rowsOf(values: Float32Array, picked: number[], w = width): number[] {
  return picked.flatMap((r) => Array.from(values.subarray(r * w, (r + 1) * w)));
}

describe("a set's rows", () => {
  it('reads byte images by index and by range as the floats featureValues decodes', () => {
    const before = tf.memory().numTensors;
    const rows = featureRows(bytes, n, width);
    const floats = featureValues(bytes);
    const picked = [8, 0, 3, 3, 7];
    tf.tidy(() => {
      expect(Array.from(rows.gather(tf.tensor1d(picked, 'int32')).dataSync())).toEqual(rowsOf(floats, picked));
      expect(rows.slice(2, 4).shape).toEqual([4, width]);
      expect(Array.from(rows.slice(2, 4).dataSync())).toEqual(rowsOf(floats, [2, 3, 4, 5]));
    });
    rows.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reads bytes that start at any offset of their buffer', () => {
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const view = shifted.subarray(3);
    const rows = featureRows(view, n, width);
    tf.tidy(() => {
      expect(Array.from(rows.slice(0, n).dataSync())).toEqual(Array.from(featureValues(bytes)));
    });
    rows.dispose();
  });

  it('keeps float data, and bytes whose rows cannot be packed four to an int32, as floats', () => {
    const floats = Float32Array.from({ length: n * width }, (_, i) => i / 7);
    const held = featureRows(floats, n, width);
    expect(held.floats).toBeDefined();
    tf.tidy(() => {
      const got = held.gather(tf.tensor1d([4, 1], 'int32'));
      expect(Array.from(got.dataSync())).toEqual(rowsOf(floats, [4, 1]));
    });
    held.dispose();
    const odd = featureRows(bytes.subarray(0, n * 10), n, 10);
    expect(odd.floats).toBeDefined();
    tf.tidy(() => {
      const decoded = featureValues(bytes.subarray(0, n * 10));
      expect(Array.from(odd.slice(1, 2).dataSync())).toEqual(rowsOf(decoded, [1, 2], 10));
    });
    odd.dispose();
  });

  it('holds byte images as bytes where the fused kernels decode them, as floats elsewhere', () => {
    const rows = featureRows(bytes, n, width);
    if (missing) expect(rows.floats).toBeDefined();
    else expect(rows.floats).toBeUndefined();
    rows.dispose();
  });

  it.skipIf(missing)(`refuses an index outside the rows${missing ? ` (skipped: ${missing})` : ''}`, () => {
    const rows = featureRows(bytes, n, width);
    expect(() => tf.tidy(() => rows.gather(tf.tensor1d([0, n], 'int32')))).toThrow(/row 9 of 9/);
    rows.dispose();
  });
});
