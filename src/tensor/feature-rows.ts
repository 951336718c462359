// A set's examples on the backend, read as float32 rows by index or by range. Byte images (8-bit data sets, whose
// features stay bytes on the host: src/contracts/data.ts) go to native TensorFlow as their bytes, four to an int32,
// when the fused kernels are loaded, and a batch's rows are gathered and decoded in one kernel
// (src/native/byte_rows.cc): a quarter of float32's memory on the backend, and no float copy of the whole set on the
// host or in an epoch's order. Elsewhere (float data, wasm, no kernels) the rows are float32 on the backend.
import { tf } from './tf.js';
import { featureValues, type FeatureArray } from '../contracts/data.js';
import { fusedByteRows, type ByteRowsKernel } from '../native/kernels.js';

export interface FeatureRows {
  readonly count: number;
  readonly width: number;
  /** Every row, float32 [count, width], when the rows are held as floats; undefined when they are read by index. */
  readonly floats?: tf.Tensor2D;
  /** The rows at `index` ([b] int32): float32 [b, width], a new tensor of the caller's scope. */
  gather(index: tf.Tensor): tf.Tensor2D;
  /** Rows start … start + size − 1: float32 [size, width]. */
  slice(start: number, size: number): tf.Tensor2D;
  dispose(): void;
}

/** `count` rows of `width` features on the backend, as bytes where the backend can decode them, else as floats. */
export function featureRows(features: FeatureArray, count: number, width: number): FeatureRows {
  const values = features.subarray(0, count * width);
  const decode = values instanceof Uint8Array && width % 4 === 0 ? fusedByteRows() : undefined;
  return decode ? new ByteRows(values as Uint8Array, count, width, decode) : new FloatRows(values, count, width);
}

class FloatRows implements FeatureRows {
  readonly floats: tf.Tensor2D;

  constructor(
    features: FeatureArray,
    readonly count: number,
    readonly width: number,
  ) {
    this.floats = tf.tensor2d(featureValues(features), [count, width]);
  }

  gather(index: tf.Tensor): tf.Tensor2D {
    return tf.gather(this.floats, index);
  }

  slice(start: number, size: number): tf.Tensor2D {
    return tf.slice(this.floats, [start, 0], [size, this.width]);
  }

  dispose(): void {
    this.floats.dispose();
  }
}

class ByteRows implements FeatureRows {
  /** The bytes, four to an int32: [count, width / 4]. */
  private readonly bytes: tf.Tensor2D;

  constructor(
    features: Uint8Array,
    readonly count: number,
    readonly width: number,
    private readonly decode: ByteRowsKernel,
  ) {
    // A view of the same bytes where they are aligned (the binding copies them into the tensor), else a copy.
    const aligned = features.byteOffset % 4 === 0 ? features : features.slice();
    const words = new Int32Array(aligned.buffer, aligned.byteOffset, aligned.length / 4);
    this.bytes = tf.tensor2d(words, [count, width / 4], 'int32');
  }

  gather(index: tf.Tensor): tf.Tensor2D {
    return this.decode(this.bytes, index) as tf.Tensor2D;
  }

  slice(start: number, size: number): tf.Tensor2D {
    return tf.tidy(() => this.gather(tf.range(start, start + size, 1, 'int32')));
  }

  dispose(): void {
    this.bytes.dispose();
  }
}
