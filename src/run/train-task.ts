import { inject, injectable } from 'inversify';
import { tf } from '../tensor/tf.js';
import type { Rng } from '../tensor/rng.js';
import { featureSize } from '../contracts/data.js';
import type { Model } from '../contracts/model.js';
import type { NamedTensors } from '../contracts/optimizer.js';
import type { Sampler } from '../contracts/sampler.js';
import type { Task, TaskStream } from '../contracts/stream.js';
import type { RunConfig } from '../experiment/spec.js';
import type { Optimizer } from '../optim/optimizer.js';
import { logitMask, type ScenarioView } from './scenario.js';
import type { ConstraintsEvent, EpochEnd, StepEvent } from './events.js';
import { COMPONENT, ROOT_RNG, RUN_CONFIG, SCENARIO } from './tokens.js';

/** The loss turned NaN or infinite: the run is recorded as `diverged`. */
export class DivergedError extends Error {}
/** The user (or a scheduler) asked the run to stop. */
export class InterruptedError extends Error {}

export function stepsPerEpoch(examples: number, batchSize: number): number {
  return Math.ceil(examples / batchSize);
}

/**
 * Trains the model on one task. This is the training loop of anchorage and
 * the only one: every step runs inside tf.tidy and nothing is read back from
 * the backend except the loss every `logEvery` steps.
 */
@injectable()
export class TaskTrainer {
  private readonly variables: tf.Variable[];
  /** tfjs names variables globally; gradients come back under those names. */
  private readonly paramNameOf: Map<string, string>;

  constructor(
    @inject(RUN_CONFIG) private readonly config: RunConfig,
    @inject(SCENARIO) private readonly scenario: ScenarioView,
    @inject(COMPONENT.model) private readonly model: Model,
    @inject(COMPONENT.sampler) private readonly sampler: Sampler,
    @inject(COMPONENT.stream) private readonly stream: TaskStream,
    @inject(ROOT_RNG) private readonly rng: Rng,
  ) {
    this.variables = [...model.params.values()];
    this.paramNameOf = new Map([...model.params].map(([name, v]) => [v.name, name]));
  }

  /**
   * The training examples this task uses (the sampler's choice), less a
   * seeded validation hold-out when the optimizer has a periodic phase.
   */
  select(task: Task, validationFraction = 0): TaskSelection {
    const selected = this.sampler.select(task, this.rng.fork(`sampler:select:${task.index}`));
    if (selected.length === 0) throw new Error(`sampler selected no training examples for task ${task.name}`);
    if (validationFraction <= 0) return { train: selected, validation: new Int32Array(0) };
    const shuffled = this.rng.fork(`validation:${task.index}`).shuffle(Int32Array.from(selected));
    const held = Math.round(shuffled.length * validationFraction);
    if (held < 1 || held >= shuffled.length) {
      throw new Error(`task ${task.name}: a validation fraction of ${validationFraction} of ${shuffled.length} examples leaves ${held} for validation and ${shuffled.length - held} for training; both need at least one`);
    }
    return { validation: shuffled.slice(0, held).sort(), train: shuffled.slice(held).sort() };
  }

