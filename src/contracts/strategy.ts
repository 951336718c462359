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
  /** An extra loss term, inside the gradient tape: `logits` are the masked logits of `x`. */
  loss?(ctx: { params: NamedTensors; x: Tensor; logits: Tensor }): Tensor | undefined;
  /** After the task's last step: consolidate (a Fisher matrix, a copy of the model, a buffer update). */
  onTaskEnd?(ctx: TaskContext & { trained: TrainingSet }): void | Promise<void>;
  dispose?(): void;
}
