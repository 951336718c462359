import type { Tensor } from '../tensor/tf.js';

/** Tensors keyed by parameter name: state always mirrors the parameter tree. */
export type NamedTensors = Record<string, Tensor>;

/**
 * Optimizer state: slot name (e.g. "adam.m") → parameter name → tensor.
 * Composites (chain, partition) put each inner rule's slots under its own
 * prefix ("0:adam/adam.m"), so two rules never share a slot by accident.
 */
export type OptimizerState = Record<string, NamedTensors>;

/** The step counters a schedule reads. */
export interface ScheduleCounters {
  /** 1-based count of optimizer steps taken in this run, this one included. */
  readonly step: number;
  /** 1-based count of steps in the current task, this one included. */
  readonly taskStep: number;
  /** Steps planned for the current task. */
  readonly taskSteps: number;
}

/** A value that changes with the step (a learning-rate schedule); computed on the host. */
export interface Schedule {
  (counters: ScheduleCounters): number;
  /** Whether the schedule starts again at every task (for describing it). */
  readonly restartsPerTask?: boolean;
  describe?(): string;
}

/** Read-only facts every update rule may use. */
export interface StepContext extends ScheduleCounters {
  /** 1-based count of steps since the anchor was last set (equals `step` unless re-anchored per task). */
  readonly anchorStep: number;
  /** Parameter values before this step. */
  readonly params: NamedTensors;
  /** The data gradient of this step, before any rule replaced it. */
  readonly rawGrads: NamedTensors;
  /** The point anchored methods stay close to (see AnchorStore). */
  readonly anchor: NamedTensors;
  /** Per parameter, the axis that indexes output units ("rows" of per-row norms). */
  readonly rowAxis: Readonly<Record<string, number>>;
}

/**
 * Optax-style gradient transformation. `update` receives the updates produced
 * by the rules before it (the gradient for the first) and returns new updates
 * and new state; it never writes parameters, never calls tf.keep/dispose and
 * never reads values back: the optimizer runner owns memory.
 */
export interface UpdateRule<S extends OptimizerState = OptimizerState> {
  readonly name: string;
  init(params: NamedTensors): S;
  update(updates: NamedTensors, state: S, ctx: StepContext): { updates: NamedTensors; state: S };
}

/**
 * A projection that runs after the updates are applied (FTP, SPD, PGD): it
 * maps the tentative new parameters to the ones actually kept.
 */
export interface Projection<S extends OptimizerState = OptimizerState> {
  readonly name: string;
  /** `rowAxis`: per parameter, the axis of its output units (for per-row state). */
  init(params: NamedTensors, rowAxis?: Readonly<Record<string, number>>): S;
  project(tentative: NamedTensors, state: S, ctx: StepContext): { params: NamedTensors; state: S };
  /**
   * Optional: `project` of ctx.params + updates, given the two apart, so that
   * the projection can form the tentative weights inside its own pass over
   * them (FTP's and PGD's native kernels) rather than read back a separate
   * sum. When present, the Optimizer calls it in place of `project`; it must
   * give the same result, for every parameter it is given.
   */
  projectStep?(updates: NamedTensors, state: S, ctx: StepContext): { params: NamedTensors; state: S };
}

/**
 * A periodic phase (TPGM's radius learning): every `every` steps the run
 * gives it a loss function over parameter values, evaluated on a held-out
 * validation batch — an extra forward and backward pass, by design.
 */
export interface PeriodicPhase<S extends OptimizerState = OptimizerState> {
  readonly name: string;
  readonly every: number;
  /** Fraction of each task's selected training examples held out as validation data. */
  readonly validationFraction: number;
  init(params: NamedTensors, rowAxis?: Readonly<Record<string, number>>): S;
  run(state: S, ctx: StepContext, validationLoss: (params: NamedTensors) => Tensor): { params: NamedTensors; state: S };
}

export const ANCHOR_KINDS = ['initial', 'task-start', 'zeros'] as const;
export type AnchorKind = (typeof ANCHOR_KINDS)[number];

/** What an optimizer plugin builds: the update rule chain and an optional projection. */
export interface OptimizerComponent {
  readonly rule: UpdateRule;
  readonly projection?: Projection;
  readonly phase?: PeriodicPhase;
  /**
   * The learned or fixed constraint of each anchored tensor (FTP's gamma,
   * PGD's radius), as scalars, for constraints.arrow. Called inside a tidy
   * at logging points only.
   */
  readonly constraints?: (
    projectionState: OptimizerState,
    ruleState: OptimizerState,
    phaseState: OptimizerState,
  ) => NamedTensors;
  /** The base learning rate (a number or a schedule); the value each logged step used is recorded in steps.arrow. */
  readonly learningRate: number | Schedule;
  /** Which anchor StepContext.anchor refers to; absent for methods that use none (AdamW, SGD). */
  readonly anchor?: AnchorKind;
  /** Human-readable, e.g. "adamw(lr=0.001, wd=0.01)". */
  readonly description: string;
}
