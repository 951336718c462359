import type { Tensor } from '../tensor/tf.js';
import type { Examples } from './data.js';
import type { Model } from './model.js';
import type { NamedTensors } from './optimizer.js';
import type { Task, TaskStream } from './stream.js';
import type { ScenarioView } from '../run/scenario.js';

/**
 * Examples ready to train on: features of the stream's shape, labels already
 * in the scenario's label space, and the task each example came from (for
 * per-task logit masks in task-il).
 */
export interface TrainingSet extends Examples {
  readonly taskIds: Int32Array;
}

/** Concatenates training sets (joint and cumulative training, replay buffers). */
export function concatTrainingSets(sets: readonly TrainingSet[]): TrainingSet {
  const count = sets.reduce((a, s) => a + s.count, 0);
  const first = sets.find((s) => s.count > 0);
  const size = first ? first.features.length / first.count : 0;
  const features = new Float32Array(count * size);
  const labels = new Int32Array(count);
  const taskIds = new Int32Array(count);
  let at = 0;
  for (const s of sets) {
    features.set(s.features, at * size);
    labels.set(s.labels, at);
    taskIds.set(s.taskIds, at);
    at += s.count;
  }
  return { features, labels, taskIds, count };
}

export const EMPTY_TRAINING_SET: TrainingSet = { features: new Float32Array(0), labels: new Int32Array(0), taskIds: new Int32Array(0), count: 0 };

export interface TaskContext {
  readonly task: Task;
  readonly stream: TaskStream;
  readonly model: Model;
  readonly scenario: ScenarioView;
  /** The sampler's selection of any task, as a training set. */
  selection(task: Task): TrainingSet;
}

/** An extra batch mixed into a step (replay): x [n, features], y [n] scenario labels, taskIds [n]. */
export interface ExtraBatch {
  x: Tensor;
  y: Tensor;
  taskIds: Tensor;
}

/**
 * A continual-learning strategy: typed lifecycle methods that the run calls.
 * Methods that influence training return values the loop combines (a
 * training set, an extra batch, a loss term); none assigns to the loop.
 * Tensors a strategy keeps across steps it creates outside any step (in
 * onTaskStart/onTaskEnd) and frees in dispose().
 */
export interface Strategy {
  readonly name: string;
  /** What the task trains on; default: the task's own selection. Joint and cumulative return more. */
  trainingSet?(ctx: TaskContext): TrainingSet;
  /** Before the task's first step; `steps` is the number of steps it will take. */
  onTaskStart?(ctx: TaskContext & { steps: number; batchSize: number }): void | Promise<void>;
  /** Examples added to the batch of step `step` (1-based within the task). Called inside the step's tidy. */
  extraBatch?(step: number): ExtraBatch | undefined;
  /**
   * An extra loss term, inside the gradient tape. `rawLogits` are the model's
   * outputs for `x`; `logits` the same with the scenario's task masks added.
   */
  loss?(ctx: { params: NamedTensors; x: Tensor; logits: Tensor; rawLogits: Tensor }): Tensor | undefined;
  /** After the task's last step: consolidate (a Fisher matrix, a copy of the model, a buffer update). */
  onTaskEnd?(ctx: TaskContext & { trained: TrainingSet }): void | Promise<void>;
  dispose?(): void;
}
