// The seam between a run's training step and what executes it. What a step
// is — its rows, its loss, a gradient stage, the work after it, what is read
// back — is the run's own and written once (step.ts). An executor runs the
// model forward and backward and steps the run's optimizer: alone, the run's
// own model (here); trained together, one batched pass for a group of runs
// (src/together/). Each run always keeps its own optimizer and parameters.
import { tf } from '../tensor/tf.js';
import { variableGrads } from '../tensor/grads.js';
import type { Model } from '../contracts/model.js';
import type { NamedTensors } from '../contracts/optimizer.js';
import type { RunConfig } from '../contracts/run-config.js';
import type { Strategy } from '../contracts/strategy.js';
import type { Optimizer } from '../optim/optimizer.js';

/**
 * Gradients of a loss of the model's outputs for other rows, at the current parameters (a gradient stage's reference).
 */
export type GradientsOf = (x: tf.Tensor, loss: (rawLogits: tf.Tensor) => tf.Scalar) => NamedTensors;

/** What a step's gradient stage is given. */
export interface GradientStage {
  readonly grads: NamedTensors;
  readonly params: NamedTensors;
  readonly gradientsOf: GradientsOf;
}

/** A validation batch for the optimizer's periodic phase (TPGM): its rows and their loss from the model's outputs. */
export interface ValidationRows {
  readonly rows: tf.Tensor;
  loss(rawLogits: tf.Tensor): tf.Scalar;
}

/** What the optimizer step leaves for the work after it. */
export interface StepOutcome {
  readonly loss: tf.Scalar;
  /** The model's raw outputs for the composed rows; only when the request keeps them. */
  readonly rawLogits?: tf.Tensor;
  /** The run's parameters after the optimizer step. */
  readonly params: NamedTensors;
  /** The gradients the optimizer was given. */
  readonly grads: NamedTensors;
}

/** One training step as its run describes it. Every callback runs inside the executor's tidy. */
export interface StepRequest<R extends tf.TensorContainer> {
  /** The composed rows [rows, features], as the run's model takes them. */
  rows(): tf.Tensor;
  /** The step's loss from the model's raw outputs for `rows` (inside the gradient tape). */
  loss(rawLogits: tf.Tensor, params: NamedTensors): tf.Scalar;
  /** Whether `afterStep` reads the raw outputs (which otherwise go with the tape). */
  readonly keepLogits: boolean;
  /** Replaces the gradients before the optimizer step (A-GEM's projection). Only a run trained alone has one. */
  gradients?(stage: GradientStage): NamedTensors;
  /** The next validation batch, asked only when the optimizer's periodic phase is due. */
  validation?(): ValidationRows;
  /** Right after the optimizer step, before a periodic phase: the strategies' after-step work. */
  afterStep(outcome: StepOutcome): R;
  /** At a logging point, after the periodic phase: the values to read back (one tensor). */
  readout?(loss: tf.Scalar): tf.Tensor;
}

/** What an executor hands back from a step (tensors the caller owns). */
export interface StepDone<R> {
  readonly after: R;
  readonly readout?: tf.Tensor;
}

/** A phase of a task's training: its optimizer and the variables it trains. */
export interface PhaseTraining {
  readonly optimizer: Optimizer;
  readonly variables: readonly tf.Variable[];
}

export interface StepExecutor {
  /** A phase of a task begins training (before its first step). */
  begin(phase: PhaseTraining): void;
  /** One training step. */
  step<R extends tf.TensorContainer>(request: StepRequest<R>): Promise<StepDone<R>>;
  /** The run trains no more (finished, diverged, failed or stopped). */
  leave(): void;
}

/**
 * A run's place in a group of runs trained as one (src/together/): its steps
 * are taken with the others'. The group's runs are recorded in run.json.
 */
export interface GroupLane extends StepExecutor {
  /** The group's runs, by id, in lane order. */
  readonly runs: readonly string[];
  /** The run joins with its model and strategies (before its first step); throws why it cannot share a step. */
  join(run: { config: RunConfig; model: Model; strategies: readonly Strategy[] }): void;
}

/** Gradients keyed by parameter name (tfjs names them by variable). */
export function namedGradients(grads: tf.NamedTensorMap, nameOf: ReadonlyMap<string, string>): NamedTensors {
  const named: NamedTensors = {};
  for (const [variable, g] of Object.entries(grads)) named[nameOf.get(variable)!] = g;
  return named;
}

/** A model's parameter names by tfjs variable name. */
export function parameterNames(model: Model): Map<string, string> {
  return new Map([...model.params].map(([name, v]) => [v.name, name]));
}

/**
 * The optimizer's periodic phase when it is due after the step just taken:
 * the run's next validation batch scored by the model with the parameter
 * values the phase proposes (frozen parameters enter at their values).
 */
export function runPhaseIfDue(
  optimizer: Optimizer,
  model: Model,
  params: NamedTensors,
  request: StepRequest<tf.TensorContainer>,
): void {
  if (!request.validation || !optimizer.phaseDue) return;
  if (!model.apply)
    throw new Error('this optimizer needs a model that can run with other parameter values (Model.apply)');
  const batch = request.validation();
  optimizer.runPhase((values) => batch.loss(model.apply!({ ...params, ...values }, batch.rows, true)));
}

/** A run trained on its own: its model forward and backward, its optimizer's step, all in one tidy. */
export class AloneExecutor implements StepExecutor {
  private phase?: PhaseTraining;
  private readonly params: NamedTensors;
  private readonly nameOf: Map<string, string>;

  constructor(private readonly model: Model) {
    this.params = Object.fromEntries(model.params);
    this.nameOf = parameterNames(model);
  }

  begin(phase: PhaseTraining): void {
    this.phase = phase;
  }

  step<R extends tf.TensorContainer>(request: StepRequest<R>): Promise<StepDone<R>> {
    try {
      return Promise.resolve(this.stepNow(request));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private stepNow<R extends tf.TensorContainer>(request: StepRequest<R>): StepDone<R> {
    const { optimizer, variables } = this.phase!;
    const vars = variables as tf.Variable[];
    let kept: tf.Tensor | undefined;
    try {
      return tf.tidy(() => {
        const x = request.rows();
        const { value, grads } = variableGrads(() => {
          const rawLogits = this.model.forward(x, true);
          if (request.keepLogits) kept = tf.keep(rawLogits);
          return request.loss(rawLogits, this.params);
        }, vars);
        let named = namedGradients(grads, this.nameOf);
        if (request.gradients) {
          const gradientsOf: GradientsOf = (rows, loss) =>
            namedGradients(variableGrads(() => loss(this.model.forward(rows, true)), vars).grads, this.nameOf);
          named = request.gradients({ grads: named, params: this.params, gradientsOf });
        }
        optimizer.step(named);
        const after = request.afterStep({ loss: value, rawLogits: kept, params: this.params, grads: named });
        runPhaseIfDue(optimizer, this.model, this.params, request);
        return { after, readout: request.readout?.(value) };
      });
    } finally {
      kept?.dispose();
    }
  }

  leave(): void {
    this.phase = undefined;
  }
}
