// Memories on the backend, built so that a training step only slices and
// gathers: every step's random indices are drawn on the host before the task
// trains and uploaded once, and nothing is read back.
import { tf } from '../tensor/tf.js';
import type { Rng } from '../tensor/rng.js';
import { requireMemory } from './budget.js';
import type { StepBatch, StrategyState, TrainingSet } from '../contracts/strategy.js';
import type { Snapshot } from '../contracts/snapshot.js';
import { featureValues } from '../contracts/data.js';

export interface DeviceRows {
  x: tf.Tensor;
  labels: tf.Tensor;
  taskIds: tf.Tensor;
}

/**
 * A fixed set of examples (a host memory's contents) on the backend, with a
 * minibatch of `perStep` uniformly drawn rows for each step of a task.
 * Create it outside any step (onTrainingStart); `batch` runs inside a step.
 */
export class MemoryBatches {
  private readonly x: tf.Tensor2D;
  private readonly labels: tf.Tensor1D;
  private readonly taskIds: tf.Tensor1D;
  private readonly order: tf.Tensor2D;
  readonly perStep: number;

  constructor(data: TrainingSet, steps: number, perStep: number, rng: Rng) {
    if (data.count === 0) throw new Error('MemoryBatches needs at least one example');
    this.perStep = Math.min(perStep, data.count);
    const size = data.features.length / data.count;
    // Each minibatch without repeats (as the reference implementations draw them); minibatches are independent.
    const order = new Int32Array(Math.max(steps, 1) * this.perStep);
    for (let s = 0; s < Math.max(steps, 1); s++) rng.distinct(data.count, this.perStep, order, s * this.perStep);
    this.x = tf.tensor2d(featureValues(data.features), [data.count, size]);
    this.labels = tf.tensor1d(data.labels, 'int32');
    this.taskIds = tf.tensor1d(data.taskIds, 'int32');
    this.order = tf.tensor2d(order, [Math.max(steps, 1), this.perStep], 'int32');
  }

  /** Every stored row (GEM's per-task gradients use the whole memory). */
  get all(): DeviceRows {
    return { x: this.x, labels: this.labels, taskIds: this.taskIds };
  }

  /** The rows drawn for `step` (1-based). */
  batch(step: number): DeviceRows {
    const idx = tf.reshape(tf.slice(this.order, [step - 1, 0], [1, this.perStep]), [this.perStep]);
    return { x: tf.gather(this.x, idx), labels: tf.gather(this.labels, idx), taskIds: tf.gather(this.taskIds, idx) };
  }

  dispose(): void {
    tf.dispose([this.x, this.labels, this.taskIds, this.order]);
  }
}

/**
 * Refuses, before training, a reservoir the backend cannot hold: its tensors (features, labels, task ids and, for
 * DER, `logits` outputs per row) are allocated whole when the first task starts. `field` is the option that sets the
 * capacity.
 */
export function requireReservoirMemory(field: string, capacity: number, featureSize: number, logits: number): void {
  const rows = capacity + 1;
  requireMemory(field, `a memory of ${capacity} examples`, rows * (featureSize + 2 + logits) * 4, rows * featureSize);
}

/**
 * A reservoir memory filled during training, on the backend (DER, DER++,
 * ER-ACE): after each step the sampled rows enter it by Vitter's algorithm R,
 * with the model's outputs for them when `withLogits` (DER's targets). Which
 * slot each example takes depends only on how many examples were seen, so
 * the host draws every step's slots before the task trains; the step itself
 * only scatters. Its tensors are the owning strategy's step state.
 */
export class DeviceReservoir {
  private seen = 0;
  /**
   * With `excludeTask` plans: the task whose example each slot holds (-1: empty), so a task's replay can leave its own
   * rows out (Aljundi et al.'s ER and MIR replay only earlier tasks' rows).
   */
  private slotTask?: Int32Array;
  /** Per step of the current task: slots for its rows (trash slot = capacity), rows in memory before the step. */
  private slots?: tf.Tensor2D;
  private samples?: tf.Tensor2D;
  private filledBefore: number[] = [];
  private perStep = 0;

  constructor(
    readonly capacity: number,
    private readonly withLogits: boolean,
    private readonly rng: Rng,
  ) {}

  /** Empty memory tensors (one extra trash row that absorbs the rows not kept). */
  initialState(featureSize: number, outputs: number): Record<string, tf.Tensor> {
    const rows = this.capacity + 1;
    const state: Record<string, tf.Tensor> = {
      x: tf.zeros([rows, featureSize]),
      labels: tf.zeros([rows], 'int32'),
      taskIds: tf.zeros([rows], 'int32'),
    };
    if (this.withLogits) state.logits = tf.zeros([rows, outputs]);
    return state;
  }

