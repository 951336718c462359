import { inject, injectable } from 'inversify';
import { tf } from '../tensor/tf.js';
import { variableGrads } from '../tensor/grads.js';
import type { Rng } from '../tensor/rng.js';
import { featureSize, takeExamples } from '../contracts/data.js';
import type { Model } from '../contracts/model.js';
import type { NamedTensors } from '../contracts/optimizer.js';
import type { Sampler } from '../contracts/sampler.js';
import type { StepBatch, TrainingSet } from '../contracts/strategy.js';
import type { ComposedBatch, StrategyPipeline } from './pipeline.js';
import type { Task, TaskStream } from '../contracts/stream.js';
import type { RunConfig } from '../spec/spec.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { ScenarioView } from './scenario.js';
import type { ConstraintsEvent, EpochEnd, PhaseStart, StepEvent } from './events.js';
import { AUGMENTATIONS, COMPONENT, ROOT_RNG, RUN_CONFIG, SCENARIO, TOGETHER } from './tokens.js';
import type { Lane } from './together.js';
import type { Augmentation } from '../contracts/augmentation.js';

/** What one step leaves: each strategy's new step state and, at logging points, the values to read back. */
type StepResult = { states: (Record<string, tf.Tensor> | undefined)[]; logged?: tf.Tensor };

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

/** Where a task's training stands: steps done, and validation batches its periodic phase has drawn. */
export interface TaskPosition {
  task: number;
  step: number;
  phases: number;
}

/** How `train` continues a task from a checkpoint and offers to write new ones. */
export interface TrainHooks {
  /** Start after `step` completed steps: `restore` puts the model, optimizer and step state back (after the task's set-up). */
  resumeAt?: { step: number; phases: number; restore(): void };
  /** Asked after every step (outside any tidy); writes a checkpoint when it is due. */
  afterStep?(position: TaskPosition): Promise<void>;
}

export interface TaskSelection {
  train: Int32Array;
  /** Held out for a periodic phase (TPGM); empty otherwise. */
  validation: Int32Array;
  /** Held out for choosing hyper-parameters (the experiment's `select`): never trained on, evaluated as eval set 'validation'. Empty without `select`. */
  heldOut: Int32Array;
}

/**
 * One phase of a task as the trainer runs it: steps offset+1 .. offset+steps
 * of the task, with gradients for `variables` only. `globalStep`: the run's
 * optimizer steps so far, over every phase's optimizer (asked after a resume
 * has restored their counts).
 */
export interface PhaseSegment {
  phase: number;
  offset: number;
  steps: number;
  variables: tf.Variable[];
  globalStep(): number;
  /** Announced as a `phase-start` event once the phase is set up (after a resume restored the counters). */
  announce?: Pick<PhaseStart, 'name' | 'optimizer' | 'trainable' | 'frozen'>;
}

/** A `select.validation` fraction the task's data cannot give (a class left without training examples). */
export class HoldOutError extends Error {}

/**
 * Trains the model on one task. This is the training loop of anchorage and
 * the only one: every step runs inside tf.tidy and nothing is read back from
 * the backend except the loss (and anchoring diagnostics) every `logEvery`
 * steps.
 */
@injectable()
export class TaskTrainer {
  private readonly variables: tf.Variable[];
  /** tfjs names variables globally; gradients come back under those names. */
  private readonly paramNameOf: Map<string, string>;
  /** Per task, the additive logit mask of the scenario ([tasks, outputs]); null when every output competes. */
  private readonly taskMasks: tf.Tensor2D | null;
  private readonly paramRecord: NamedTensors;
  /** Random augmentations of the sampled rows, in order. */
  private readonly augmentations: Augmentation[];
  /** Deterministic input transforms (normalize): inside the model's forward alone, applied to the rows when the model is stacked. */
  private readonly inputTransforms: Augmentation[];
  private readonly imageShape: [number, number, number];
  /** The task being trained and its completed steps; undefined between tasks. */
  position: TaskPosition | undefined;

