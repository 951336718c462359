// The order of a task's training: epochs, the sampler's order of the
// examples in each, and the batches of each epoch, each handed to the
// task's training step (step.ts) — the one place a step is defined. The
// trainer uploads the task's examples once, gathers each epoch's order on
// the backend once, and reads nothing back but what a logging step returns.
import { inject, injectable } from 'inversify';
import { tf } from '../tensor/tf.js';
import type { Rng } from '../tensor/rng.js';
import { featureSize } from '../contracts/data.js';
import { featureRows } from '../tensor/feature-rows.js';
import type { Sampler } from '../contracts/sampler.js';
import type { TrainingSet } from '../contracts/strategy.js';
import type { Task, TaskStream } from '../contracts/stream.js';
import type { ScenarioView } from '../contracts/scenario.js';
import type { RunConfig } from '../contracts/run-config.js';
import type { ConstraintsEvent, EpochEnd, PhaseStart, StepEvent } from '../contracts/events.js';
import type { StepReadout, TrainingStep } from './step.js';
import { COMPONENT, ROOT_RNG, RUN_CONFIG, SCENARIO } from './tokens.js';
import { EpochBatches, type EpochRows } from './epoch-batches.js';

/** The loss turned NaN or infinite: the run is recorded as `diverged`. */
export class DivergedError extends Error {}
/** The user (or a scheduler) asked the run to stop. */
export class InterruptedError extends Error {}

/** How often the step loop lets Node's event loop run (signals, I/O): cheap next to a step, quick next to a person. */
const YIELD_EVERY_MS = 100;

export function stepsPerEpoch(examples: number, batchSize: number): number {
  return Math.ceil(examples / batchSize);
}

/** Steps a task of `examples` will take: `train.steps` when set, else epochs × steps per epoch. */
export function plannedSteps(examples: number, train: { epochs: number; steps: number; batchSize: number }): number {
  if (examples === 0) return 0;
  return train.steps > 0 ? train.steps : train.epochs * stepsPerEpoch(examples, train.batchSize);
}

/**
 * Rows of the sampled batch at each step of a task trained on `count`
 * examples: steps number on across the task's phases, and each phase starts
 * its own passes over the data.
 */
export function rowsAt(
  count: number,
  batchSize: number,
  phaseSteps: readonly number[] = [Number.MAX_SAFE_INTEGER],
): (step: number) => number {
  const perEpoch = stepsPerEpoch(count, batchSize);
  return (step) => {
    let offset = 0;
    for (const steps of phaseSteps) {
      if (step <= offset + steps) break;
      offset += steps;
    }
    const s = (step - offset - 1) % perEpoch;
    return Math.min(batchSize, count - s * batchSize);
  };
}

/** Where a task's training stands: steps done, and validation batches its optimizer's periodic phase has drawn. */
export interface TaskPosition {
  task: number;
  step: number;
  validationBatches: number;
}

/** A checkpoint within the task: start after `step` completed steps; `restore` puts the state back. */
export interface ResumeAt {
  step: number;
  validationBatches: number;
  restore(): void;
}

/**
 * One phase of a task: steps offset+1 .. offset+steps of the task.
 * `globalStep`: the run's optimizer steps so far, over every phase's optimizer.
 */
export interface PhaseSegment {
  phase: number;
  offset: number;
  steps: number;
  globalStep(): number;
  /** Announced as a `phase-start` event once the phase is set up (after a resume restored the counters). */
  announce?: Pick<PhaseStart, 'name' | 'optimizer' | 'trainable' | 'frozen'>;
}