  async *train(task: Task, selection: TaskSelection, optimizer: Optimizer, signal?: AbortSignal): AsyncGenerator<StepEvent | ConstraintsEvent | EpochEnd> {
    const selected = selection.train;
    const { epochs, batchSize, logEvery } = this.config.train;
    const size = featureSize(this.stream.featureShape);
    const outputs = this.scenario.outputs;
    const labels = this.scenario.labels(task, 'train');
    for (const l of labels) {
      if (l < 0 || l >= outputs) throw new Error(`task ${task.name}: label ${l} is outside the model's ${outputs} outputs`);
    }
    const x = tf.tensor2d(task.train.features, [task.train.count, size]);
    const y = tf.tensor1d(labels, 'int32');
    const mask = logitMask(this.scenario.allowedOutputs(task), outputs);
    const lr = optimizer.component.learningRate;
    const validation = optimizer.component.phase ? new ValidationBatches(x, y, selection.validation, batchSize, this.rng.fork(`validation-order:${task.index}`)) : undefined;
    const model = this.model;
    const validationLoss = (xv: tf.Tensor, yv: tf.Tensor) => (params: NamedTensors) => {
      if (!model.apply) throw new Error('this optimizer needs a model that can run with other parameter values (Model.apply)');
      let logits = model.apply(params, xv, true);
      if (mask) logits = tf.add(logits, mask);
      return tf.losses.softmaxCrossEntropy(tf.oneHot(yv, outputs), logits);
    };
    let step = 0;
    try {
      for (let epoch = 0; epoch < epochs; epoch++) {
        const epochStart = performance.now();
        const order = this.sampler.order(selected, epoch, this.rng.fork(`sampler:order:${task.index}:${epoch}`));
        // One gather per epoch puts the examples in order on the backend; steps then only slice.
        const [ex, ey] = tf.tidy(() => {
          const idx = tf.tensor1d(order, 'int32');
          return [tf.gather(x, idx), tf.gather(y, idx)];
        });
        const n = order.length;
        const steps = stepsPerEpoch(n, batchSize);
        let windowStart = performance.now();
        let windowExamples = 0;
        try {
          for (let s = 0; s < steps; s++) {
            if (signal?.aborted) throw new InterruptedError('interrupted');
            const start = s * batchSize;
            const count = Math.min(batchSize, n - start);
            step += 1;
            const log = step % logEvery === 0 || (epoch === epochs - 1 && s === steps - 1);
            let diagnosed: string[] | undefined;
            const logged = tf.tidy((): tf.Tensor | undefined => {
              const xb = tf.slice(ex, [start, 0], [count, size]);
              const yb = tf.oneHot(tf.slice(ey, [start], [count]), outputs);
              const { value, grads } = tf.variableGrads(() => {
                let logits = this.model.forward(xb, true);
                if (mask) logits = tf.add(logits, mask);
                return tf.losses.softmaxCrossEntropy(yb, logits) as tf.Scalar;
              }, this.variables);
              const named: NamedTensors = {};
              for (const [varName, g] of Object.entries(grads)) named[this.paramNameOf.get(varName)!] = g;
              optimizer.step(named);
              if (validation && optimizer.phaseDue) {
                const [xv, yv] = validation.next();
                optimizer.runPhase(validationLoss(xv, yv));
              }
              if (!log) return undefined;
              // One read-back per logging point: the loss and, for anchored methods, their diagnostics.
              const diagnostics = optimizer.diagnostics();
              diagnosed = diagnostics?.names;
              return diagnostics ? tf.concat([tf.reshape(value, [1]), tf.reshape(diagnostics.values, [-1])]) : tf.reshape(value, [1]);
            });
            windowExamples += count;
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
                globalStep: optimizer.stepCount,
                loss: value,
                learningRate: lr,
                examplesPerSecond: (windowExamples * 1000) / Math.max(now - windowStart, 1e-3),
              };
              if (diagnosed) {
                yield {
                  type: 'constraints',
                  runId: this.config.runId,
                  task: task.index,
                  step,
                  globalStep: optimizer.stepCount,
                  tensors: diagnosed.map((tensor, i) => ({ tensor, constraint: values[1 + 2 * i], distance: values[2 + 2 * i] })),
                };
              }
              windowStart = performance.now();
              windowExamples = 0;
            }
          }
        } finally {
          ex.dispose();
          ey.dispose();
        }
        yield { type: 'epoch-end', runId: this.config.runId, task: task.index, epoch, steps, seconds: (performance.now() - epochStart) / 1000 };
      }
    } finally {
      validation?.dispose();
      x.dispose();
      y.dispose();
      mask?.dispose();
    }
  }
}

export interface TaskSelection {
  train: Int32Array;
  /** Held out for a periodic phase (TPGM); empty otherwise. */
  validation: Int32Array;
}

/**
 * Cycles through the validation examples in batches: each pass gathers them
 * in a fresh seeded order on the backend once, then batches are slices.
 */
class ValidationBatches {
  private xs?: tf.Tensor;
  private ys?: tf.Tensor;
  private cursor = 0;

  constructor(
    private readonly x: tf.Tensor2D,
    private readonly y: tf.Tensor1D,
    private readonly indices: Int32Array,
    private readonly batchSize: number,
    private readonly rng: Rng,
  ) {
    this.newPass();
  }

  private newPass(): void {
    this.dispose();
    const order = tf.tensor1d(this.rng.shuffle(Int32Array.from(this.indices)), 'int32');
    this.xs = tf.keep(tf.gather(this.x, order));
    this.ys = tf.keep(tf.gather(this.y, order));
    order.dispose();
    this.cursor = 0;
  }

  /** The next batch; its tensors belong to the caller's tidy. */
  next(): [tf.Tensor, tf.Tensor] {
    const n = this.indices.length;
    if (this.cursor >= n) this.newPass();
    const size = Math.min(this.batchSize, n - this.cursor);
    const batch: [tf.Tensor, tf.Tensor] = [tf.slice(this.xs!, [this.cursor, 0], [size, -1]), tf.slice(this.ys!, [this.cursor], [size])];
    this.cursor += size;
    return batch;
  }

  dispose(): void {
    this.xs?.dispose();
    this.ys?.dispose();
    this.xs = this.ys = undefined;
  }
}
