// Runs the hooks of several strategies in their listed order and combines
// what they return; owns their step state (keeps what a hook returns, frees
// what it replaces). The run loop (run.ts, train-task.ts) is its only caller.
import { tf } from '../tensor/tf.js';
import type { NamedTensors } from '../contracts/optimizer.js';
import type {
  AfterStepContext,
  ExtraRows,
  GradientContext,
  LossContext,
  RowSlice,
  StepBatch,
  Strategy,
  StrategyState,
  TaskContext,
  TrainingContext,
  TrainingSet,
} from '../contracts/strategy.js';
import type { Snapshot } from '../contracts/snapshot.js';

/** The composed batch of one step: sampled rows first, then each strategy's rows. */
export interface ComposedBatch {
  x: tf.Tensor;
  labels: tf.Tensor;
  taskIds: tf.Tensor;
  rows: number;
  sampled: number;
  /** Per strategy, its row sets' places. */
  own: RowSlice[][];
  /** [rows] 1 for added rows; built only when a strategy has a loss term. */
  replayed?: tf.Tensor;
  /** Per-row weights of the base loss and their sum (host numbers), or undefined when every row weighs 1. */
  weights?: { values: tf.Tensor; total: number };
  /** Additive [rows, outputs] mask of the base loss, or undefined. */
  mask?: tf.Tensor;
}

type WithoutState<C> = Omit<C, 'state'>;

export class StrategyPipeline {
  private states: Record<string, tf.Tensor>[];
  private readonly withLoss: Strategy[];
  private readonly withGradients: Strategy[];
  readonly needsStepLogits: boolean;

  constructor(readonly strategies: readonly Strategy[]) {
    this.states = strategies.map(() => ({}));
    this.withLoss = strategies.filter((s) => s.loss);
    this.withGradients = strategies.filter((s) => s.gradients);
    this.needsStepLogits = strategies.some((s) => s.afterStep);
  }

  get name(): string {
    return this.strategies.map((s) => s.name).join('+');
  }

  get hasGradientStage(): boolean {
    return this.withGradients.length > 0;
  }

  get hasLossTerms(): boolean {
    return this.withLoss.length > 0;
  }

  get hasAfterStep(): boolean {
    return this.needsStepLogits;
  }

  private state(i: number): StrategyState {
    return this.states[i];
  }

  /** Replaces strategy i's state: keeps the new tensors, frees the old ones the new record does not reuse. */
  private replaceState(i: number, next: Record<string, tf.Tensor>): void {
    const reused = new Set(Object.values(next));
    for (const t of Object.values(next)) tf.keep(t);
    for (const t of Object.values(this.states[i])) if (!reused.has(t)) t.dispose();
    this.states[i] = { ...next };
  }

  async onTaskStart(ctx: WithoutState<TaskContext>): Promise<{ resetModel: boolean }> {
    let resetModel = false;
    for (const [i, s] of this.strategies.entries()) {
      const r = await s.onTaskStart?.({ ...ctx, state: this.state(i) });
      if (!r) continue;
      if (r.resetModel) resetModel = true;
      if (r.state) this.replaceState(i, r.state);
    }
    return { resetModel };
  }

  /** The last strategy that decides the training set wins (validation lets only one claim it). */
  trainingSet(ctx: WithoutState<TaskContext>): TrainingSet | undefined {
    let set: TrainingSet | undefined;
    for (const [i, s] of this.strategies.entries()) set = s.trainingSet?.({ ...ctx, state: this.state(i) }) ?? set;
    return set;
  }

  async onTrainingStart(ctx: WithoutState<TrainingContext>): Promise<void> {
    for (const [i, s] of this.strategies.entries()) await s.onTrainingStart?.({ ...ctx, state: this.state(i) });
  }

  async onTaskEnd(ctx: WithoutState<TaskContext> & { trained: TrainingSet }): Promise<void> {
    for (const [i, s] of this.strategies.entries()) await s.onTaskEnd?.({ ...ctx, state: this.state(i) });
  }

