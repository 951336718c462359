// The data set the stream tests split, permute and rotate.
import type { Dataset } from '../../../src/contracts/data.js';

/** 4 images 3×3×1, pixel i of image e = 10e + i, labels 0..3. */
export const IMAGES: Dataset = {
  name: 'tiny',
  featureShape: [3, 3, 1],
  numClasses: 4,
  train: {
    features: Float32Array.from({ length: 36 }, (_, k) => 10 * Math.floor(k / 9) + (k % 9)),
    labels: Int32Array.from([0, 1, 2, 3]),
    count: 4,
  },
  test: {
    features: Float32Array.from({ length: 36 }, (_, k) => 100 + k),
    labels: Int32Array.from([0, 1, 2, 3]),
    count: 4,
  },
};
