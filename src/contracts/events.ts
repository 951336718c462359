// The typed event stream of a run. Events carry plain numbers and ids, never
// tensors, so observers (Arrow writer, progress display, tests) cannot touch
// training.
import type { BackendInfo } from './backend.js';
import type { RunConfig } from './run-config.js';

export const RUN_STATUSES = ['completed', 'failed', 'diverged', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface RunStart {
  type: 'run-start';
  runId: string;
  config: RunConfig;
  backend: BackendInfo;
  model: string;
  optimizer: string;
  strategy: string;
  /** validationExamples: held out from training (TPGM's phase and the `select` hold-out). */
  tasks: {
    index: number;
    name: string;
    classes: readonly number[];
    trainExamples: number;
    validationExamples: number;
    testExamples: number;
  }[];
  startedAt: string;
  /**
   * The runs it trained together with (`--together`), itself included, in the group's order; absent when it trained
   * alone.
   */
  together?: readonly string[];
}
export interface TaskStart {
  type: 'task-start';
  runId: string;
  task: number;
  name: string;
  examples: number;
  /** Optimizer steps this task will take. */
  steps: number;
}
/** A task's phase begins (only for experiments with `phases`). */
export interface PhaseStart {
  type: 'phase-start';
  runId: string;
  task: number;
  phase: number;
  name: string;
  /** The phase's steps are the task's steps firstStep .. firstStep + steps − 1. */
  firstStep: number;
  steps: number;
  /** Optimizer steps in the run before this phase. */
  globalStep: number;
  optimizer: string;
  /** Parameters this phase trains; the others are frozen. */
  trainable: string[];
  frozen: number;
}
/** Throttled: emitted every `logEvery` steps, when the loss is read back. */
export interface StepEvent {
  type: 'step';
  runId: string;
  task: number;
  epoch: number;
  /** Step within the task, 1-based. */
  step: number;
  /** Optimizer steps in the run so far. */
  globalStep: number;
  /** The phase of the task (index into the experiment's `phases`); absent without phases. */
  phase?: number;
  loss: number;
  learningRate: number;
  examplesPerSecond: number;
}
/** Throttled with the loss, for anchored optimizers: each tensor's constraint and distance from its anchor. */
export interface ConstraintsEvent {
  type: 'constraints';
  runId: string;
  task: number;
  step: number;
  globalStep: number;
  tensors: { tensor: string; constraint: number; distance: number }[];
}
export interface EpochEnd {
  type: 'epoch-end';
  runId: string;
  task: number;
  epoch: number;
  steps: number;
  seconds: number;
}
export interface EvalEvent {
  type: 'eval';
  runId: string;
  /** Index of the task just trained; -1 for the untrained model. */
  trainedTask: number;
  evalTask: number;
  evalSet: string;
  accuracy: number;
  loss: number;
  examples: number;
  /** The run's optimizer steps when the model was scored (0: untrained). */
  step?: number;
  /** Training examples the run had sampled from the stream when the model was scored. */
  seen?: number;
}
/**
 * WiSE-FT: the model with weights interpolated between the anchor and the
 * final ones, θ(α) = (1 − α)·θ_anchor + α·θ_final, scored after the run on
 * one task's eval set. Recorded in evals.arrow with `alpha`; never part of
 * the accuracy matrix.
 */
export interface InterpolationEvalEvent extends Omit<EvalEvent, 'type'> {
  type: 'interpolation-eval';
  alpha: number;
}
export interface TaskEnd {
  type: 'task-end';
  runId: string;
  task: number;
  seconds: number;
}
export interface RunEnd {
  type: 'run-end';
  runId: string;
  status: RunStatus;
  error?: string;
  seconds: number;
  steps: number;
  /** Median over the run's throttled measurements. */
  stepsPerSecond: number;
  /** Time spent evaluating WiSE-FT's interpolated models, when asked for. */
  interpolationSeconds?: number;
}

/**
 * The run continues from a checkpoint: `rows` are the result rows (eval,
 * step and constraints events) it had produced before, in their order;
 * observers that build tables take them as if they had just been emitted.
 */
export interface RunResumed {
  type: 'resumed';
  runId: string;
  /** The task it resumes in, and the steps of it already done (0: at its start). */
  task: number;
  step: number;
  rows: (EvalEvent | StepEvent | ConstraintsEvent)[];
  checkpoint: string;
}
/** A checkpoint was committed. */
export interface CheckpointWritten {
  type: 'checkpoint';
  runId: string;
  task: number;
  step: number;
  reason: 'task' | 'steps' | 'minutes' | 'interrupt';
  /** On disk, every file of the checkpoint. */
  bytes: number;
  seconds: number;
}
/** Something the user should know that does not stop the run. */
export interface RunWarning {
  type: 'warning';
  runId: string;
  message: string;
}

export type RunEvent =
  | RunStart
  | TaskStart
  | PhaseStart
  | StepEvent
  | ConstraintsEvent
  | EpochEnd
  | EvalEvent
  | InterpolationEvalEvent
  | TaskEnd
  | RunEnd
  | RunResumed
  | CheckpointWritten
  | RunWarning;
export type RunEventType = RunEvent['type'];

/**
 * Sweep-level events: what happens to each run of an experiment in this
 * process (the live view and reporters follow a sweep by them).
 */
export interface SweepStart {
  type: 'sweep-start';
  experiment: string;
  /** Every run this process is responsible for (its shard), in order. */
  runs: { runId: string; seed: number; variant: Record<string, string> }[];
  backend: string;
  startedAt: string;
}
/** Sent for every run right after sweep-start, in the order they will be taken. */
export interface RunQueued {
  type: 'run-queued';
  runId: string;
  seed: number;
  variant: Record<string, string>;
}
export interface RunSkipped {
  type: 'run-skipped';
  runId: string;
  reason: 'complete' | 'busy';
  dir: string;
}
export interface RunStarted {
  type: 'run-started';
  runId: string;
  dir: string;
}
export interface RunFinished {
  type: 'run-finished';
  runId: string;
  status: RunStatus;
  dir: string;
}
export interface SweepEnd {
  type: 'sweep-end';
  experiment: string;
  completed: number;
  total: number;
}
export type SweepEvent = SweepStart | RunQueued | RunSkipped | RunStarted | RunFinished | SweepEnd;