  /**
   * Draws the task's insertion slots and `perStep` replay indices per step; call outside any step. `exclude`: replay
   * only rows of other tasks than `exclude.task` (the task about to train; needs task boundaries).
   */
  planTask(
    steps: number,
    batchSize: number,
    rowsAt: (step: number) => number,
    perStep: number,
    exclude?: { task: number },
  ): void {
    this.disposePlan();
    this.perStep = perStep;
    const slots = new Int32Array(Math.max(steps, 1) * batchSize).fill(this.capacity);
    const samples = new Int32Array(Math.max(steps, 1) * this.perStep);
    this.filledBefore = [];
    if (exclude) this.slotTask ??= new Int32Array(this.capacity).fill(-1);
    for (let s = 0; s < steps; s++) {
      const filled = Math.min(this.seen, this.capacity);
      // The rows a step may replay: every filled one, or those of other tasks.
      const valid = exclude ? this.rowsNotOf(exclude.task, filled) : undefined;
      const count = valid ? valid.length : filled;
      this.filledBefore.push(count);
      // Without repeats while the memory holds enough rows; with them only early on, while it is filling.
      const at = s * this.perStep;
      if (count >= this.perStep) this.rng.distinct(count, this.perStep, samples, at);
      else if (count > 0) for (let k = 0; k < this.perStep; k++) samples[at + k] = this.rng.int(count);
      if (valid && count > 0) for (let k = 0; k < this.perStep; k++) samples[at + k] = valid[samples[at + k]];
      const rows = rowsAt(s + 1);
      const taken = new Map<number, number>();
      for (let r = 0; r < rows; r++) {
        this.seen += 1;
        const slot = this.seen <= this.capacity ? this.seen - 1 : this.rng.int(this.seen);
        if (slot < this.capacity) {
          // Two rows of one step drawn for one slot: the later one wins, as in a sequential reservoir.
          const earlier = taken.get(slot);
          if (earlier !== undefined) slots[s * batchSize + earlier] = this.capacity;
          taken.set(slot, r);
          slots[s * batchSize + r] = slot;
          if (exclude) this.slotTask![slot] = exclude.task;
        }
      }
    }
    this.slots = tf.tensor2d(slots, [Math.max(steps, 1), batchSize], 'int32');
    this.samples = tf.tensor2d(samples, [Math.max(steps, 1), this.perStep], 'int32');
  }

  private rowsNotOf(task: number, filled: number): Int32Array {
    const rows: number[] = [];
    for (let i = 0; i < filled; i++) if (this.slotTask![i] !== task) rows.push(i);
    return Int32Array.from(rows);
  }

  /** How many examples it has seen and its generator's position (the rows themselves are step state). */
  snapshot(): Snapshot {
    return {
      capacity: this.capacity,
      seen: this.seen,
      rng: this.rng.state(),
      ...(this.slotTask ? { slotTask: Array.from(this.slotTask) } : {}),
    };
  }

  restore(s: Snapshot): void {
    if (s.capacity !== this.capacity)
      throw new Error(
        `reservoir snapshot of capacity ${JSON.stringify(s.capacity)} does not fit a reservoir of ${this.capacity}`,
      );
    this.seen = s.seen as number;
    this.rng.setState(s.rng as number[]);
    this.slotTask = s.slotTask ? Int32Array.from(s.slotTask as number[]) : undefined;
  }

  /** Rows a step may replay (1-based `step`): 0 means nothing to replay yet. */
  filled(step: number): number {
    return this.filledBefore[step - 1] ?? 0;
  }

  /** The replay minibatch of `step` (inside the step), drawn from the rows filled before it. */
  sample(step: number, state: StrategyState): (DeviceRows & { logits?: tf.Tensor }) | undefined {
    if (!this.samples || this.filled(step) === 0) return undefined;
    const idx = tf.reshape(tf.slice(this.samples, [step - 1, 0], [1, this.perStep]), [this.perStep]);
    return {
      x: tf.gather(state.x, idx),
      labels: tf.gather(state.labels, idx),
      taskIds: tf.gather(state.taskIds, idx),
      logits: state.logits ? tf.gather(state.logits, idx) : undefined,
    };
  }

  /** The memory after `batch` entered it (inside the step): the new step state. */
  insert(batch: StepBatch & { logits: tf.Tensor }, state: StrategyState): Record<string, tf.Tensor> {
    if (!this.slots) throw new Error('DeviceReservoir.planTask must run before the task trains');
    const idx = tf.reshape(tf.slice(this.slots, [batch.step - 1, 0], [1, batch.size]), [batch.size, 1]);
    const next: Record<string, tf.Tensor> = {
      x: tf.tensorScatterUpdate(state.x, idx, batch.x),
      labels: tf.tensorScatterUpdate(state.labels, idx, batch.labels),
      taskIds: tf.tensorScatterUpdate(state.taskIds, idx, batch.taskIds),
    };
    if (state.logits) next.logits = tf.tensorScatterUpdate(state.logits, idx, batch.logits);
    return next;
  }

  private disposePlan(): void {
    this.slots?.dispose();
    this.samples?.dispose();
    this.slots = this.samples = undefined;
  }

  dispose(): void {
    this.disposePlan();
  }
}
