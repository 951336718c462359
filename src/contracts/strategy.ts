// The step pipeline: the typed hooks a continual-learning strategy may
// implement, in the order the run calls them. Several strategies compose
// (`strategies: [replay, ewc]`): each hook is called for every strategy that
// has it, in the order the experiment lists them, and the loop combines what
// they return (rows are appended, loss terms added, gradient replacements
// chained, masks added, weights multiplied). No hook assigns to the loop.
import type { Tensor } from '../tensor/tf.js';
import { commonFeatures, copyFeatures, type Examples } from './data.js';
import type { Model } from './model.js';
import type { NamedTensors } from './optimizer.js';
import type { Task, TaskStream } from './stream.js';
import type { ScenarioView } from './scenario.js';
import type { Snapshot } from './snapshot.js';

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
  // Bytes stay bytes when every set holds bytes (a replay memory of byte images beside a byte task).
  const features = commonFeatures(sets, count * size);
  const labels = new Int32Array(count);
  const taskIds = new Int32Array(count);
  let at = 0;
  for (const s of sets) {
    copyFeatures(s.features, features, at * size);
    labels.set(s.labels, at);
    taskIds.set(s.taskIds, at);
    at += s.count;
  }
  return { features, labels, taskIds, count };
}

export const EMPTY_TRAINING_SET: TrainingSet = {
  features: new Float32Array(0),
  labels: new Int32Array(0),
  taskIds: new Int32Array(0),
  count: 0,
};

/**
 * Tensors a strategy carries from step to step (SI's path integral, DER's
 * device-resident buffer). The loop owns them: it keeps what a hook returns
 * and disposes what the new record no longer holds, so strategies never call
 * tf.keep or dispose inside a step.
 */
export type StrategyState = Readonly<Record<string, Tensor>>;

export interface TaskContext {
  readonly task: Task;
  readonly stream: TaskStream;
  readonly model: Model;
  readonly scenario: ScenarioView;
  /** The sampler's subset of any task's training examples, as a training set. */
  sampledTrainingSet(task: Task): TrainingSet;
  /** This strategy's step state as it stands. */
  readonly state: StrategyState;
  /**
   * 'hidden' (`online.boundaries`): the task is the whole stream and no hook marks where one of its tasks ends, so
   * a strategy must learn what it keeps from the steps. Absent: 'given'.
   */
  readonly boundaries?: 'given' | 'hidden';
}

/** What `onTaskStart` may ask of the loop. */
export interface TaskStartResult {
  /**
   * Restore the model to its initial parameters and the optimizer to a fresh
   * state before this task trains (GDumb retrains from scratch on its memory).
   */
  resetModel?: boolean;
  /** Replaces the strategy's step state. */
  state?: Record<string, Tensor>;
}

export interface TrainingContext extends TaskContext {
  /** What this task trains on (after every strategy's `trainingSet`). */
  readonly data: TrainingSet;
  readonly steps: number;
  readonly batchSize: number;
  /** Rows of the sampled batch at `step` (1-based): the last batch of an epoch may be short. */
  rowsAt(step: number): number;
}

/** The sampled rows of one step, before any strategy adds to them. */
export interface StepBatch {
  /** 1-based within the task. */
  readonly step: number;
  readonly size: number;
  readonly x: Tensor;
  /** [size] int32, scenario labels. */
  readonly labels: Tensor;
  readonly taskIds: Tensor;
}

/** Rows a strategy appends to the step's batch (replayed rows). */
export interface ExtraRows {
  readonly x: Tensor;
  /** [n] int32 scenario labels. */
  readonly labels: Tensor;
  readonly taskIds: Tensor;
  /**
   * Weight of each of these rows in the base cross-entropy, relative to a
   * sampled row (the base loss is the weighted mean over all rows). Default 1.
   * 0 keeps the rows out of the base loss: only the strategy's own loss term
   * uses them (DER's logit rows).
   */
  readonly weight?: number;
  /** Stored logits [n, outputs] as targets (DER), handed back in `LossContext.own`. */
  readonly logits?: Tensor;
  /** Additive logit mask of these rows in the base loss: [outputs] or [n, outputs]. */
  readonly mask?: Tensor;
}

/** What `composeBatch` returns: rows to add, and how the sampled rows enter the base loss. */
export interface BatchPlan {
  readonly rows?: ExtraRows | readonly ExtraRows[];
  /** Multiplies the sampled rows' weight in the base cross-entropy (iCaRL: 0, its own loss replaces it). */
  readonly currentWeight?: number;
  /** Additive logit mask of the sampled rows in the base loss (ER-ACE): [outputs] or [size, outputs]. */
  readonly currentMask?: Tensor;
}

/** Where one set of a strategy's rows sits in the composed batch. */
export interface RowSlice {
  readonly start: number;
  readonly count: number;
  readonly rows: ExtraRows;
}

