// A run's optimizers: one per phase of a task (one without phases), each with
// its own state, carried from one task's phase to the next task's same
// phase. They are saved and restored together, and replaced together when a
// strategy restarts the model (GDumb), keeping the count of steps taken.
import type { Snapshot } from '../contracts/snapshot.js';
import { Optimizer, type SavedOptimizerState } from '../optim/optimizer.js';
import type { AnchorStore } from '../optim/anchors.js';
import type { PhasePlan } from './phases.js';

export class PhaseOptimizers {
  private optimizers: Optimizer[];
  /** Steps of optimizers replaced by a model reset. */
  private prior = 0;

  constructor(
    private readonly plans: readonly PhasePlan[],
    private readonly anchors: AnchorStore,
    private readonly rowAxis: Readonly<Record<string, number>>,
  ) {
    this.optimizers = this.fresh();
  }

  private fresh(): Optimizer[] {
    return this.plans.map((p) => new Optimizer(p.component, p.trainable, this.anchors, this.rowAxis));
  }

  of(phase: number): Optimizer {
    return this.optimizers[phase];
  }

  /** Optimizer steps the run has taken, over every phase's optimizer and every reset. */
  get steps(): number {
    return this.prior + this.optimizers.reduce((sum, o) => sum + o.stepCount, 0);
  }

  /** Steps of optimizers a reset replaced (part of a checkpoint taken between tasks). */
  get priorSteps(): number {
    return this.prior;
  }

  set priorSteps(steps: number) {
    this.prior = steps;
  }

  onTaskStart(): void {
    for (const o of this.optimizers) o.onTaskStart();
  }

  /** Fresh optimizers (the model restarts from its initial parameters); the steps taken so far still count. */
  reset(): void {
    this.prior = this.steps;
    for (const o of this.optimizers) o.dispose();
    this.optimizers = this.fresh();
  }

  /** Every phase's state; the first phase keeps the key runs without phases always had. */
  save(): Snapshot {
    const [first, ...later] = this.optimizers;
    return {
      optimizer: first.save() as unknown as Snapshot,
      ...(later.length ? { phaseOptimizers: later.map((o) => o.save() as unknown as Snapshot) } : {}),
    };
  }

  load(saved: Snapshot): void {
    const later = (saved.phaseOptimizers ?? []) as unknown as SavedOptimizerState[];
    if (later.length !== this.optimizers.length - 1) {
      throw new Error(
        `checkpoint: it holds ${later.length + 1} phase optimizer states, the run has ${this.optimizers.length} phases`,
      );
    }
    this.optimizers[0].load(saved.optimizer as unknown as SavedOptimizerState);
    later.forEach((state, i) => this.optimizers[i + 1].load(state));
  }

  dispose(): void {
    for (const o of this.optimizers) o.dispose();
  }
}
