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

  /** Indices of the training examples this task uses (the sampler's choice). */
  select(task: Task): Int32Array {
    const selected = this.sampler.select(task, this.rng.fork(`sampler:select:${task.index}`));
    if (selected.length === 0) throw new Error(`sampler selected no training examples for task ${task.name}`);
    return selected;
  }

  async *train(task: Task, selected: Int32Array, optimizer: Optimizer, signal?: AbortSignal): AsyncGenerator<StepEvent | ConstraintsEvent | EpochEnd> {
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
      x.dispose();
      y.dispose();
      mask?.dispose();
    }
  }
}
