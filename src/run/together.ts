// Several runs trained as one (`anchorage run --together K`). Each run keeps
// its own run loop — data order, strategies, evaluation, results — and at
// every training step hands the group a request; once every run still
// training has asked, the group takes one step for all of them: the runs'
// rows concatenated, one forward pass of the stacked models
// (src/models/stacked-layers.ts), each run's own loss, one backward pass and
// one optimizer step over the parameters stacked along a leading run axis.
// A run's own parameters are brought up to date when its training of a task
// ends (what its evaluation and its strategies' task hooks read), and the
// stack is rebuilt from them when the next task's training begins.
import { tf } from '../tensor/tf.js';
import { variableGrads } from '../tensor/grads.js';
import type { NamedTensors, OptimizerComponent, Schedule } from '../contracts/optimizer.js';
import type { ResolvedComponent } from '../spec/spec.js';
import { canonicalJson } from '../spec/validate.js';
import type { LayerSpec } from '../models/layer-graph.js';
import { applyStackedLayers, unstackableLayers } from '../models/stacked-layers.js';
import type { Model } from '../contracts/model.js';
import type { Strategy } from '../contracts/strategy.js';
import type { RunConfig } from '../spec/spec.js';
import { Optimizer } from '../optim/optimizer.js';
import { AnchorStore } from '../optim/anchors.js';

/** What a run hands the group for one step; every callback runs inside the group's tidy. */
export interface LaneStep<R> {
  /** The run's rows for this step: [rows, features]. */
  rows(): tf.Tensor;
  /** Whether `loss` or `after` read the run's parameters (its slices of the stack are cut only then). */
  readonly needsParams: boolean;
  /** Whether `after` reads the run's gradients. */
  readonly needsGrads: boolean;
  /** The run's loss from its models' raw outputs [rows, outputs] (inside the gradient tape). */
  loss(rawLogits: tf.Tensor, params: NamedTensors): tf.Scalar;
  /**
   * When the optimizer's periodic phase (TPGM) is due after this step: the
   * run's next validation batch as rows, and its validation loss from the
   * stacked model's outputs for them. Absent for a run without validation data.
   */
  validation?(): { rows: tf.Tensor; loss(rawLogits: tf.Tensor): tf.Scalar };
  /**
   * After the optimizer step: the run's parameters and gradients as the step
   * left them (what after-step hooks read, as alone), `final` its parameters
   * after the periodic phase if one ran (else the same), and
   * `constraints()`, the run's constraint per tensor from the group's
   * optimizer (FTP's γ, PGD's and TPGM's radii; read at logging points).
   */
  after(ctx: { loss: tf.Scalar; rawLogits: tf.Tensor; params: NamedTensors; final: NamedTensors; grads: NamedTensors; constraints(): NamedTensors }): R;
}

/** A run's place in a group. */
export interface Lane {
  readonly index: number;
  readonly size: number;
  /** The group's runs, by id, in lane order. */
  readonly runs: readonly string[];
  /** The run joins with its model and optimizer (before its first step). */
  join(member: LaneMember): void;
  /** A task's training begins with `steps` planned steps: the stack is rebuilt from the runs' parameters at the next step. */
  enter(steps: number): void;
  /** One step, taken with every other run's. */
  step<R extends tf.TensorContainer>(request: LaneStep<R>): Promise<R>;
  /** Copies the run's slice of the stack into its own parameters (the end of a task's training). */
  sync(): void;
  /** The run stops training (finished, diverged, failed or skipped): the others go on without it. */
  leave(): void;
}

export interface LaneMember {
  readonly params: ReadonlyMap<string, tf.Variable>;
  readonly layers: readonly LayerSpec[];
  readonly inputShape: readonly number[];
  readonly rowAxis: Readonly<Record<string, number>>;
  readonly component: OptimizerComponent;
  /** The optimizer's settings without those its rule takes per run (optimizerKey): equal in every run of a group. */
  readonly optimizerKey: string;
}

