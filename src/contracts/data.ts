/**
 * Features in host memory, flattened row-major: float values as they are, or
 * bytes, each standing for `byte / 255` — 8-bit images (MNIST, CIFAR) kept at
 * a quarter of float32's size and turned into values where they go to the
 * backend (`featureValues`). Never copy one kind into the other with
 * `TypedArray.set`, which would copy bytes as numbers: use `copyFeatures`.
 */
export type FeatureArray = Float32Array | Uint8Array;

/**
 * Labelled examples held in host memory, features flattened row-major and
 * in [0, 1]. One example occupies `featureSize` consecutive entries.
 */
export interface Examples {
  readonly features: FeatureArray;
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

// The value of each byte: `byte * (1 / 255)` rounded to float32 — what the
// loaders computed when they stored floats (and equal to `byte / 255` rounded,
// for every byte), so byte storage changes no result.
const BYTE_VALUE = Float32Array.from({ length: 256 }, (_, b) => b * (1 / 255));

/** The float value of one stored entry. */
export function featureAt(features: FeatureArray, i: number): number {
  return features instanceof Uint8Array ? BYTE_VALUE[features[i]] : features[i];
}

/** Features as float values: the array itself when it holds floats, else a decoded copy. */
export function featureValues(features: FeatureArray): Float32Array {
  if (features instanceof Float32Array) return features;
  const out = new Float32Array(features.length);
  for (let i = 0; i < features.length; i++) out[i] = BYTE_VALUE[features[i]];
  return out;
}

/** New zeroed features of `length` entries, stored as `like` stores them. */
export function allocFeatures(like: FeatureArray, length: number): FeatureArray {
  return like instanceof Uint8Array ? new Uint8Array(length) : new Float32Array(length);
}

/**
 * Copies `from` into `to` at entry `at`: bytes into bytes and floats into floats as they are, bytes into floats
 * decoded. Floats cannot go into bytes (they would lose precision): that is a programming error.
 */
export function copyFeatures(from: FeatureArray, to: FeatureArray, at = 0): void {
  if (from instanceof Uint8Array && to instanceof Float32Array) {
    for (let i = 0; i < from.length; i++) to[at + i] = BYTE_VALUE[from[i]];
  } else if (from instanceof Float32Array && to instanceof Uint8Array) {
    throw new Error('copyFeatures: float features cannot be stored as bytes');
  } else to.set(from, at);
}

/** How features from all of `sets` can be stored together: bytes if every one holds bytes, else floats. */
export function commonFeatures(sets: readonly { features: FeatureArray }[], length: number): FeatureArray {
  return sets.length > 0 && sets.every((s) => s.features instanceof Uint8Array)
    ? new Uint8Array(length)
    : new Float32Array(length);
}

/** Copies the examples at `indices` into new contiguous arrays (features stored as `from` stores them). */
export function takeExamples(from: Examples, indices: ArrayLike<number>, size: number): Examples {
  const features = allocFeatures(from.features, indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i];
    copyFeatures(from.features.subarray(k * size, (k + 1) * size), features, i * size);
    labels[i] = from.labels[k];
  }
  return { features, labels, count: indices.length };
}
