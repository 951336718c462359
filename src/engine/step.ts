// The training step, the one definition of it: the sampled rows (after the
// random augmentations) plus what strategies add; the base loss plus every
// strategy's term; the strategies' gradient stage; the optimizer step; the
// strategies' after-step work; and, at logging points, one read-back of the
// loss and an anchored optimizer's diagnostics. Whether the run trains alone
// or in a group is its executor's business (executor.ts), not the step's.
import { tf } from '../tensor/tf.js';
import type { Rng } from '../tensor/rng.js';
import type { Augmentation } from '../contracts/augmentation.js';
import type { NamedTensors } from '../contracts/optimizer.js';
import type { StepBatch, TrainingSet } from '../contracts/strategy.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { ComposedBatch, StrategyPipeline } from './pipeline.js';
import type { ScenarioLoss } from './scenario-loss.js';
import type { StepExecutor, StepRequest } from './executor.js';
import { ValidationBatches } from './validation-batches.js';

/** The sampled rows of a step, before augmentation: sliced inside the executor's tidy. */
export interface SampledAt {
  /** 1-based within the task. */
  readonly step: number;
  readonly size: number;
  slice(): { x: tf.Tensor; labels: tf.Tensor; taskIds: tf.Tensor };
}

/** What a logging step reads back. */
export interface StepReadout {
  loss: number;
  /** Per anchored tensor, its constraint and its distance from the anchor. */
  constraints?: { tensor: string; constraint: number; distance: number }[];
}

/** Everything a phase of a task trains with. */
export interface StepParts {
  readonly pipeline: StrategyPipeline;
  readonly optimizer: Optimizer;
  readonly loss: ScenarioLoss;
  readonly executor: StepExecutor;
  /** The random augmentations of the sampled rows, in order. */
  readonly augmentations: readonly Augmentation[];
  /** The variables this phase trains. */
  readonly variables: readonly tf.Variable[];
}

/** Where the step sits: the phase's first step, its steps, and the image shape augmentations see. */
export interface StepPlan {
  readonly offset: number;
  readonly steps: number;
  readonly batchSize: number;
  readonly imageShape: readonly [number, number, number];
  /** The phase's examples its optimizer's periodic phase scores on (TPGM), with their seeded order. */
  readonly validation?: { data: TrainingSet; featureSize: number; rng: Rng };
  /** Draws each augmentation's randomness for the phase (resumed runs draw the same). */
  readonly augmentRng: (index: number) => Rng;
}

/** One phase of one task: every step it takes goes through `take`. */
export class TrainingStep {
  private readonly validation?: ValidationBatches;

  constructor(
    private readonly parts: StepParts,
    private readonly plan: StepPlan,
  ) {
    const { optimizer, executor, augmentations } = parts;
    optimizer.startTraining(plan.steps);
    executor.begin({ optimizer, variables: parts.variables });
    // Each augmentation's randomness for the whole phase; augmentations look their draws up by the step within the
    // phase.
    augmentations.forEach((a, i) => a.planTask?.(plan.steps, plan.batchSize, plan.augmentRng(i)));
    const v = plan.validation;
    if (optimizer.component.phase && v)
      this.validation = new ValidationBatches(v.data, v.featureSize, plan.batchSize, v.rng);
  }

  get learningRate(): number {
    return this.parts.optimizer.learningRate;
  }

  /** Validation batches drawn so far for the optimizer's periodic phase. */
  get validationBatches(): number {
    return this.validation?.drawn ?? 0;
  }

  /** Passes over validation batches a resumed run drew before its checkpoint. */
  skipValidation(batches: number): void {
    this.validation?.skip(batches);
  }

