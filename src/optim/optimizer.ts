import { tf } from '../tensor/tf.js';
import type {
  NamedTensors,
  OptimizerComponent,
  OptimizerState,
  ScheduleCounters,
  StepContext,
} from '../contracts/optimizer.js';
import { toSchedule } from './schedules.js';
import type { AnchorStore } from './anchors.js';
import { l2Norm } from './rows.js';
import { fusedAdd } from '../native/kernels.js';

/** Per-tensor anchoring diagnostics, read back at logging points only. */
export interface Diagnostics {
  names: string[];
  /** Shape [names.length, 2]: constraint (NaN where the method has none), L2 distance from the anchor. */
  values: tf.Tensor2D;
}

/** The step counters an optimizer's state depends on, saved with its tensors. */
export interface OptimizerCounters {
  steps: number;
  anchorSteps: number;
  taskStep: number;
  taskSteps: number;
}

/**
 * Everything the next step depends on: every transform's slots, the
 * projection's and phase's state, the anchors and the counters. Tensors are
 * named "<rule|projection|phase>:<slot>/<param>" and "anchor:<kind>/<param>";
 * a load matches them by name, never by position.
 */
export interface SavedOptimizerState {
  readonly format: 'optimizer-state/1';
  readonly counters: OptimizerCounters;
  readonly tensors: NamedTensors;
}

/**
 * Runs an optimizer component over named variables. It is the only code that
 * keeps and disposes optimizer state; rules stay pure.
 */
export class Optimizer {
  private ruleState: OptimizerState = {};
  private projectionState: OptimizerState = {};
  private phaseState: OptimizerState = {};
  private steps = 0;
  private anchorSteps = 0;
  private taskStep = 0;
  private taskSteps = 0;
  private readonly names: string[];
  private readonly lr: (c: ScheduleCounters) => number;

  constructor(
    readonly component: OptimizerComponent,
    private readonly params: ReadonlyMap<string, tf.Variable>,
    private readonly anchors: AnchorStore,
    private readonly rowAxis: Readonly<Record<string, number>> = {},
  ) {
    this.names = [...params.keys()];
    this.lr = toSchedule(component.learningRate);
    const current = this.current();
    this.ruleState = keepAll(tf.tidy(() => keepAll(component.rule.init(current))));
    this.initProjection();
  }

  private initProjection(): void {
    const { projection, phase } = this.component;
    const current = this.current();
    if (projection) {
      disposeState(this.projectionState);
      this.projectionState = keepAll(tf.tidy(() => keepAll(projection.init(current, this.rowAxis))));
    }
    if (phase) {
      disposeState(this.phaseState);
      this.phaseState = keepAll(tf.tidy(() => keepAll(phase.init(current, this.rowAxis))));
    }
    this.anchorSteps = 0;
  }

  /** Whether the periodic phase is due after the step just taken. */
  get phaseDue(): boolean {
    const phase = this.component.phase;
    return !!phase && this.anchorSteps > 0 && this.anchorSteps % phase.every === 0;
  }

  /**
   * Runs the periodic phase (call inside the run loop's tidy, after step()):
   * it may replace the parameters, e.g. TPGM's projection with learned radii.
   */
  runPhase(validationLoss: (params: NamedTensors) => tf.Tensor): void {
    const phase = this.component.phase;
    if (!phase) return;
    const ctx = this.context([]);
    const { params, state } = phase.run(this.phaseState, ctx, validationLoss);
    for (const name of this.names) if (params[name] !== ctx.params[name]) this.params.get(name)!.assign(params[name]);
    this.phaseState = swap(this.phaseState, state);
  }

  private context(rawGrads: NamedTensors | []): StepContext {
    return {
      step: this.steps,
      taskStep: this.taskStep,
      taskSteps: this.taskSteps,
      anchorStep: this.anchorSteps,
      params: this.current(),
      rawGrads: Array.isArray(rawGrads) ? {} : rawGrads,
      anchor: this.component.anchor ? this.anchors.get(this.component.anchor, this.params) : {},
      rowAxis: this.rowAxis,
    };
  }