/** What the trainer walks: one phase of one task, with the step that trains it. */
export interface PhaseRun {
  readonly task: Task;
  readonly data: TrainingSet;
  readonly segment: PhaseSegment;
  readonly step: TrainingStep;
  readonly signal?: AbortSignal;
  /** Continue from a checkpoint within this phase. */
  readonly resumeAt?: ResumeAt;
  /**
   * The data is already in the order it is consumed (a stream with hidden boundaries): no sampler order, one pass.
   */
  readonly streamOrder?: boolean;
  /**
   * Asked after every step (outside any tidy) with the rows the step sampled: writes a checkpoint, evaluates, when
   * it is due.
   */
  afterStep?(position: TaskPosition, rows: number): Promise<void>;
}

type TrainEvent = PhaseStart | StepEvent | ConstraintsEvent | EpochEnd;

@injectable()
export class TaskTrainer {
  /** The task being trained and its completed steps; undefined between tasks. */
  position: TaskPosition | undefined;
  private readonly size: number;

  constructor(
    @inject(RUN_CONFIG) private readonly config: RunConfig,
    @inject(SCENARIO) private readonly scenario: ScenarioView,
    @inject(COMPONENT.sampler) private readonly sampler: Sampler,
    @inject(COMPONENT.stream) stream: TaskStream,
    @inject(ROOT_RNG) private readonly rng: Rng,
  ) {
    this.size = featureSize(stream.featureShape);
  }

  /** Trains one phase of a task (the whole task without phases), yielding its events. */
  async *train(run: PhaseRun): AsyncGenerator<TrainEvent> {
    const { task, data, segment } = run;
    for (const l of data.labels) {
      if (l < 0 || l >= this.scenario.outputs)
        throw new Error(`task ${task.name}: label ${l} is outside the model's ${this.scenario.outputs} outputs`);
    }
    if (data.count === 0) return; // e.g. the later tasks of joint training
    const resumeAt = this.resumeWithin(run);
    const rows = {
      x: featureRows(data.features, data.count, this.size),
      y: tf.tensor1d(data.labels, 'int32'),
      ids: tf.tensor1d(data.taskIds, 'int32'),
    };
    try {
      if (resumeAt) {
        resumeAt.restore();
        run.step.skipValidation(resumeAt.validationBatches);
      }
      this.position = { task: task.index, step: segment.offset, validationBatches: run.step.validationBatches };
      if (segment.announce) yield this.phaseStart(run);
      const total = segment.offset + segment.steps;
      let step = segment.offset;
      const clock = { lastYield: performance.now() };
      for (let epoch = 0; step < total; epoch++) {
        const started = performance.now();
        const order = run.streamOrder
          ? this.all(data.count)
          : this.sampler.order(
              this.all(data.count),
              epoch,
              this.rng.fork(`sampler:order:${task.index}:${epoch}${this.phaseKey(run)}`),
            );
        const steps = Math.min(stepsPerEpoch(order.length, this.config.train.batchSize), total - step);
        // Resuming: epochs already trained are passed over (their orders are drawn, nothing else).
        if (resumeAt && step + steps <= resumeAt.step) {
          step += steps;
          continue;
        }
        const first = resumeAt && resumeAt.step > step ? resumeAt.step - step : 0;
        yield* this.epoch(run, { epoch, order, rows, from: step, first, steps, clock });
        step += steps;
        yield {
          type: 'epoch-end',
          runId: this.config.runId,
          task: task.index,
          epoch,
          steps,
          seconds: (performance.now() - started) / 1000,
        };
      }
      this.position = undefined;
    } finally {
      rows.x.dispose();
      tf.dispose([rows.y, rows.ids]);
    }
  }