  constructor(
    @inject(RUN_CONFIG) private readonly config: RunConfig,
    @inject(SCENARIO) private readonly scenario: ScenarioView,
    @inject(COMPONENT.model) private readonly model: Model,
    @inject(COMPONENT.sampler) private readonly sampler: Sampler,
    @inject(COMPONENT.stream) private readonly stream: TaskStream,
    @inject(ROOT_RNG) private readonly rng: Rng,
    @inject(AUGMENTATIONS) augmentations: Augmentation[],
    @inject(TOGETHER) private readonly lane: Lane | null,
  ) {
    this.augmentations = augmentations.filter((a) => a.when === 'train');
    this.inputTransforms = augmentations.filter((a) => a.when === 'always');
    const shape = stream.featureShape;
    this.imageShape = shape.length === 3 ? [shape[0], shape[1], shape[2]] : [shape[0] ?? 1, shape[1] ?? 1, 1];
    this.variables = [...model.params.values()];
    this.paramNameOf = new Map([...model.params].map(([name, v]) => [v.name, name]));
    this.taskMasks = taskMaskMatrix(stream, scenario);
    this.paramRecord = Object.fromEntries(model.params);
  }

  /**
   * The training examples this task uses (the sampler's choice), less a
   * seeded validation hold-out when the optimizer has a periodic phase.
   */
  select(task: Task, validationFraction = 0): TaskSelection {
    const sampled = this.sampler.select(task, this.rng.fork(`sampler:select:${task.index}`));
    if (sampled.length === 0) throw new Error(`sampler selected no training examples for task ${task.name}`);
    const { heldOut, rest: selected } = this.config.select ? this.holdOut(task, sampled, this.config.select.validation) : { heldOut: new Int32Array(0), rest: sampled };
    if (validationFraction <= 0) return { train: selected, validation: new Int32Array(0), heldOut };
    const shuffled = this.rng.fork(`validation:${task.index}`).shuffle(Int32Array.from(selected));
    const held = Math.round(shuffled.length * validationFraction);
    if (held < 1 || held >= shuffled.length) {
      throw new Error(`task ${task.name}: a validation fraction of ${validationFraction} of ${shuffled.length} examples leaves ${held} for validation and ${shuffled.length - held} for training; both need at least one`);
    }
    return { validation: shuffled.slice(0, held).sort(), train: shuffled.slice(held).sort(), heldOut };
  }

  /**
   * The `select` hold-out: per class, a seeded `fraction` of the sampled
   * examples (rounded), so that validation has the task's class balance.
   * Every class keeps at least one training example.
   */
  private holdOut(task: Task, sampled: Int32Array, fraction: number): { heldOut: Int32Array; rest: Int32Array } {
    const byClass = new Map<number, number[]>();
    for (const i of sampled) {
      const rows = byClass.get(task.train.labels[i]);
      if (rows) rows.push(i);
      else byClass.set(task.train.labels[i], [i]);
    }
    const rng = this.rng.fork(`select-validation:${task.index}`);
    const held: number[] = [];
    const rest: number[] = [];
    for (const [label, rows] of [...byClass].sort((a, b) => a[0] - b[0])) {
      const order = rng.shuffle(Int32Array.from(rows));
      const n = Math.round(order.length * fraction);
      if (order.length - n < 1) throw new HoldOutError(`task ${task.name}: holding out ${fraction} of class ${label}'s ${order.length} training example${order.length > 1 ? 's' : ''} leaves none to train on`);
      held.push(...order.slice(0, n));
      rest.push(...order.slice(n));
    }
    if (held.length === 0) throw new HoldOutError(`task ${task.name}: a validation fraction of ${fraction} of ${sampled.length} examples holds out none; raise it`);
    return { heldOut: Int32Array.from(held).sort(), rest: Int32Array.from(rest).sort() };
  }

  /** Examples of `task` at `indices` as a training set in the scenario's label space. */
  trainingSet(task: Task, indices: Int32Array): TrainingSet {
    const taken = takeExamples(task.train, indices, featureSize(this.stream.featureShape));
    const labels = this.scenario.labels(task, 'train');
    return { ...taken, labels: Int32Array.from(indices, (i) => labels[i]), taskIds: new Int32Array(indices.length).fill(task.index) };
  }

  /** Logits with the scenario's per-example task masks applied. */
  masked(logits: tf.Tensor, taskIds: tf.Tensor): tf.Tensor {
    return this.taskMasks ? tf.add(logits, tf.gather(this.taskMasks, taskIds)) : logits;
  }

