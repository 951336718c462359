import { inject, injectable } from 'inversify';
import { tf } from '../tensor/tf.js';
import { featureRows, type FeatureRows } from '../tensor/feature-rows.js';
import { featureSize, featureValues, takeExamples, type Examples } from '../contracts/data.js';
import type { Model } from '../contracts/model.js';
import type { Task, TaskStream } from '../contracts/stream.js';
import type { RunConfig } from '../contracts/run-config.js';
import type { PredictContext } from '../contracts/strategy.js';
import { logitMask, type ScenarioView } from '../contracts/scenario.js';
import { COMPONENT, RUN_CONFIG, SCENARIO } from './tokens.js';
import { corrupt, oodSetName } from '../data/corruptions.js';

/** What one evaluation pass may keep alive: inputs, activations and outputs of its rows. */
export const EVAL_PASS_BYTES = 256 * 2 ** 20;
/** Rows of the pass that measures a row's activations. */
const PROBE_ROWS = 8;

export interface EvalResult {
  accuracy: number;
  /** Mean cross-entropy. */
  loss: number;
  examples: number;
}

interface TestSet {
  x: FeatureRows;
  y: tf.Tensor1D;
  mask: tf.Tensor1D | null;
}

/**
 * Scores the model on a task's test split. Test tensors are uploaded once per
 * run and reused after every task; the only read-back is one per evaluation.
 */
@injectable()
export class Evaluator {
  private readonly sets = new Map<string, TestSet>();
  /** Each task's `select` hold-out (indices into its training examples). */
  private readonly heldOut = new Map<number, Int32Array>();
  /** Each task's continual-evaluation subset (indices into its test examples). */
  private readonly subsets = new Map<number, Int32Array>();
  /** Rows per forward pass, measured on the first evaluation (see passRows). */
  private rowsPerPass?: number;

  constructor(
    @inject(RUN_CONFIG) private readonly config: RunConfig,
    @inject(SCENARIO) private readonly scenario: ScenarioView,
    @inject(COMPONENT.model) private readonly model: Model,
    @inject(COMPONENT.stream) private readonly stream: TaskStream,
  ) {}

  /**
   * The eval sets of every task: the test split, the validation hold-out when the experiment selects, then each OOD
   * corruption of the test split.
   */
  get setNames(): string[] {
    return ['test', ...(this.config.select ? ['validation'] : []), ...this.config.eval.ood.map(oodSetName)];
  }

  /** The training examples of `task` held out for selection: eval set 'validation'. */
  holdOut(task: Task, indices: Int32Array): void {
    this.heldOut.set(task.index, indices);
  }

  /** The test examples of `task` that continual evaluation scores: eval set 'continual'. */
  continualSubset(task: Task, indices: Int32Array): void {
    this.subsets.set(task.index, indices);
  }

  private examples(task: Task, name: string): Examples {
    if (name === 'continual') {
      const indices = this.subsets.get(task.index);
      if (!indices) throw new Error(`task ${task.name} has no continual-evaluation subset`);
      const taken = takeExamples(task.test, indices, featureSize(this.stream.featureShape));
      const labels = this.scenario.labels(task, 'test');
      return { features: taken.features, labels: Int32Array.from(indices, (i) => labels[i]), count: indices.length };
    }
    if (name !== 'validation')
      return { features: task.test.features, labels: this.scenario.labels(task, 'test'), count: task.test.count };
    const indices = this.heldOut.get(task.index);
    if (!indices?.length) throw new Error(`task ${task.name} has no validation hold-out`);
    const taken = takeExamples(task.train, indices, featureSize(this.stream.featureShape));
    const labels = this.scenario.labels(task, 'train');
    return { features: taken.features, labels: Int32Array.from(indices, (i) => labels[i]), count: indices.length };
  }

  private testSet(task: Task, name: string): TestSet {
    const key = `${task.index}\u0000${name}`;
    let set = this.sets.get(key);
    if (!set) {
      const size = featureSize(this.stream.featureShape);
      const spec = this.config.eval.ood.find((o) => oodSetName(o) === name);
      const base = this.examples(task, name);
      // A corrupted copy is floats; the test set itself stays as it is stored (bytes where it is bytes).
      const features = spec ? corrupt(featureValues(base.features), this.stream.featureShape, spec) : base.features;
      set = {
        x: featureRows(features, base.count, size),
        y: tf.tensor1d(base.labels, 'int32'),
        mask: logitMask(this.scenario.allowedOutputs(task), this.scenario.outputs),
      };
      this.sets.set(key, set);
    }
    return set;
  }