/** Inside the gradient tape. */
export interface LossContext {
  readonly step: number;
  readonly params: NamedTensors;
  /** Every row of the composed batch: the sampled rows first, then each strategy's rows in order. */
  readonly x: Tensor;
  /** The model's outputs for `x`. */
  readonly rawLogits: Tensor;
  /** `rawLogits` with the scenario's per-task masks added (what the base loss and evaluation use). */
  readonly logits: Tensor;
  readonly labels: Tensor;
  readonly taskIds: Tensor;
  /** [rows] float32: 1 for rows any strategy added, 0 for sampled rows. */
  readonly replayed: Tensor;
  /** The first `sampled` rows are the step's sampled batch. */
  readonly sampled: number;
  /** This strategy's own rows, in the order its `composeBatch` returned them. */
  readonly own: readonly RowSlice[];
  readonly state: StrategyState;
}

export interface GradientContext {
  readonly step: number;
  readonly params: NamedTensors;
  /**
   * The gradients as they stand (after earlier strategies' replacements), by parameter name: the trained parameters
   * only (see `train.params`, `phases`).
   */
  readonly grads: NamedTensors;
  readonly state: StrategyState;
  /** Gradients of the scenario-masked mean cross-entropy on other rows, at the current parameters (A-GEM, GEM). */
  gradientsOf(x: Tensor, labels: Tensor, taskIds: Tensor): NamedTensors;
}

export interface AfterStepContext {
  readonly step: number;
  /** Parameters after the optimizer step. */
  readonly params: NamedTensors;
  /** The gradients the optimizer was given: none for frozen parameters. */
  readonly grads: NamedTensors;
  /** The sampled rows and the model's raw outputs for them during the step (DER stores these). */
  readonly batch: StepBatch & { readonly logits: Tensor };
  readonly state: StrategyState;
}

export interface PredictContext {
  /** [n, features] test examples. */
  readonly x: Tensor;
  /** The model's raw outputs for `x`. */
  readonly logits: Tensor;
}

/**
 * A continual-learning strategy. Every hook is optional. Per task the run
 * calls, for each strategy in the listed order:
 *
 *  1. `onTaskStart` — may reset the model (GDumb) or replace step state;
 *  2. `trainingSet` — what the task trains on (joint, cumulative, iCaRL, GDumb); the last strategy that has one wins;
 *  3. `onTrainingStart` — with the step count: upload memories, draw replay indices;
 *  4. each step, inside one tf.tidy:
 *     `composeBatch` → forward → base loss + every `loss` term → gradients →
 *     `gradients` (each may replace them; chained in order) → optimizer step → `afterStep`;
 *  5. `onTaskEnd` — consolidate (importances, exemplars, buffers);
 *  and at evaluation, `predict` may replace the model's scores (iCaRL's nearest mean of exemplars).
 *
 * Tensors kept across tasks are created outside steps (in onTaskStart,
 * onTrainingStart, onTaskEnd) and freed in dispose(); tensors that change
 * every step live in the loop-owned step state.
 */
export interface Strategy {
  readonly name: string;
  onTaskStart?(ctx: TaskContext): void | TaskStartResult | Promise<void | TaskStartResult>;
  trainingSet?(ctx: TaskContext): TrainingSet;
  onTrainingStart?(ctx: TrainingContext): void | Promise<void>;
  composeBatch?(batch: StepBatch, state: StrategyState): BatchPlan | undefined;
  loss?(ctx: LossContext): Tensor | undefined;
  gradients?(ctx: GradientContext): NamedTensors | undefined;
  /** Returns the new step state (tensors created in this step), or undefined to keep it. */
  afterStep?(ctx: AfterStepContext): Record<string, Tensor> | undefined;
  onTaskEnd?(ctx: TaskContext & { trained: TrainingSet }): void | Promise<void>;
  predict?(ctx: PredictContext): Tensor | undefined;
  /**
   * The strategy's state between tasks (after `onTaskEnd`: memories,
   * importances, its random generators' positions), for a checkpoint. Return
   * live tensors; the writer reads them. Step state is the loop's and is
   * saved without this hook. A strategy without `checkpoint` and `restore`
   * turns a run's checkpoints off (its resume could not be exact).
   */
  checkpoint?(): Snapshot;
  /**
   * Puts a `checkpoint()` back into a freshly created strategy, before the
   * next task's `onTaskStart`. Copy (tf.clone) the tensors you keep: the run
   * frees the snapshot's tensors afterwards.
   */
  restore?(snapshot: Snapshot): void;
  dispose?(): void;
}

/**
 * What a strategy plugin claims exclusively: two strategies that both replace
 * evaluation-time prediction, or both decide the training set, cannot be
 * combined (the experiment is rejected before training, naming both).
 */
export const STRATEGY_ROLES = ['prediction', 'training-set', 'model-reset'] as const;
export type StrategyRole = (typeof STRATEGY_ROLES)[number];
