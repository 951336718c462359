// How a scenario turns a task stream into a learning problem, as strategies
// and the engine see it (the engine builds it: src/engine/scenario.ts).
import { tf } from '../tensor/tf.js';
import type { Scenario, Task } from './stream.js';

export interface ScenarioView {
  readonly scenario: Scenario;
  /** The width of the output layer. */
  readonly outputs: number;
  /** The label each example of a task's split is trained and scored on. */
  labels(task: Task, set: 'train' | 'test'): Int32Array;
  /** Output indices allowed for this task's examples; null when all compete. */
  allowedOutputs(task: Task): readonly number[] | null;
}

/** Additive logit mask: 0 on allowed outputs, a large negative number elsewhere; null when all are allowed. */
export function logitMask(allowed: readonly number[] | null, outputs: number): tf.Tensor1D | null {
  if (!allowed) return null;
  const values = new Float32Array(outputs).fill(-1e9);
  for (const i of allowed) values[i] = 0;
  return tf.tensor1d(values);
}