interface Pending {
  request: LaneStep<tf.TensorContainer>;
  resolve(value: tf.TensorContainer): void;
  reject(error: unknown): void;
}

/** K runs' training steps, taken as one. */
export class StepGroup {
  private readonly members = new Map<number, LaneMember>();
  /** Runs still expected at the next step. */
  private readonly live: Set<number>;
  private readonly pending = new Map<number, Pending>();
  private stacked?: Map<string, tf.Variable>;
  /** The stack's names, by tfjs variable name (gradients come back under those), and as a record. */
  private stackedNames: string[] = [];
  private nameOf = new Map<string, string>();
  private record: NamedTensors = {};
  private optimizer?: Optimizer;
  private readonly anchors = new AnchorStore();
  /** Runs that began a task's training since the last step. */
  private readonly entered = new Set<number>();
  private taskSteps = 0;
  private reference?: LaneMember;

  readonly size: number;

  /** `runs`: the group's run ids, one lane each. */
  constructor(readonly runs: readonly string[]) {
    this.size = runs.length;
    this.live = new Set(Array.from({ length: this.size }, (_, i) => i));
  }

  lane(index: number): Lane {
    return {
      index,
      size: this.size,
      runs: this.runs,
      join: (member) => this.join(index, member),
      enter: (steps) => {
        this.entered.add(index);
        this.taskSteps = steps;
      },
      step: <R extends tf.TensorContainer>(request: LaneStep<R>) =>
        new Promise<R>((resolve, reject) => {
          if (!this.live.has(index)) return reject(new Error(`run ${index} of the group has left it`));
          this.pending.set(index, { request, resolve: resolve as (v: tf.TensorContainer) => void, reject });
          this.maybeStep();
        }),
      sync: () => this.sync(index),
      leave: () => this.leave(index),
    };
  }

  private join(index: number, member: LaneMember): void {
    const ref = this.reference;
    if (ref) {
      const shape = (m: LaneMember) => JSON.stringify({ layers: m.layers, input: m.inputShape, params: [...m.params].map(([n, v]) => [n, v.shape]) });
      if (shape(ref) !== shape(member)) throw new Error('runs trained together must have the same model architecture');
      if (ref.optimizerKey !== member.optimizerKey) throw new Error(`runs trained together must use the same optimizer settings (but for ${Object.keys(ref.component.perRun ?? {}).join(', ') || 'none'}): ${ref.component.description} against ${member.component.description}`);
    } else this.reference = member;
    this.members.set(index, member);
  }

  private leave(index: number): void {
    if (!this.live.delete(index)) return;
    const p = this.pending.get(index);
    if (p) {
      this.pending.delete(index);
      p.reject(new Error('left the group while a step was pending'));
    }
    if (this.live.size === 0) this.dispose();
    else this.maybeStep();
  }

  private maybeStep(): void {
    if (this.pending.size === 0 || this.pending.size < this.live.size) return;
    const entries = [...this.pending].sort((a, b) => a[0] - b[0]);
    this.pending.clear();
    let results: tf.TensorContainer[];
    const failures = new Map<number, unknown>();
    try {
      results = this.jointStep(entries, failures);
    } catch (e) {
      for (const [, p] of entries) p.reject(e);
      return;
    }
    entries.forEach(([, p], j) => (failures.has(j) ? p.reject(failures.get(j)) : p.resolve(results[j])));
  }

