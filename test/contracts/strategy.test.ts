import { describe, expect, it } from 'vitest';
import { concatTrainingSets, type TrainingSet } from '../../src/contracts/strategy.js';

const set = (features: Float32Array | Uint8Array, task: number): TrainingSet => ({
  features,
  labels: Int32Array.from({ length: features.length / 2 }, (_, i) => i),
  taskIds: new Int32Array(features.length / 2).fill(task),
  count: features.length / 2,
});

describe('concatTrainingSets', () => {
  it('keeps bytes when every set holds bytes', () => {
    const joined = concatTrainingSets([set(Uint8Array.from([1, 2]), 0), set(Uint8Array.from([3, 4, 5, 6]), 1)]);
    expect(joined.features).toBeInstanceOf(Uint8Array);
    expect(Array.from(joined.features)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(joined.labels)).toEqual([0, 0, 1]);
    expect(Array.from(joined.taskIds)).toEqual([0, 1, 1]);
    expect(joined.count).toBe(3);
  });

  it('stores a mix as floats, the bytes decoded to their values', () => {
    const joined = concatTrainingSets([set(Uint8Array.from([0, 255]), 0), set(Float32Array.from([0.5, -2]), 1)]);
    expect(joined.features).toBeInstanceOf(Float32Array);
    expect(Array.from(joined.features)).toEqual([0, 1, 0.5, -2]);
  });
});
