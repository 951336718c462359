// Which of a task's training examples the run uses, and as what: the
// sampler's choice (all, a fraction, k per class), less the hold-out the
// experiment's hyper-parameter selection evaluates on (`select.validation`),
// less the hold-out an optimizer's periodic phase scores on (TPGM). Every
// draw is seeded by the task, so a rerun or a resume draws the same.
import { inject, injectable } from 'inversify';
import type { Rng } from '../tensor/rng.js';
import { featureSize, takeExamples } from '../contracts/data.js';
import type { Sampler } from '../contracts/sampler.js';
import type { TrainingSet } from '../contracts/strategy.js';
import type { Task, TaskStream } from '../contracts/stream.js';
import type { ScenarioView } from '../contracts/scenario.js';
import type { RunConfig } from '../contracts/run-config.js';
import { COMPONENT, ROOT_RNG, RUN_CONFIG, SCENARIO } from './tokens.js';

/** A task's training examples, by index into its training split. */
export interface TaskSplit {
  train: Int32Array;
  /** Held out for an optimizer's periodic phase (TPGM); empty otherwise. */
  validation: Int32Array;
  /** Held out for choosing hyper-parameters (`select`): never trained on, evaluated as eval set 'validation'. */
  heldOut: Int32Array;
}

/** A `select.validation` fraction the task's data cannot give (a class left without training examples). */
export class HoldOutError extends Error {}

@injectable()
export class TaskExamples {
  constructor(
    @inject(RUN_CONFIG) private readonly config: RunConfig,
    @inject(SCENARIO) private readonly scenario: ScenarioView,
    @inject(COMPONENT.sampler) private readonly sampler: Sampler,
    @inject(COMPONENT.stream) private readonly stream: TaskStream,
    @inject(ROOT_RNG) private readonly rng: Rng,
  ) {}

  /**
   * The examples this task uses (the sampler's subset), less the validation
   * hold-out of model selection and a seeded `phaseFraction` for a periodic phase.
   */
  split(task: Task, phaseFraction = 0): TaskSplit {
    // The generator's label predates the method's name; it fixes every run's draws, so it stays.
    const sampled = this.sampler.subset(task, this.rng.fork(`sampler:select:${task.index}`));
    if (sampled.length === 0) throw new Error(`sampler chose no training examples for task ${task.name}`);
    const { heldOut, rest } = this.config.select
      ? this.holdOut(task, sampled, this.config.select.validation)
      : { heldOut: new Int32Array(0), rest: sampled };
    if (phaseFraction <= 0) return { train: rest, validation: new Int32Array(0), heldOut };
    const shuffled = this.rng.fork(`validation:${task.index}`).shuffle(Int32Array.from(rest));
    const held = Math.round(shuffled.length * phaseFraction);
    if (held < 1 || held >= shuffled.length) {
      throw new Error(
        `task ${task.name}: a validation fraction of ${phaseFraction} of ${shuffled.length} examples leaves ${held} ` +
          `for validation and ${shuffled.length - held} for training; both need at least one`,
      );
    }
    return { validation: shuffled.slice(0, held).sort(), train: shuffled.slice(held).sort(), heldOut };
  }

  /**
   * The selection hold-out: per class, a seeded `fraction` of the sampled
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
      if (order.length - n < 1) {
        const examples = `${order.length} training example${order.length > 1 ? 's' : ''}`;
        throw new HoldOutError(
          `task ${task.name}: holding out ${fraction} of class ${label}'s ${examples} leaves none to train on`,
        );
      }
      held.push(...order.slice(0, n));
      rest.push(...order.slice(n));
    }
    if (held.length === 0) {
      throw new HoldOutError(
        `task ${task.name}: a validation fraction of ${fraction} of ${sampled.length} examples holds out none; ` +
          `raise it`,
      );
    }
    return { heldOut: Int32Array.from(held).sort(), rest: Int32Array.from(rest).sort() };
  }

  /** Examples of `task` at `indices` as a training set in the scenario's label space. */
  trainingSet(task: Task, indices: Int32Array): TrainingSet {
    const taken = takeExamples(task.train, indices, featureSize(this.stream.featureShape));
    const labels = this.scenario.labels(task, 'train');
    return {
      ...taken,
      labels: Int32Array.from(indices, (i) => labels[i]),
      taskIds: new Int32Array(indices.length).fill(task.index),
    };
  }
}