  /** The stack from each live run's own parameters; a run that left keeps its slice (zeros before the first step). */
  private restack(): void {
    const ref = this.reference!;
    const names = [...ref.params.keys()];
    if (!this.stacked) {
      this.stacked = new Map(
        names.map((name) => [name, tf.tidy(() => tf.variable(tf.stack(this.lanesOf(name, () => tf.zeros(ref.params.get(name)!.shape)))))]),
      );
      const stacked = this.stacked;
      this.stackedNames = names;
      this.nameOf = new Map(names.map((n) => [stacked.get(n)!.name, n]));
      this.record = Object.fromEntries(stacked);
      // Every parameter's row axis moves one along for the run axis (a row axis left out is 0).
      const rowAxis = Object.fromEntries(names.map((n) => [n, (ref.rowAxis[n] ?? 0) + 1]));
      this.anchors.snapshot('initial', this.stacked);
      this.optimizer = new Optimizer(ref.component, this.stacked, this.anchors, rowAxis, { runs: this.size, settings: this.differingSettings() });
    } else {
      for (const name of names) {
        const v = this.stacked.get(name)!;
        tf.tidy(() => {
          const old = tf.unstack(v);
          v.assign(tf.stack(this.lanesOf(name, (i) => old[i])));
        });
      }
    }
    if (ref.component.anchor === 'task-start') this.anchors.snapshot('task-start', this.stacked);
    this.optimizer!.onTaskStart();
    this.optimizer!.startTraining(this.taskSteps);
  }

  /** Each setting the runs do not share (e.g. their learning rates), one value per run; a run that left before joining takes the first run's. */
  private differingSettings(): Record<string, (number | Schedule)[]> {
    const ref = this.reference!;
    const out: Record<string, (number | Schedule)[]> = {};
    for (const [key, own] of Object.entries(ref.component.perRun ?? {})) {
      const values = Array.from({ length: this.size }, (_, i) => this.members.get(i)?.component.perRun?.[key] ?? own);
      // Schedules compare by their description; one without is taken to differ.
      const text = (v: number | Schedule) => (typeof v === 'number' ? String(v) : (v.describe?.() ?? `${Math.random()}`));
      if (new Set(values.map(text)).size > 1) out[key] = values;
    }
    return out;
  }

  private lanesOf(name: string, absent: (i: number) => tf.Tensor): tf.Tensor[] {
    return Array.from({ length: this.size }, (_, i) => (this.live.has(i) && this.members.has(i) ? this.members.get(i)!.params.get(name)! : absent(i)));
  }

