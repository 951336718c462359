// Shared by the streams whose tasks are transformed copies of one data set
// (permuted, rotated): every task has all classes; its examples are built on
// first use and not kept, so ten permuted copies of MNIST never sit in
// memory at once (only the test splits, which every evaluation needs, are kept).
import { featureSize, type Dataset, type FeatureArray, type Examples } from '../../src/contracts/data.js';
import type { Task, TaskStream } from '../../src/contracts/stream.js';

/** A task's features from the data set's (bytes or floats; a transform that interpolates returns floats). */
export type FeatureTransform = (features: FeatureArray, size: number) => FeatureArray;

function transformed(set: Examples, transform: FeatureTransform, size: number): Examples {
  return { features: transform(set.features, size), labels: set.labels, count: set.count };
}

export function transformedStream(
  name: string,
  data: Dataset,
  transforms: { label: string; transform: FeatureTransform }[],
): TaskStream {
  const size = featureSize(data.featureShape);
  const classes = Array.from({ length: data.numClasses }, (_, i) => i);
  // The last task's training set built stays cached: a run reads one task's many times in a row
  // (sampler, training set, validation split), and a fresh copy each time costs memory and time.
  let cached: { index: number; examples: Examples } | undefined;
  const tasks: Task[] = transforms.map(({ label, transform }, index) => {
    const test = transformed(data.test, transform, size);
    return {
      index,
      name: `t${index}:${label}`,
      classes,
      get train() {
        if (cached?.index !== index) cached = { index, examples: transformed(data.train, transform, size) };
        return cached.examples;
      },
      test,
    };
  });
  return { name, featureShape: data.featureShape, numClasses: data.numClasses, tasks };
}
