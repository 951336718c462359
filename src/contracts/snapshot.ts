// What a component hands to a checkpoint: its state as a tree of plain values,
// host arrays and backend tensors. The checkpoint writer reads tensors back
// once and stores the arrays' bytes verbatim, so values round-trip bit for bit.
import type { Tensor } from '../tensor/tf.js';

export type SnapshotValue =
  | number
  | string
  | boolean
  | null
  | Float32Array
  | Int32Array
  | Uint8Array
  | Tensor
  | readonly SnapshotValue[]
  | Snapshot;

export interface Snapshot {
  readonly [key: string]: SnapshotValue;
}
