// Byte features: every path that turns them into values gives the float32 that
// the loaders stored before bytes were kept (byte * (1/255), rounded), and no
// path copies bytes as numbers.
import { describe, expect, it } from 'vitest';
import {
  allocFeatures,
  commonFeatures,
  copyFeatures,
  featureAt,
  featureValues,
  takeExamples,
} from '../../src/contracts/data.js';

const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, b) => b);

describe('feature storage', () => {
  it('decodes every byte to the float32 of byte / 255, which equals byte * (1/255) rounded', () => {
    const values = featureValues(ALL_BYTES);
    expect(values).toBeInstanceOf(Float32Array);
    for (let b = 0; b < 256; b++) {
      expect(values[b]).toBe(Math.fround(b / 255));
      expect(values[b]).toBe(Math.fround(b * (1 / 255)));
      expect(featureAt(ALL_BYTES, b)).toBe(values[b]);
    }
    expect([values[0], values[255]]).toEqual([0, 1]);
  });

  it('passes float features through without a copy', () => {
    const floats = Float32Array.from([0.25, -3, 7.5]);
    expect(featureValues(floats)).toBe(floats);
    expect(featureAt(floats, 1)).toBe(-3);
  });

  it('copies bytes into floats decoded, like into like as they are, and refuses floats into bytes', () => {
    const floats = new Float32Array(5).fill(9);
    copyFeatures(Uint8Array.from([0, 51, 255]), floats, 1);
    expect(Array.from(floats)).toEqual([9, 0, Math.fround(0.2), 1, 9]);
    const bytes = new Uint8Array(4);
    copyFeatures(Uint8Array.from([7, 8]), bytes, 2);
    expect(Array.from(bytes)).toEqual([0, 0, 7, 8]);
    expect(() => copyFeatures(Float32Array.from([0.5]), bytes)).toThrow(/cannot be stored as bytes/);
  });

  it('allocates like its model, and stores sets together as bytes only when all hold bytes', () => {
    expect(allocFeatures(new Uint8Array(1), 3)).toBeInstanceOf(Uint8Array);
    expect(allocFeatures(new Float32Array(1), 3)).toBeInstanceOf(Float32Array);
    const bytes = { features: new Uint8Array(2) };
    const floats = { features: new Float32Array(2) };
    expect(commonFeatures([bytes, bytes], 4)).toBeInstanceOf(Uint8Array);
    expect(commonFeatures([bytes, floats], 4)).toBeInstanceOf(Float32Array);
    expect(commonFeatures([], 0)).toBeInstanceOf(Float32Array);
  });

  it('takes rows of byte examples as bytes, in the order asked', () => {
    const from = { features: Uint8Array.from([1, 2, 3, 4, 5, 6]), labels: Int32Array.from([7, 8, 9]), count: 3 };
    const taken = takeExamples(from, [2, 0], 2);
    expect(taken.features).toBeInstanceOf(Uint8Array);
    expect(Array.from(taken.features)).toEqual([5, 6, 1, 2]);
    expect(Array.from(taken.labels)).toEqual([9, 7]);
    expect(taken.count).toBe(2);
  });
});