  get stepCount(): number {
    return this.steps;
  }

  /**
   * A new task began. With a per-task anchor the projection starts afresh
   * (FTP's constraint from 1e-8, as at the start of fine-tuning); the base
   * rule's moments carry on.
   */
  onTaskStart(): void {
    if (this.component.anchor === 'task-start') this.initProjection();
    this.taskStep = 0;
    this.taskSteps = 0;
  }

  /** The task's training begins with `steps` planned steps (what per-task schedules span). */
  startTraining(steps: number): void {
    this.taskSteps = steps;
  }

  /** The learning rate the last step used (the first step's before any). */
  get learningRate(): number {
    return this.lr({ step: Math.max(1, this.steps), taskStep: Math.max(1, this.taskStep), taskSteps: this.taskSteps });
  }

  private current(): NamedTensors {
    const out: NamedTensors = {};
    for (const name of this.names) out[name] = this.params.get(name)!;
    return out;
  }

  /**
   * One step from the data gradients. Call inside the run loop's tf.tidy: all
   * intermediates are freed by it; parameters are assigned and the new state
   * is kept here, the old state disposed.
   */
  step(grads: NamedTensors): void {
    this.steps += 1;
    this.anchorSteps += 1;
    this.taskStep += 1;
    const ctx = this.context(grads);
    const params = ctx.params;
    const { updates, state } = this.component.rule.update(grads, this.ruleState, ctx);
    const projection = this.component.projection;
    let next: NamedTensors = {};
    let projState: OptimizerState | undefined;
    if (projection?.projectStep) {
      // The projection forms params + updates in its own pass over the weights.
      ({ params: next, state: projState } = projection.projectStep(updates, this.projectionState, ctx));
    } else {
      // On native TensorFlow one kernel applies every tensor's update: the same bits as an Add each.
      const add = this.names.length ? fusedAdd() : undefined;
      if (add) {
        const sums = add(
          this.names.map((n) => params[n]),
          this.names.map((n) => updates[n]),
        );
        this.names.forEach((name, i) => (next[name] = sums[i]));
      } else for (const name of this.names) next[name] = tf.add(params[name], updates[name]);
      if (projection) ({ params: next, state: projState } = projection.project(next, this.projectionState, ctx));
    }
    for (const name of this.names) this.params.get(name)!.assign(next[name]);
    this.ruleState = swap(this.ruleState, state);
    if (projState) this.projectionState = swap(this.projectionState, projState);
  }

  /** The component's constraint per tensor; call inside a tidy. */
  constraints(): NamedTensors {
    return this.component.constraints?.(this.projectionState, this.ruleState, this.phaseState) ?? {};
  }

  /**
   * Constraint and distance from the anchor per tensor; undefined for methods
   * without an anchor. Call inside a tidy.
   */
  diagnostics(): Diagnostics | undefined {
    if (!this.component.anchor) return undefined;
    const anchor = this.anchors.get(this.component.anchor, this.params);
    const constraints = this.constraints();
    const nan = tf.scalar(NaN);
    const rows = this.names.map((name) =>
      tf.stack([tf.reshape(constraints[name] ?? nan, []), l2Norm(tf.sub(this.params.get(name)!, anchor[name]))]),
    );
    return { names: this.names, values: tf.stack(rows) as tf.Tensor2D };
  }

  /**
   * The whole state, by name: the tensors are this optimizer's and the
   * anchors' own (read them, do not dispose them); see SavedOptimizerState.
   */
  save(): SavedOptimizerState {
    const tensors: NamedTensors = {};
    for (const [prefix, st] of this.stateParts()) {
      for (const [slot, named] of Object.entries(st))
        for (const [p, t] of Object.entries(named)) tensors[`${prefix}:${slot}/${p}`] = t;
    }
    // Its own parameters' anchors: optimizers of several phases each save (and load) their part.
    for (const [kind, named] of this.anchors.recorded())
      for (const p of this.names) if (named[p]) tensors[`anchor:${kind}/${p}`] = named[p];
    return {
      format: 'optimizer-state/1',
      counters: {
        steps: this.steps,
        anchorSteps: this.anchorSteps,
        taskStep: this.taskStep,
        taskSteps: this.taskSteps,
      },
      tensors,
    };
  }