  /** Mean (or row-weighted mean) cross-entropy of logits already carrying their masks. */
  private baseLoss(labels: tf.Tensor, logits: tf.Tensor, weights?: { values: tf.Tensor; total: number }): tf.Scalar {
    const targets = tf.oneHot(labels, this.scenario.outputs);
    if (!weights) return tf.losses.softmaxCrossEntropy(targets, logits) as tf.Scalar;
    if (weights.total === 0) return tf.scalar(0);
    const perRow = tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), 1));
    return tf.div(tf.sum(tf.mul(perRow, weights.values)), weights.total) as tf.Scalar;
  }

  /** The step's loss from the model's raw outputs for the composed batch: the masked base loss plus every strategy's term. */
  private stepLoss(composed: ComposedBatch, rawLogits: tf.Tensor, params: NamedTensors, step: number, sampled: number, pipeline: StrategyPipeline): tf.Scalar {
    const logits = this.masked(rawLogits, composed.taskIds);
    const loss = this.baseLoss(composed.labels, composed.mask ? tf.add(logits, composed.mask) : logits, composed.weights);
    const term = pipeline.lossTerms({ step, params, x: composed.x, rawLogits, logits, labels: composed.labels, taskIds: composed.taskIds, replayed: composed.replayed!, sampled }, composed.own);
    return term ? (tf.add(loss, term) as tf.Scalar) : loss;
  }

  private named(grads: Record<string, tf.Tensor>): NamedTensors {
    const named: NamedTensors = {};
    for (const [varName, g] of Object.entries(grads)) named[this.paramNameOf.get(varName)!] = g;
    return named;
  }

  /**
   * Rows of the sampled batch at each step of a task trained on `count`
   * examples: steps number on across the task's phases, and each phase
   * starts its own passes over the data.
   */
  rowsAt(count: number, phaseSteps: readonly number[] = [Number.MAX_SAFE_INTEGER]): (step: number) => number {
    const { batchSize } = this.config.train;
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

  async *train(
    task: Task,
    data: TrainingSet,
    validationSet: TrainingSet | undefined,
    optimizer: Optimizer,
    pipeline: StrategyPipeline,
    signal?: AbortSignal,
    hooks: TrainHooks = {},
    segment: PhaseSegment = { phase: 0, offset: 0, steps: plannedSteps(data.count, this.config.train), variables: this.variables, globalStep: () => optimizer.stepCount },
  ): AsyncGenerator<PhaseStart | StepEvent | ConstraintsEvent | EpochEnd> {
    const { batchSize, logEvery } = this.config.train;
    // Steps number on across a task's phases: this phase runs steps offset+1 .. offset+phaseSteps.
    const { offset, variables, globalStep } = segment;
    const phaseSteps = segment.steps;
    const total = offset + phaseSteps;
    // Phase 0 keeps the random streams runs without phases always had.
    const phaseKey = segment.phase > 0 ? `:phase${segment.phase}` : '';
    const phaseField = this.config.phases ? { phase: segment.phase } : {};
    const gradientsOf = (x: tf.Tensor, labels: tf.Tensor, taskIds: tf.Tensor): NamedTensors =>
      this.named(variableGrads(() => this.baseLoss(labels, this.masked(this.model.forward(x, true), taskIds)), variables).grads);
    const size = featureSize(this.stream.featureShape);
    const outputs = this.scenario.outputs;
    for (const l of data.labels) {
      if (l < 0 || l >= outputs) throw new Error(`task ${task.name}: label ${l} is outside the model's ${outputs} outputs`);
    }
    const n = data.count;
    if (n === 0) return; // e.g. the later tasks of joint training
    const x = tf.tensor2d(data.features, [n, size]);
    const y = tf.tensor1d(data.labels, 'int32');
    const ids = tf.tensor1d(data.taskIds, 'int32');
    optimizer.startTraining(phaseSteps);
    this.lane?.enter(phaseSteps);
    // Each augmentation's randomness for the whole phase, drawn by name: a resumed task draws the same.
    // Augmentations look their draws up by the step (within the phase, so planTask sees the phase's steps).
    this.augmentations.forEach((a, i) => a.planTask?.(phaseSteps, batchSize, this.rng.fork(`augment:${i}:${task.index}${phaseKey}`)));
    const validation = optimizer.component.phase && validationSet ? new ValidationBatches(validationSet, size, batchSize, this.rng.fork(`validation-order:${task.index}${phaseKey}`)) : undefined;
    const model = this.model;
    const validationScore = (rawLogits: tf.Tensor, yv: tf.Tensor, idv: tf.Tensor) => tf.losses.softmaxCrossEntropy(tf.oneHot(yv, outputs), this.masked(rawLogits, idv)) as tf.Scalar;
    const validationLoss = (xv: tf.Tensor, yv: tf.Tensor, idv: tf.Tensor) => (params: NamedTensors) => {
      if (!model.apply) throw new Error('this optimizer needs a model that can run with other parameter values (Model.apply)');
      // The phase scores the parameters it trains; frozen ones enter at their values.
      return validationScore(model.apply({ ...this.paramRecord, ...params }, xv, true), yv, idv);
    };
    const all = Int32Array.from({ length: n }, (_, i) => i);
    let step = offset;
    let phases = 0;
    const resumeAt = hooks.resumeAt && hooks.resumeAt.step >= offset && hooks.resumeAt.step <= total ? hooks.resumeAt : undefined;
    if (hooks.resumeAt && !resumeAt) throw new Error(`checkpoint is at step ${hooks.resumeAt.step} of task ${task.name}, outside steps ${offset}..${total} of this phase`);
    if (resumeAt) {
      resumeAt.restore();
      validation?.skip(resumeAt.phases);
      phases = resumeAt.phases;
    }
    this.position = { task: task.index, step, phases };
    if (segment.announce) yield { type: 'phase-start', runId: this.config.runId, task: task.index, phase: segment.phase, firstStep: offset + 1, steps: phaseSteps, globalStep: globalStep(), ...segment.announce };
    let lastYield = performance.now();
    try {
      for (let epoch = 0; step < total; epoch++) {
        const epochStart = performance.now();
        const order = this.sampler.order(all, epoch, this.rng.fork(`sampler:order:${task.index}:${epoch}${phaseKey}`));
        const count = order.length;
        const steps = Math.min(stepsPerEpoch(count, batchSize), total - step);
        // Resuming: epochs already trained are passed over (their orders are drawn, nothing else).
        if (resumeAt && step + steps <= resumeAt.step) {
          step += steps;
          continue;
        }
        const first = resumeAt && resumeAt.step > step ? resumeAt.step - step : 0;
        step += first;
        // One gather per epoch puts the examples in order on the backend; steps then only slice.
        const [ex, ey, eid] = tf.tidy(() => {
          const idx = tf.tensor1d(order, 'int32');
          return [tf.gather(x, idx), tf.gather(y, idx), tf.gather(ids, idx)];
        });
        let windowStart = performance.now();
        let windowExamples = 0;
        try {
          for (let s = first; s < steps; s++) {
            // Steps never wait on a macrotask otherwise (the throttled read-back resolves as a
            // microtask): without this yield a SIGINT or SIGTERM handler would not run until the run ends.
            if (performance.now() - lastYield > YIELD_EVERY_MS) {
              await new Promise((resolve) => setImmediate(resolve));
              lastYield = performance.now();
            }
            if (signal?.aborted) throw new InterruptedError('interrupted');
            const start = s * batchSize;
            const b = Math.min(batchSize, count - start);
            step += 1;
            const log = step % logEvery === 0 || step === total;
            let diagnosed: string[] | undefined;
            // The sampled rows' logits leave the gradient tape only when an afterStep hook needs them (DER).
            let stepLogits: tf.Tensor | undefined;
            let result: StepResult;
            const sampledBatch = (): StepBatch => ({ step, size: b, x: this.augment(tf.slice(ex, [start, 0], [b, size]), step - offset), labels: tf.slice(ey, [start], [b]), taskIds: tf.slice(eid, [start], [b]) });
            if (this.lane) {
              // Trained together: the group takes this step with the other runs' (see together.ts).
              let batch: StepBatch | undefined;
              let composed: ComposedBatch | undefined;
              result = await this.lane.step<StepResult>({
                needsParams: pipeline.hasLossTerms || pipeline.hasAfterStep || (log && !!optimizer.component.anchor),
                needsGrads: pipeline.hasAfterStep,
                rows: () => {
                  batch = sampledBatch();
                  composed = pipeline.compose(batch, outputs);
                  return this.transformInput(composed.x);
                },
                loss: (rawLogits, params) => this.stepLoss(composed!, rawLogits, params, step, b, pipeline),
                // Drawn when the group's phase is due, as alone: the same batches in the same order.
                ...(validation
                  ? {
                      validation: () => {
                        const [xv, yv, idv] = validation.next();
                        phases += 1;
                        return { rows: this.transformInput(xv), loss: (rawLogits: tf.Tensor) => validationScore(rawLogits, yv, idv) };
                      },
                    }
                  : {}),
                after: ({ loss, rawLogits, params, final, grads, constraints }) => {
                  // afterStep hooks see the sampled rows' logits only, as alone.
                  const sampledLogits = () => (rawLogits.shape[0] === b ? rawLogits : tf.slice(rawLogits, [0, 0], [b, -1]));
                  const states = pipeline.hasAfterStep ? pipeline.afterStep({ step, params, grads, batch: { ...batch!, logits: sampledLogits() } }) : [];
                  if (!log) return { states } as StepResult;
                  const diagnostics = optimizer.component.anchor ? optimizer.diagnostics(final, constraints()) : undefined;
                  diagnosed = diagnostics?.names;
                  return { states, logged: diagnostics ? tf.concat([tf.reshape(loss, [1]), tf.reshape(diagnostics.values, [-1])]) : tf.reshape(loss, [1]) } as StepResult;
                },
              });
              optimizer.countStep();
            } else {
              try {
                result = tf.tidy(() => {
                  const batch = sampledBatch();
                  const composed = pipeline.compose(batch, outputs);
                  const { value, grads } = variableGrads(() => {
                    const rawLogits = this.model.forward(composed.x, true);
                    if (pipeline.needsStepLogits) stepLogits = tf.keep(composed.rows === b ? rawLogits : tf.slice(rawLogits, [0, 0], [b, -1]));
                    return this.stepLoss(composed, rawLogits, this.paramRecord, step, b, pipeline);
                  }, variables);
                  let named = this.named(grads);
                  if (pipeline.hasGradientStage) named = pipeline.gradients({ step, params: this.paramRecord, grads: named, gradientsOf });
                  optimizer.step(named);
                  const states = pipeline.hasAfterStep ? pipeline.afterStep({ step, params: this.paramRecord, grads: named, batch: { ...batch, logits: stepLogits! } }) : [];
                  if (validation && optimizer.phaseDue) {
                    const [xv, yv, idv] = validation.next();
                    optimizer.runPhase(validationLoss(xv, yv, idv));
                    phases += 1;
                  }
                  if (!log) return { states };
                  // One read-back per logging point: the loss and, for anchored methods, their diagnostics.
                  const diagnostics = optimizer.diagnostics();
                  diagnosed = diagnostics?.names;
                  const logged = diagnostics ? tf.concat([tf.reshape(value, [1]), tf.reshape(diagnostics.values, [-1])]) : tf.reshape(value, [1]);
                  return { states, logged };
                }) as typeof result;
              } finally {
                stepLogits?.dispose();
              }
            }
            pipeline.commit(result.states);
            this.position = { task: task.index, step, phases };
            const logged = result.logged;
            windowExamples += b;
            if (logged) {
              const values = await logged.data();
              logged.dispose();
              const value = values[0];
              if (!Number.isFinite(value)) throw new DivergedError(`loss became ${value} at task ${task.index}, epoch ${epoch}, step ${step}`);
              const now = performance.now();
              yield {
                type: 'step',
                runId: this.config.runId,
                task: task.index,
                epoch,
                step,
                globalStep: globalStep(),
                ...phaseField,
                loss: value,
                learningRate: optimizer.learningRate,
                examplesPerSecond: (windowExamples * 1000) / Math.max(now - windowStart, 1e-3),
              };
              if (diagnosed) {
                yield {
                  type: 'constraints',
                  runId: this.config.runId,
                  task: task.index,
                  step,
                  globalStep: globalStep(),
                  tensors: diagnosed.map((tensor, i) => ({ tensor, constraint: values[1 + 2 * i], distance: values[2 + 2 * i] })),
                };
              }
              windowStart = performance.now();
              windowExamples = 0;
            }
            if (hooks.afterStep) await hooks.afterStep(this.position);
          }
        } finally {
          tf.dispose([ex, ey, eid]);
        }
        yield { type: 'epoch-end', runId: this.config.runId, task: task.index, epoch, steps, seconds: (performance.now() - epochStart) / 1000 };
      }
      // What the run reads between tasks (evaluation, its strategies' task hooks) is its own parameters.
      this.lane?.sync();
      this.position = undefined;
    } finally {
      validation?.dispose();
      tf.dispose([x, y, ids]);
    }
  }

  /** Rows as the model's forward pass would see them after its input transforms (a stacked model has none of its own). */
  private transformInput(x: tf.Tensor): tf.Tensor {
    if (this.inputTransforms.length === 0) return x;
    let images = tf.reshape(x, [x.shape[0], ...this.imageShape]) as tf.Tensor4D;
    for (const a of this.inputTransforms) images = a.apply(images, 0);
    return tf.reshape(images, x.shape);
  }

  /** The sampled rows after the random augmentations (inside the step's tidy). */
  private augment(x: tf.Tensor, step: number): tf.Tensor {
    if (this.augmentations.length === 0) return x;
    let images = tf.reshape(x, [x.shape[0], ...this.imageShape]) as tf.Tensor4D;
    for (const a of this.augmentations) images = a.apply(images, step);
    return tf.reshape(images, x.shape);
  }

  dispose(): void {
    this.taskMasks?.dispose();
  }
}