  /**
   * Accuracy and mean cross-entropy of the model on a task's eval set. With
   * `predict` (a strategy's evaluation-time prediction), accuracy is scored
   * on its outputs; the loss stays the model's own.
   */
  async evaluate(
    task: Task,
    setName = 'test',
    predict?: (ctx: PredictContext) => tf.Tensor | undefined,
  ): Promise<EvalResult> {
    const [result] = await this.evaluateTasks([task], setName, predict);
    return result;
  }

  /** `evaluate` for several tasks with one read-back: what continual evaluation pays per evaluation point. */
  async evaluateTasks(
    tasks: readonly Task[],
    setName: string,
    predict?: (ctx: PredictContext) => tf.Tensor | undefined,
  ): Promise<EvalResult[]> {
    const sets = tasks.map((t) => this.testSet(t, setName));
    const parts = sets.map((set) => this.totals(set, predict));
    const totals = tf.stack(parts);
    tf.dispose(parts);
    const values = await totals.data();
    totals.dispose();
    return sets.map((set, i) => {
      const n = set.y.shape[0];
      return { accuracy: values[2 * i] / n, loss: values[2 * i + 1] / n, examples: n };
    });
  }

  /**
   * [correct, summed cross-entropy] of the model on one eval set, in batches of `eval.batchSize`, each in its own tidy
   * so that only one batch's activations are alive at a time; nothing is read back.
   */
  private totals(set: TestSet, predict?: (ctx: PredictContext) => tf.Tensor | undefined): tf.Tensor {
    const n = set.y.shape[0];
    const batch = this.passRows(set);
    const outputs = this.scenario.outputs;
    let sums: tf.Tensor = tf.zeros([2]);
    for (let start = 0; start < n; start += batch) {
      const size = Math.min(batch, n - start);
      const next = tf.tidy(() => {
        const x = set.x.slice(start, size);
        const y = tf.slice(set.y, [start], [size]);
        const raw = this.model.forward(x, false);
        const logits = set.mask ? tf.add(raw, set.mask) : raw;
        const replaced = predict?.({ x, logits: raw });
        const scores = replaced ? (set.mask ? tf.add(replaced, set.mask) : replaced) : logits;
        const hits = tf.sum(tf.cast(tf.equal(tf.argMax(scores, 1), y), 'float32'));
        const loss = tf.losses.softmaxCrossEntropy(
          tf.oneHot(y, outputs),
          logits,
          undefined,
          undefined,
          tf.Reduction.SUM,
        );
        return tf.add(sums, tf.stack([hits, loss]));
      });
      sums.dispose();
      sums = next;
    }
    return sums;
  }

  /**
   * `eval.batchSize` rows per forward pass, or fewer where the activations a pass keeps alive until its tidy ends would
   * pass EVAL_PASS_BYTES: measured once, on a forward pass of a few rows. An image model's activations are hundreds of
   * times its input (the reduced ResNet-18 keeps about 1.6 MB per 32×32×3 image: 1000 rows would hold 1.6 GB at
   * once); an MLP's fit 1000 rows many times over.
   */
  private passRows(set: TestSet): number {
    const most = this.config.eval.batchSize;
    if (this.rowsPerPass !== undefined) return this.rowsPerPass;
    const probe = Math.min(PROBE_ROWS, set.y.shape[0]);
    if (probe === 0) return most;
    const bytes = tf.tidy(() => {
      const before = tf.memory().numBytes;
      this.model.forward(set.x.slice(0, probe), false);
      return tf.memory().numBytes - before;
    });
    this.rowsPerPass = Math.max(1, Math.min(most, Math.floor(EVAL_PASS_BYTES / Math.max(1, bytes / probe))));
    return this.rowsPerPass;
  }

  dispose(): void {
    for (const set of this.sets.values()) {
      set.x.dispose();
      set.y.dispose();
      set.mask?.dispose();
    }
    this.sets.clear();
  }
}
