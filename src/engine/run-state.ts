// What a checkpoint holds of a run and how it goes back: the parameters, the
// model's own state (batch norm's statistics, dropout draws), every phase's
// optimizer, and the strategies' state — between tasks all of it, within a
// task the parts a step changes. Also the one other way a run's state is
// replaced: a strategy restarting the model from its initial parameters.
import { tf } from '../tensor/tf.js';
import type { Model } from '../contracts/model.js';
import type { Snapshot } from '../contracts/snapshot.js';
import type { AnchorStore } from '../optim/anchors.js';
import type { PhaseOptimizers } from './phase-optimizers.js';
import type { StrategyPipeline } from './pipeline.js';
import { release } from './checkpointing.js';

export class RunState {
  /** Training examples sampled from the stream so far (where continual evaluation and hidden boundaries fall). */
  seen = 0;
  /** The model's buffers as the run began (what a model reset restores; parameters come from the anchor store). */
  private readonly initialBuffers = new Map<string, tf.Tensor>();

  constructor(
    private readonly model: Model,
    private readonly optimizers: PhaseOptimizers,
    private readonly pipeline: StrategyPipeline,
    private readonly anchors: AnchorStore,
  ) {
    for (const [name, b] of model.buffers ?? []) this.initialBuffers.set(name, tf.clone(b));
  }

  /** Before a task: everything the rest of the run depends on (live tensors, read by the writer). */
  captureBoundary(): Snapshot {
    return {
      params: this.params(),
      model: this.modelState(),
      ...this.optimizers.save(),
      pipeline: this.pipeline.checkpoint(),
      priorSteps: this.optimizers.priorSteps,
      seen: this.seen,
    };
  }

  /** Within a task: what the steps change. */
  captureWithin(): Snapshot {
    return {
      params: this.params(),
      model: this.modelState(),
      ...this.optimizers.save(),
      steps: this.pipeline.stepStates(),
      seen: this.seen,
    };
  }

  /** Puts a boundary checkpoint back and frees its tensors. */
  restoreBoundary(saved: Snapshot): void {
    this.assignParams(saved.params as Snapshot);
    this.restoreModelState(saved.model as Snapshot | undefined);
    this.optimizers.load(saved);
    this.pipeline.restore(saved.pipeline as Snapshot);
    this.optimizers.priorSteps = saved.priorSteps as number;
    this.seen = (saved.seen as number | undefined) ?? 0;
    release(saved);
  }

  /** Puts a checkpoint within a task back (after the task's set-up) and frees its tensors. */
  restoreWithin(saved: Snapshot): void {
    this.assignParams(saved.params as Snapshot);
    this.restoreModelState(saved.model as Snapshot | undefined);
    this.optimizers.load(saved);
    this.pipeline.restoreSteps(saved.steps as Snapshot[]);
    this.seen = (saved.seen as number | undefined) ?? this.seen;
    release(saved);
  }

  /** The model starts again from the run's initial parameters and buffers, with fresh optimizers (GDumb). */
  resetModel(): void {
    const initial = this.anchors.get('initial', this.model.params);
    for (const [name, v] of this.model.params) v.assign(initial[name]);
    for (const [name, b] of this.model.buffers ?? []) b.assign(this.initialBuffers.get(name)!);
    this.optimizers.reset();
  }

  private params(): Snapshot {
    return Object.fromEntries(this.model.params);
  }

  private assignParams(saved: Snapshot): void {
    for (const [name, v] of this.model.params) {
      const t = saved[name] as tf.Tensor | undefined;
      if (!t || t.shape.join('x') !== v.shape.join('x'))
        throw new Error(`checkpoint: parameter ${name} is missing or has another shape`);
      v.assign(t);
    }
  }

  private modelState(): Snapshot {
    return this.model.snapshot?.() ?? {};
  }

  private restoreModelState(saved: Snapshot | undefined): void {
    if (saved && this.model.restore) this.model.restore(saved);
  }

  dispose(): void {
    tf.dispose([...this.initialBuffers.values()]);
  }
}