  /** One step; at a logging point (`log`), what it reads back. */
  async take(at: SampledAt, log: boolean): Promise<StepReadout | undefined> {
    const { pipeline } = this.parts;
    let diagnosed: string[] | undefined;
    const done = await this.parts.executor.step(this.request(at, log, (names) => (diagnosed = names)));
    pipeline.commit(done.after);
    if (!done.readout) return undefined;
    const values = await done.readout.data();
    done.readout.dispose();
    return {
      loss: values[0],
      ...(diagnosed && {
        constraints: diagnosed.map((tensor, i) => ({
          tensor,
          constraint: values[1 + 2 * i],
          distance: values[2 + 2 * i],
        })),
      }),
    };
  }

  private request(
    at: SampledAt,
    log: boolean,
    diagnosing: (names: string[]) => void,
  ): StepRequest<(Record<string, tf.Tensor> | undefined)[]> {
    const { pipeline, optimizer, loss } = this.parts;
    const { step, size } = at;
    let batch: StepBatch | undefined;
    let composed: ComposedBatch | undefined;
    return {
      rows: () => {
        const sampled = at.slice();
        batch = {
          step,
          size,
          x: this.augment(sampled.x, step - this.plan.offset),
          labels: sampled.labels,
          taskIds: sampled.taskIds,
        };
        composed = pipeline.compose(batch, loss.outputs);
        return composed.x;
      },
      loss: (rawLogits, params) => this.stepLoss(composed!, rawLogits, params, step),
      keepLogits: pipeline.hasAfterStep,
      ...(pipeline.hasGradientStage && {
        gradients: ({ grads, params, gradientsOf }) =>
          pipeline.gradients({
            step,
            params,
            grads,
            gradientsOf: (x, labels, taskIds) => gradientsOf(x, (raw) => loss.ofRows(raw, labels, taskIds)),
          }),
      }),
      ...(this.validation && {
        validation: () => {
          const [x, labels, taskIds] = this.validation!.next();
          return { rows: x, loss: (raw: tf.Tensor) => loss.ofRows(raw, labels, taskIds) };
        },
      }),
      afterStep: ({ params, grads, rawLogits }) => {
        if (!pipeline.hasAfterStep) return [];
        // After-step hooks see the sampled rows' outputs only.
        const logits = rawLogits!.shape[0] === size ? rawLogits! : tf.slice(rawLogits!, [0, 0], [size, -1]);
        return pipeline.afterStep({ step, params, grads, batch: { ...batch!, logits } });
      },
      ...(log && {
        // One read-back per logging point: the loss and, for anchored methods, their diagnostics.
        readout: (value: tf.Scalar) => {
          const diagnostics = optimizer.diagnostics();
          if (!diagnostics) return tf.reshape(value, [1]);
          diagnosing(diagnostics.names);
          return tf.concat([tf.reshape(value, [1]), tf.reshape(diagnostics.values, [-1])]);
        },
      }),
    };
  }

  /**
   * The step's loss from the model's raw outputs for the composed batch: the masked base loss plus every strategy's
   * term.
   */
  private stepLoss(composed: ComposedBatch, rawLogits: tf.Tensor, params: NamedTensors, step: number): tf.Scalar {
    const { pipeline, loss } = this.parts;
    const logits = loss.masked(rawLogits, composed.taskIds);
    const base = loss.base(composed.labels, composed.mask ? tf.add(logits, composed.mask) : logits, composed.weights);
    const term = pipeline.lossTerms(
      {
        step,
        params,
        x: composed.x,
        rawLogits,
        logits,
        labels: composed.labels,
        taskIds: composed.taskIds,
        replayed: composed.replayed!,
        sampled: composed.sampled,
      },
      composed.own,
    );
    return term ? tf.add<tf.Scalar>(base, term) : base;
  }

  /** The sampled rows after the random augmentations. */
  private augment(x: tf.Tensor, step: number): tf.Tensor {
    const { augmentations } = this.parts;
    if (augmentations.length === 0) return x;
    let images = tf.reshape<tf.Rank.R4>(x, [x.shape[0], ...this.plan.imageShape]);
    for (const a of augmentations) images = a.apply(images, step);
    return tf.reshape(images, x.shape);
  }

  dispose(): void {
    this.validation?.dispose();
  }
}
