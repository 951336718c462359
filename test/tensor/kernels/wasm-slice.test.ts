import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/tensor/tf.js';
import { selectBackend } from '../../../src/tensor/backend.js';

describe('the wasm Slice kernel replacement', () => {
  it("gives the cpu backend's results for contiguous and strided slices, float and int", async () => {
    const cases: [number[], number[], number[]][] = [
      [
        [50, 7],
        [10, 0],
        [5, 7],
      ], // contiguous rows: the fast path
      [
        [50, 7],
        [0, 0],
        [50, 7],
      ],
      [
        [50, 7],
        [3, 2],
        [4, 3],
      ], // strided: the original kernel
      [
        [6, 4, 5],
        [2, 0, 0],
        [3, 4, 5],
      ],
      [
        [6, 4, 5],
        [1, 1, 1],
        [2, 2, 3],
      ],
      [[100], [17], [31]],
    ];
    const results: Record<string, number[][]> = {};
    for (const backend of ['cpu', 'wasm'] as const) {
      await selectBackend(backend);
      results[backend] = cases.flatMap(([shape, begin, size]) => {
        const n = shape.reduce((a, b) => a * b, 1);
        const f = tf.tensor(
          Float32Array.from({ length: n }, (_, i) => i * 0.5),
          shape,
        );
        const i = tf.tensor(
          Int32Array.from({ length: n }, (_, k) => k - 7),
          shape,
          'int32',
        );
        const out = [Array.from(tf.slice(f, begin, size).dataSync()), Array.from(tf.slice(i, begin, size).dataSync())];
        tf.dispose([f, i]);
        return out;
      });
    }
    expect(results.wasm).toEqual(results.cpu);
  });
});
