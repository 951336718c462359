import type { Rng } from '../tensor/rng.js';
import type { Task } from './stream.js';

/** Chooses which training examples a task uses and the order they are seen in. */
export interface Sampler {
  /** Indices into `task.train` that this run may learn from (all, a fraction, k per class). */
  subset(task: Task, rng: Rng): Int32Array;
  /** The order of the subset's examples (indices into `task.train`) in one epoch; batches are consecutive chunks. */
  order(subset: Int32Array, epoch: number, rng: Rng): Int32Array;
}