  /**
   * One step for the runs that asked. A run whose own part of the step
   * throws (its rows, loss or after-step work) is recorded in `failures`
   * and fails alone: its rows and loss are left out, and the others' step
   * is taken as if it had left.
   */
  private jointStep(entries: [number, Pending][], failures: Map<number, unknown>): tf.TensorContainer[] {
    const ref = this.reference;
    if (!ref) throw new Error('no run joined the group before its first step');
    if (this.entered.size || !this.stacked) {
      // Runs share an optimizer's counters and schedule: they begin their tasks at the same step, or the plan was wrong.
      const behind = entries.filter(([i]) => !this.entered.has(i)).map(([i]) => i);
      if (behind.length) throw new Error(`runs trained together got out of step: run ${[...this.entered].join(', ')} began a task while run ${behind.join(', ')} had not finished its own`);
      this.restack();
      this.entered.clear();
    }
    const stacked = this.stacked!;
    const k = this.size;
    const { stackedNames: names, nameOf, record } = this;
    const slices = (values: NamedTensors): NamedTensors[] => {
      const out: NamedTensors[] = Array.from({ length: k }, () => ({}));
      for (const n of names) tf.unstack(values[n]).forEach((t, i) => (out[i][n] = t));
      return out;
    };
    const own = <T>(j: number, f: () => T): T | undefined => {
      try {
        return f();
      } catch (e) {
        failures.set(j, e);
        return undefined;
      }
    };
    const allFailed = () => {
      if (failures.size === entries.length) throw failures.get(0);
    };
    return tf.tidy(() => {
      const rows = entries.map(([, p], j) => own(j, () => p.request.rows())!);
      allFailed();
      const { x, batch } = this.laneRows(entries, rows, failures);
      const losses: tf.Scalar[] = [];
      const logits: tf.Tensor[] = [];
      // The kept losses and logits are freed however the step ends (a failed step must not leak them).
      try {
        const wantParams = entries.some(([, p]) => p.request.needsParams);
        const { grads } = variableGrads(() => {
          const out = applyStackedLayers(ref.layers, ref.inputShape, record, x, k);
          const params = wantParams ? slices(record) : [];
          // variableGrads frees what its function made but returns: what the runs' `after` reads is kept, and freed below.
          entries.forEach(([i, p], j) => {
            if (failures.has(j)) return;
            logits[j] = tf.keep(tf.slice(out, [i * batch, 0], [rows[j].shape[0], -1]));
            const loss = own(j, () => p.request.loss(logits[j], params[i] ?? {}));
            if (loss) losses[j] = tf.keep(loss);
          });
          allFailed();
          const terms = losses.filter((l, j) => l && !failures.has(j));
          return terms.length === 1 ? terms[0] : (tf.addN(terms) as tf.Scalar);
        }, [...stacked.values()]);
        const named: NamedTensors = {};
        for (const [varName, g] of Object.entries(grads)) named[nameOf.get(varName)!] = g;
        this.optimizer!.step(named);
        const after = wantParams ? slices(record) : [];
        const phased = this.optimizer!.phaseDue && this.runPhase(entries, failures, own);
        const final = phased && wantParams ? slices(record) : after;
        const gradSlices = entries.some(([, p]) => p.request.needsGrads) ? slices(named) : [];
        // Each run's constraints, cut from the stacked ones once per step at most (a constraint of rank 0 is every run's).
        let stackedConstraints: NamedTensors | undefined;
        const constraintsOf = (i: number): NamedTensors => {
          stackedConstraints ??= this.optimizer!.constraints();
          return Object.fromEntries(Object.entries(stackedConstraints).map(([n, c]) => [n, c.rank === 0 ? c : tf.reshape(tf.slice(c, [i], [1]), [])]));
        };
        return entries.map(([i, p], j) =>
          failures.has(j) ? [] : own(j, () => p.request.after({ loss: losses[j], rawLogits: logits[j], params: after[i] ?? {}, final: final[i] ?? {}, grads: gradSlices[i] ?? {}, constraints: () => constraintsOf(i) })) ?? [],
        );
      } finally {
        tf.dispose([...losses, ...logits].filter((t) => t));
      }
    });
  }

  /**
   * The runs' rows side by side, each padded to the most rows: a run that
   * has left, failed or asks for fewer rows gets zero rows no loss reads.
   */
  private laneRows(entries: [number, Pending][], rows: (tf.Tensor | undefined)[], failures: Map<number, unknown>): { x: tf.Tensor; batch: number } {
    const present = rows.filter((r, j): r is tf.Tensor => !!r && !failures.has(j));
    const width = present[0].shape[1]!;
    const batch = Math.max(...present.map((r) => r.shape[0]));
    const byLane = new Map(entries.flatMap(([i], j): [number, number][] => (failures.has(j) || !rows[j] ? [] : [[i, j]])));
    const x = tf.concat(
      Array.from({ length: this.size }, (_, i) => {
        const j = byLane.get(i);
        if (j === undefined) return tf.zeros([batch, width]);
        const r = rows[j]!;
        return r.shape[0] === batch ? r : tf.pad(r, [[0, batch - r.shape[0]], [0, 0]]);
      }),
    );
    return { x, batch };
  }