  /** The steps of one epoch, from its `first` (past a resumed checkpoint) to its `steps`. */
  private async *epoch(
    run: PhaseRun,
    e: {
      epoch: number;
      order: Int32Array;
      rows: EpochRows;
      from: number;
      first: number;
      steps: number;
      clock: { lastYield: number };
    },
  ): AsyncGenerator<StepEvent | ConstraintsEvent> {
    const { batchSize, logEvery } = this.config.train;
    const total = run.segment.offset + run.segment.steps;
    // One gather per epoch puts the examples in order on the backend; steps then only take their batch.
    const batches = new EpochBatches(e.rows, e.order, batchSize);
    const window = { start: performance.now(), examples: 0 };
    try {
      for (let s = e.first; s < e.steps; s++) {
        // Steps never wait on a macrotask otherwise (the throttled read-back resolves as a
        // microtask): without this yield a SIGINT or SIGTERM handler would not run until the run ends.
        if (performance.now() - e.clock.lastYield > YIELD_EVERY_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          e.clock.lastYield = performance.now();
        }
        if (run.signal?.aborted) throw new InterruptedError('interrupted');
        const start = s * batchSize;
        const size = Math.min(batchSize, e.order.length - start);
        const step = e.from + s + 1;
        const readout = await run.step.take(
          { step, size, slice: () => batches.rows(s) },
          step % logEvery === 0 || step === total,
        );
        this.position = { task: run.task.index, step, validationBatches: run.step.validationBatches };
        window.examples += size;
        if (readout) {
          yield* this.logged(run, { epoch: e.epoch, step, readout, window });
          window.start = performance.now();
          window.examples = 0;
        }
        if (run.afterStep) await run.afterStep(this.position, size);
      }
    } finally {
      batches.dispose();
    }
  }

  /** The events of a logging step: its loss, and an anchored optimizer's constraints. */
  private *logged(
    run: PhaseRun,
    at: { epoch: number; step: number; readout: StepReadout; window: { start: number; examples: number } },
  ): Generator<StepEvent | ConstraintsEvent> {
    const { epoch, step, readout, window } = at;
    const task = run.task.index;
    if (!Number.isFinite(readout.loss))
      throw new DivergedError(`loss became ${readout.loss} at task ${task}, epoch ${epoch}, step ${step}`);
    const globalStep = run.segment.globalStep();
    yield {
      type: 'step',
      runId: this.config.runId,
      task,
      epoch,
      step,
      globalStep,
      ...(this.config.phases ? { phase: run.segment.phase } : {}),
      loss: readout.loss,
      learningRate: run.step.learningRate,
      examplesPerSecond: (window.examples * 1000) / Math.max(performance.now() - window.start, 1e-3),
    };
    if (readout.constraints)
      yield { type: 'constraints', runId: this.config.runId, task, step, globalStep, tensors: readout.constraints };
  }

  private phaseStart(run: PhaseRun): PhaseStart {
    const { segment } = run;
    return {
      type: 'phase-start',
      runId: this.config.runId,
      task: run.task.index,
      phase: segment.phase,
      firstStep: segment.offset + 1,
      steps: segment.steps,
      globalStep: segment.globalStep(),
      ...segment.announce!,
    };
  }

  /** A checkpoint within this phase, or undefined; one outside it is an error. */
  private resumeWithin(run: PhaseRun): ResumeAt | undefined {
    const { resumeAt, segment } = run;
    if (!resumeAt) return undefined;
    if (resumeAt.step < segment.offset || resumeAt.step > segment.offset + segment.steps) {
      throw new Error(
        `checkpoint is at step ${resumeAt.step} of task ${run.task.name}, outside steps ` +
          `${segment.offset}..${segment.offset + segment.steps} of this phase`,
      );
    }
    return resumeAt;
  }

  /** The order the sampler gives a task's `count` training examples in its first epoch (phase 0). */
  firstEpochOrder(task: Task, count: number): Int32Array {
    return this.sampler.order(this.all(count), 0, this.rng.fork(`sampler:order:${task.index}:0`));
  }

  /** Phase 0 keeps the random streams runs without phases always had. */
  private phaseKey(run: PhaseRun): string {
    return run.segment.phase > 0 ? `:phase${run.segment.phase}` : '';
  }

  private all(n: number): Int32Array {
    return Int32Array.from({ length: n }, (_, i) => i);
  }
}