function taskMaskMatrix(stream: TaskStream, scenario: ScenarioView): tf.Tensor2D | null {
  const allowed = stream.tasks.map((t) => scenario.allowedOutputs(t));
  if (allowed.every((a) => a === null)) return null;
  const values = new Float32Array(stream.tasks.length * scenario.outputs);
  allowed.forEach((a, t) => {
    if (!a) return;
    values.fill(-1e9, t * scenario.outputs, (t + 1) * scenario.outputs);
    for (const o of a) values[t * scenario.outputs + o] = 0;
  });
  return tf.tensor2d(values, [stream.tasks.length, scenario.outputs]);
}

/**
 * Cycles through the validation examples in batches: each pass gathers them
 * in a fresh seeded order on the backend once, then batches are slices.
 */
class ValidationBatches {
  private readonly x: tf.Tensor2D;
  private readonly y: tf.Tensor1D;
  private readonly ids: tf.Tensor1D;
  private xs?: tf.Tensor;
  private ys?: tf.Tensor;
  private is?: tf.Tensor;
  private cursor = 0;

  constructor(
    private readonly data: TrainingSet,
    size: number,
    private readonly batchSize: number,
    private readonly rng: Rng,
  ) {
    this.x = tf.tensor2d(data.features, [data.count, size]);
    this.y = tf.tensor1d(data.labels, 'int32');
    this.ids = tf.tensor1d(data.taskIds, 'int32');
    this.newPass();
  }

