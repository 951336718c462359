// Shared by the IDX-backed dataset plugins: load a train/test pair of files.
import { loadIdxPair } from '../../src/plugin-api.js';
import type { Dataset, Examples } from '../../src/contracts/data.js';

export function firstN(set: Examples, limit: number): Examples {
  if (limit <= 0 || limit >= set.count) return { features: set.features, labels: set.labels, count: set.count };
  const size = set.features.length / set.count;
  return { features: set.features.subarray(0, limit * size), labels: set.labels.subarray(0, limit), count: limit };
}

export function loadIdxDataset(opts: {
  name: string;
  trainImages: string;
  trainLabels: string;
  testImages: string;
  testLabels: string;
  numClasses?: number;
  trainLimit: number;
  testLimit: number;
}): Dataset {
  const train = loadIdxPair(opts.trainImages, opts.trainLabels, opts.numClasses);
  const test = loadIdxPair(opts.testImages, opts.testLabels, opts.numClasses);
  if (train.featureShape.join('x') !== test.featureShape.join('x')) {
    throw new Error(
      `${opts.name}: train examples are [${train.featureShape}] but test examples are [${test.featureShape}]`,
    );
  }
  const shape = train.featureShape.length === 2 ? [...train.featureShape, 1] : train.featureShape;
  return {
    name: opts.name,
    featureShape: shape,
    numClasses: opts.numClasses ?? Math.max(train.maxLabel, test.maxLabel) + 1,
    train: firstN(train, opts.trainLimit),
    test: firstN(test, opts.testLimit),
  };
}
