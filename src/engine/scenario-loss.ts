// The losses of a run in its scenario's terms: logits carry the scenario's
// per-task masks (task-IL lets only a task's own classes compete), and the
// base loss is the (row-weighted) mean cross-entropy over them.
import { tf } from '../tensor/tf.js';
import type { TaskStream } from '../contracts/stream.js';
import type { ScenarioView } from '../contracts/scenario.js';
import { stepKernelsActive } from '../tensor/kernels/native-ops.js';
import { nativeCrossEntropy } from '../tensor/kernels/native-cross-entropy.js';

/** Per-row weights of the base loss and their sum (a host number). */
export interface RowWeights {
  readonly values: tf.Tensor;
  readonly total: number;
}

export class ScenarioLoss {
  /** Per task, the additive logit mask of the scenario ([tasks, outputs]); null when every output competes. */
  private readonly taskMasks: tf.Tensor2D | null;

  constructor(
    stream: TaskStream,
    private readonly scenario: ScenarioView,
  ) {
    this.taskMasks = taskMaskMatrix(stream, scenario);
  }

  get outputs(): number {
    return this.scenario.outputs;
  }

  /** Logits with each row's task mask added. */
  masked(logits: tf.Tensor, taskIds: tf.Tensor): tf.Tensor {
    return this.taskMasks ? tf.add(logits, tf.gather(this.taskMasks, taskIds)) : logits;
  }

  /** Mean (or row-weighted mean) cross-entropy of logits that already carry their masks. */
  base(labels: tf.Tensor, logits: tf.Tensor, weights?: RowWeights): tf.Scalar {
    if (weights?.total === 0) return tf.scalar(0);
    // Native TensorFlow: one op for every row's loss and gradient (native-cross-entropy.ts).
    if (stepKernelsActive()) return nativeCrossEntropy(labels, logits, weights);
    const targets = tf.oneHot(labels, this.scenario.outputs);
    if (!weights) return tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(targets, logits);
    const perRow = tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), 1));
    return tf.div<tf.Scalar>(tf.sum(tf.mul(perRow, weights.values)), weights.total);
  }

  /** The mean cross-entropy of raw outputs for rows of the given tasks (validation batches, reference gradients). */
  ofRows(rawLogits: tf.Tensor, labels: tf.Tensor, taskIds: tf.Tensor): tf.Scalar {
    return this.base(labels, this.masked(rawLogits, taskIds));
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