  private newPass(): void {
    tf.dispose([this.xs!, this.ys!, this.is!].filter(Boolean));
    const order = tf.tensor1d(this.rng.permutation(this.data.count), 'int32');
    this.xs = tf.keep(tf.gather(this.x, order));
    this.ys = tf.keep(tf.gather(this.y, order));
    this.is = tf.keep(tf.gather(this.ids, order));
    order.dispose();
    this.cursor = 0;
  }

  /** Passes over `batches` batches as `next` would draw them, without building them (resuming from a checkpoint). */
  skip(batches: number): void {
    if (batches <= 0) return;
    let passes = 0;
    for (let k = 0; k < batches; k++) {
      if (this.cursor >= this.data.count) {
        passes += 1;
        this.cursor = 0;
      }
      this.cursor += Math.min(this.batchSize, this.data.count - this.cursor);
    }
    if (passes === 0) return;
    // Every pass but the last only advances the generator; the last is built as newPass would.
    for (let p = 1; p < passes; p++) this.rng.permutation(this.data.count);
    const cursor = this.cursor;
    this.newPass();
    this.cursor = cursor;
  }

  /** The next batch; its tensors belong to the caller's tidy. */
  next(): [tf.Tensor, tf.Tensor, tf.Tensor] {
    if (this.cursor >= this.data.count) this.newPass();
    const size = Math.min(this.batchSize, this.data.count - this.cursor);
    const batch: [tf.Tensor, tf.Tensor, tf.Tensor] = [
      tf.slice(this.xs!, [this.cursor, 0], [size, -1]),
      tf.slice(this.ys!, [this.cursor], [size]),
      tf.slice(this.is!, [this.cursor], [size]),
    ];
    this.cursor += size;
    return batch;
  }

  dispose(): void {
    tf.dispose([this.xs!, this.ys!, this.is!, this.x, this.y, this.ids].filter(Boolean));
  }
}