  /**
   * The optimizer's periodic phase (TPGM's radii) for every run at once: each
   * run's next validation batch through the stacked model, the sum of the
   * runs' validation losses (each run's radii get its own loss's gradient).
   * False when no run has validation data (alone, such a run skips it too).
   */
  private runPhase(entries: [number, Pending][], failures: Map<number, unknown>, own: <T>(j: number, f: () => T) => T | undefined): boolean {
    const parts = entries.map(([, p], j) => (failures.has(j) || !p.request.validation ? undefined : own(j, () => p.request.validation!())));
    if (!parts.some((v, j) => v && !failures.has(j))) return false;
    const { x, batch } = this.laneRows(
      entries,
      parts.map((v) => v?.rows),
      failures,
    );
    const ref = this.reference!;
    this.optimizer!.runPhase((params) => {
      const out = applyStackedLayers(ref.layers, ref.inputShape, { ...this.record, ...params }, x, this.size);
      const terms = entries.flatMap(([i], j) => {
        const part = parts[j];
        if (!part || failures.has(j)) return [];
        const loss = own(j, () => part.loss(tf.slice(out, [i * batch, 0], [part.rows.shape[0], -1])));
        return loss ? [loss] : [];
      });
      if (terms.length === 0) throw failures.values().next().value;
      return terms.length === 1 ? terms[0] : tf.addN(terms);
    });
    return true;
  }

  private sync(index: number): void {
    const member = this.members.get(index);
    if (!member || !this.stacked) return;
    tf.tidy(() => {
      for (const [name, v] of member.params) v.assign(tf.squeeze(tf.slice(this.stacked!.get(name)!, [index], [1]), [0]));
    });
  }

  private dispose(): void {
    this.optimizer?.dispose();
    this.anchors.dispose();
    for (const v of this.stacked?.values() ?? []) v.dispose();
    this.stacked = undefined;
    this.optimizer = undefined;
  }
}

/** What runs of one group share of their optimizer: its name and options, but for the settings its rule takes per run. */
export function optimizerKey(optimizer: ResolvedComponent, component: OptimizerComponent): string {
  const perRun = new Set(Object.keys(component.perRun ?? {}));
  return canonicalJson({ name: optimizer.name, options: Object.fromEntries(Object.entries(optimizer.options).filter(([k]) => !perRun.has(k))) });
}

/**
 * Why a run cannot train together with others, or undefined when it can:
 * its model must be a stackable layer graph, its optimizer alone (no
 * phases) with an elementwise rule, a projection (if any) that stacks and no
 * periodic phase, every parameter trained, and its strategies must
 * neither replace a step's gradients, change what a task trains on nor
 * replace prediction (those run alone, as ever). Strategies that add rows
 * to a step (replay, DER, ER-ACE) train together: a run's rows are its own.
 */
export function whyNotTogether(config: RunConfig, model: Model, optimizers: readonly OptimizerComponent[], strategies: readonly Strategy[]): string | undefined {
  if (config.phases) return 'it trains in phases';
  if (config.train.params) return 'it trains only some parameters (train.params)';
  if (!model.architecture) return `its model (${config.components.model.name}) describes no layer graph to stack`;
  const layers = unstackableLayers(model.architecture.layers);
  if (layers) return `its model cannot be stacked: ${layers}`;
  const [optimizer] = optimizers;
  if (optimizers.length !== 1 || !optimizer) return 'it has more than one optimizer';
  if (!optimizer.elementwise) return `its optimizer (${config.components.optimizer.name}) does not update entry by entry`;
  if (optimizer.phase && !optimizer.phase.stacks) return `its optimizer's periodic phase (${optimizer.phase.name}) cannot keep runs apart`;
  if (optimizer.projection && !optimizer.projection.stacks) return `its optimizer's projection (${optimizer.projection.name}) cannot keep runs apart`;
  for (const s of strategies) {
    const hooks = (['gradients', 'trainingSet', 'predict'] as const).filter((h) => s[h]);
    if (hooks.length) return `strategy ${s.name} ${hooks.map((h) => HOOK_REASON[h]).join(' and ')}`;
  }
  return undefined;
}

const HOOK_REASON = {
  gradients: 'replaces the gradients',
  trainingSet: 'changes what a task trains on',
  predict: 'replaces prediction',
} as const;