  /** Inside the step's tidy: the sampled rows plus every strategy's rows, weights and masks. */
  compose(batch: StepBatch, outputs: number): ComposedBatch {
    const parts: {
      x: tf.Tensor;
      labels: tf.Tensor;
      taskIds: tf.Tensor;
      count: number;
      weight: number;
      mask?: tf.Tensor;
    }[] = [];
    let currentWeight = 1;
    const currentMasks: tf.Tensor[] = [];
    const own: RowSlice[][] = this.strategies.map(() => []);
    let at = batch.size;
    for (const [i, s] of this.strategies.entries()) {
      const plan = s.composeBatch?.(batch, this.state(i));
      if (!plan) continue;
      if (plan.currentWeight !== undefined) currentWeight *= plan.currentWeight;
      if (plan.currentMask) currentMasks.push(plan.currentMask);
      const sets: readonly ExtraRows[] =
        plan.rows === undefined ? [] : Array.isArray(plan.rows) ? plan.rows : [plan.rows as ExtraRows];
      for (const rows of sets) {
        const count = rows.x.shape[0];
        own[i].push({ start: at, count, rows });
        parts.push({
          x: rows.x,
          labels: rows.labels,
          taskIds: rows.taskIds,
          count,
          weight: rows.weight ?? 1,
          mask: rows.mask,
        });
        at += count;
      }
    }
    const composed: ComposedBatch = {
      x: batch.x,
      labels: batch.labels,
      taskIds: batch.taskIds,
      rows: at,
      sampled: batch.size,
      own,
    };
    if (parts.length) {
      composed.x = tf.concat([batch.x, ...parts.map((p) => p.x)]);
      composed.labels = tf.concat([batch.labels, ...parts.map((p) => p.labels)]);
      composed.taskIds = tf.concat([batch.taskIds, ...parts.map((p) => p.taskIds)]);
    }
    // The row layout repeats from step to step: its per-row vectors are built once and reused.
    const layout = `${batch.size}|${currentWeight}|${parts.map((p) => `${p.count}x${p.weight}`).join(',')}`;
    if (this.withLoss.length)
      composed.replayed = this.cached(`replayed|${layout}`, () =>
        Float32Array.from({ length: at }, (_, i) => (i < batch.size ? 0 : 1)),
      );
    if (currentWeight !== 1 || parts.some((p) => p.weight !== 1)) {
      const values = this.cached(`weights|${layout}`, () => {
        const v = new Float32Array(at);
        v.fill(currentWeight, 0, batch.size);
        let k = batch.size;
        for (const p of parts) {
          v.fill(p.weight, k, k + p.count);
          k += p.count;
        }
        return v;
      });
      composed.weights = {
        values,
        total: currentWeight * batch.size + parts.reduce((a, p) => a + p.weight * p.count, 0),
      };
    }
    if (currentMasks.length || parts.some((p) => p.mask)) {
      const rowsMask = (mask: tf.Tensor | undefined, count: number) =>
        mask ? tf.broadcastTo(mask, [count, outputs]) : tf.zeros([count, outputs]);
      const current = currentMasks.length ? currentMasks.reduce((a, m) => tf.add(a, m)) : undefined;
      composed.mask = tf.concat([rowsMask(current, batch.size), ...parts.map((p) => rowsMask(p.mask, p.count))]);
    }
    return composed;
  }

  private readonly rowVectors = new Map<string, tf.Tensor1D>();

  /** A per-row constant vector for one batch layout, uploaded once (kept until dispose). */
  private cached(key: string, build: () => Float32Array): tf.Tensor1D {
    let t = this.rowVectors.get(key);
    if (!t) {
      t = tf.keep(tf.tensor1d(build()));
      this.rowVectors.set(key, t);
    }
    return t;
  }

  /** Inside the tape: the sum of every strategy's loss term, or undefined. */
  lossTerms(ctx: Omit<LossContext, 'own' | 'state'>, own: RowSlice[][]): tf.Tensor | undefined {
    let total: tf.Tensor | undefined;
    for (const [i, s] of this.strategies.entries()) {
      if (!s.loss) continue;
      const term = s.loss({ ...ctx, own: own[i], state: this.state(i) });
      if (term) total = total ? tf.add(total, term) : term;
    }
    return total;
  }

  /** Each strategy's gradient stage in turn; each sees the previous one's result. */
  gradients(ctx: WithoutState<GradientContext>): NamedTensors {
    let grads = ctx.grads;
    for (const [i, s] of this.strategies.entries()) {
      if (!s.gradients) continue;
      grads = s.gradients({ ...ctx, grads, state: this.state(i) }) ?? grads;
    }
    return grads;
  }

  /** Inside the step's tidy: each strategy's new state (returned out of the tidy, then committed). */
  afterStep(ctx: WithoutState<AfterStepContext>): (Record<string, tf.Tensor> | undefined)[] {
    return this.strategies.map((s, i) => s.afterStep?.({ ...ctx, state: this.state(i) }));
  }

  /** After the step's tidy: the states it returned replace the old ones. */
  commit(next: (Record<string, tf.Tensor> | undefined)[]): void {
    next.forEach((state, i) => {
      if (state) this.replaceState(i, state);
    });
  }

  /** Can every strategy save and restore its state (so that a checkpoint resumes exactly)? Names those that cannot. */
  get notCheckpointable(): string[] {
    return this.strategies.filter((s) => !s.checkpoint || !s.restore).map((s) => s.name);
  }

  /** For a checkpoint: each strategy's step state (live tensors) and its own snapshot. */
  checkpoint(): Snapshot {
    return { steps: this.states.map((st) => ({ ...st })), strategies: this.strategies.map((s) => s.checkpoint!()) };
  }

  /** Puts a `checkpoint()` back (step states copied; the caller frees the snapshot's tensors). */
  restore(snapshot: Snapshot): void {
    const steps = snapshot.steps as Snapshot[];
    const own = snapshot.strategies as Snapshot[];
    if (steps.length !== this.strategies.length || own.length !== this.strategies.length)
      throw new Error(
        `checkpoint holds ${own.length} strategies; this run has ${this.strategies.length} (${this.name})`,
      );
    this.strategies.forEach((s, i) => s.restore!(own[i]));
    this.restoreSteps(steps);
  }

  /** Replaces only the step states (a checkpoint taken within a task). */
  restoreSteps(steps: readonly Snapshot[]): void {
    steps.forEach((st, i) =>
      this.replaceState(i, Object.fromEntries(Object.entries(st).map(([k, t]) => [k, tf.clone(t as tf.Tensor)]))),
    );
  }

  /** The step states alone (live tensors). */
  stepStates(): Snapshot[] {
    return this.states.map((st) => ({ ...st }));
  }

  /** The strategy that replaces evaluation-time prediction, if any. */
  get predictor(): Strategy['predict'] {
    const s = this.strategies.find((x) => x.predict);
    return s?.predict?.bind(s);
  }

  dispose(): void {
    for (const s of this.strategies) s.dispose?.();
    for (const st of this.states) tf.dispose(Object.values(st));
    tf.dispose([...this.rowVectors.values()]);
    this.rowVectors.clear();
    this.states = this.strategies.map(() => ({}));
  }
}
