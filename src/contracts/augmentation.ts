// Data augmentation and input transforms, applied on the backend. Random
// augmentations (crops, flips) act on the sampled rows of each training step
// only, with randomness drawn on the host before a task trains (seeded: the
// same seed gives the same crops on every backend) and uploaded once.
// Deterministic transforms (per-channel normalisation) are part of the
// model's input: they apply wherever the model sees data — training steps,
// evaluation, and strategies' own passes (Fisher, herding, reference gradients).
import type { Tensor4D } from '../tensor/tf.js';
import type { Rng } from '../tensor/rng.js';

export interface Augmentation {
  readonly name: string;
  /**
   * 'train': random, training steps only, never at evaluation; 'always': deterministic, the model's input transform.
   */
  readonly when: 'train' | 'always';
  /** Outside any step, before a task trains: draw this task's randomness for `steps` steps of up to `rows` rows. */
  planTask?(steps: number, rows: number, rng: Rng): void;
  /** Inside a tidy: images [rows, height, width, channels] → the same shape. `step` is 1-based within the task. */
  apply(x: Tensor4D, step: number): Tensor4D;
  dispose?(): void;
}
