/**
 * Labelled examples held in host memory, features flattened row-major and
 * scaled to [0, 1]. One example occupies `featureSize` consecutive floats.
 */
export interface Examples {
  readonly features: Float32Array;
  readonly labels: Int32Array;
  readonly count: number;
}

export interface Dataset {
  readonly name: string;
  /** Shape of one example, e.g. [28, 28, 1]. */
  readonly featureShape: readonly number[];
  readonly numClasses: number;
  readonly classNames?: readonly string[];
  readonly train: Examples;
  readonly test: Examples;
}

export function featureSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Copies the examples at `indices` into new contiguous arrays. */
export function takeExamples(from: Examples, indices: ArrayLike<number>, size: number): Examples {
  const features = new Float32Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i];
    features.set(from.features.subarray(k * size, (k + 1) * size), i * size);
    labels[i] = from.labels[k];
  }
  return { features, labels, count: indices.length };
}