  private stateParts(): [string, OptimizerState][] {
    return [
      ['rule', this.ruleState],
      ['projection', this.projectionState],
      ['phase', this.phaseState],
    ];
  }

  /**
   * Restores what save() wrote (copies the tensors): the next step is the
   * one an uninterrupted optimizer would take. Names must match exactly and
   * shapes agree, or nothing is changed.
   */
  load(saved: SavedOptimizerState): void {
    if (saved.format !== 'optimizer-state/1')
      throw new Error(`optimizer state: format must be "optimizer-state/1", got ${JSON.stringify(saved.format)}`);
    const current = this.save().tensors;
    const anchorKeys = Object.keys(saved.tensors).filter((k) => k.startsWith('anchor:'));
    const missing = Object.keys(current).filter((k) => !k.startsWith('anchor:') && !(k in saved.tensors));
    const unknown = Object.keys(saved.tensors).filter((k) => !k.startsWith('anchor:') && !(k in current));
    if (missing.length || unknown.length) {
      const why = [
        missing.length ? ` missing ${missing.join(', ')}` : '',
        unknown.length ? ` unknown ${unknown.join(', ')}` : '',
      ];
      throw new Error(
        `optimizer state does not fit this optimizer (${this.component.description}):${why.filter(Boolean).join(';')}`,
      );
    }
    for (const [key, t] of Object.entries(saved.tensors)) {
      const param = key.startsWith('anchor:') ? this.params.get(key.slice(key.indexOf('/') + 1)) : undefined;
      const want = key.startsWith('anchor:') ? param?.shape : current[key].shape;
      if (!want) throw new Error(`optimizer state ${key}: no parameter of that name`);
      if (t.shape.join('x') !== want.join('x'))
        throw new Error(`optimizer state ${key}: shape [${t.shape}] does not match [${want}]`);
    }
    for (const [prefix, st] of this.stateParts()) {
      for (const [slot, named] of Object.entries(st)) {
        for (const p of Object.keys(named)) {
          named[p].dispose();
          named[p] = tf.keep(tf.clone(saved.tensors[`${prefix}:${slot}/${p}`]));
        }
      }
    }
    const kinds = new Map<string, Map<string, tf.Tensor>>();
    for (const key of anchorKeys) {
      const kind = key.slice('anchor:'.length, key.indexOf('/'));
      if (!kinds.has(kind)) kinds.set(kind, new Map());
      kinds.get(kind)!.set(key.slice(key.indexOf('/') + 1), saved.tensors[key]);
    }
    for (const [kind, named] of kinds) this.anchors.merge(kind as 'initial' | 'task-start', named);
    ({
      steps: this.steps,
      anchorSteps: this.anchorSteps,
      taskStep: this.taskStep,
      taskSteps: this.taskSteps,
    } = saved.counters);
  }

  dispose(): void {
    for (const [, st] of this.stateParts()) disposeState(st);
    this.ruleState = {};
    this.projectionState = {};
    this.phaseState = {};
  }
}

function keepAll(state: OptimizerState): OptimizerState {
  for (const named of Object.values(state)) for (const t of Object.values(named)) tf.keep(t);
  return state;
}

function disposeState(state: OptimizerState): void {
  for (const named of Object.values(state)) for (const t of Object.values(named)) t.dispose();
}

/** Keeps the new state and frees tensors of the old one that the new one does not reuse. */
function swap(old: OptimizerState, next: OptimizerState): OptimizerState {
  keepAll(next);
  const reused = new Set<tf.Tensor>();
  for (const named of Object.values(next)) for (const t of Object.values(named)) reused.add(t);
  for (const named of Object.values(old)) for (const t of Object.values(named)) if (!reused.has(t)) t.dispose();
  return next;
}
