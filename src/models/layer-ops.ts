// The layers with parameters and the activations: on native TensorFlow
// anchorage's step kernels (src/tensor/kernels/native-layers.ts: TensorFlow's
// gradient ops backward, FusedBatchNormV3 for batch norm), elsewhere — and
// everywhere with ANCHORAGE_STEP_KERNELS=0 — the op path: matMul, add,
// activation; pad, conv2d; moments and batchNorm. The kernels are tested
// against the op path. (tfjs's fused matMul and conv2d on wasm time the same
// as the op path there, within the noise of `npm run bench:torch -- --op-path`,
// so wasm keeps the op path and its results.)
import { tf } from '../tensor/tf.js';
import type { Activation } from '../contracts/layers.js';
import {
  ACTIVATION_KERNEL,
  CONV2D_KERNEL,
  DENSE_KERNEL,
  nativeBatchNormTraining,
  type RunningStats,
} from '../tensor/kernels/native-layers.js';
import { stepKernelsActive } from '../tensor/kernels/native-ops.js';

export type { RunningStats } from '../tensor/kernels/native-layers.js';

/** An activation alone: on native TensorFlow one kernel whose gradient is TensorFlow's (ReluGrad, …). */
function activation(name: Exclude<Activation, 'linear'>, op: (x: tf.Tensor) => tf.Tensor) {
  return (x: tf.Tensor): tf.Tensor =>
    stepKernelsActive() ? tf.engine().runKernel<tf.Tensor>(ACTIVATION_KERNEL, { x }, { activation: name }) : op(x);
}

export const ACT: Record<Activation, (x: tf.Tensor) => tf.Tensor> = {
  linear: (x) => x,
  relu: activation('relu', tf.relu),
  tanh: activation('tanh', tf.tanh),
  sigmoid: activation('sigmoid', tf.sigmoid),
};

/** activation(x · weight + bias). */
export function dense(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | undefined, activation: Activation): tf.Tensor {
  if (stepKernelsActive())
    return tf.engine().runKernel<tf.Tensor>(DENSE_KERNEL, { x, weight, ...(bias && { bias }) }, { activation });
  let y = tf.matMul(x, weight);
  if (bias) y = tf.add(y, bias);
  return ACT[activation](y);
}

export interface ConvOptions {
  strides: [number, number];
  /** 'same', 'valid', or zeros on each side (PyTorch's padding). */
  padding: 'same' | 'valid' | number;
  activation: Activation;
}

/** activation(conv2d(x, filter) + bias), NHWC. */
export function conv2d(x: tf.Tensor, filter: tf.Tensor, bias: tf.Tensor | undefined, opts: ConvOptions): tf.Tensor {
  const { strides, padding, activation } = opts;
  if (stepKernelsActive())
    return tf
      .engine()
      .runKernel<tf.Tensor>(CONV2D_KERNEL, { x, filter, ...(bias && { bias }) }, { strides, pad: padding, activation });
  const [x4, f4] = [x as tf.Tensor4D, filter as tf.Tensor4D];
  // The op path pads first: native TensorFlow's tfjs kernels differentiate only 'same' and 'valid'.
  let y =
    typeof padding === 'number'
      ? tf.conv2d(
          tf.pad(x4, [
            [0, 0],
            [padding, padding],
            [padding, padding],
            [0, 0],
          ]),
          f4,
          strides,
          'valid',
        )
      : tf.conv2d(x4, f4, strides, padding);
  if (bias) y = tf.add(y, bias);
  return ACT[activation](y);
}

/**
 * Batch norm in training mode over the last axis: the batch's statistics
 * normalise, and `running` (when given) follows them as PyTorch's running
 * statistics do (the variance unbiased), with no gradient through them.
 */
export function batchNormTraining(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon: number,
  running?: RunningStats,
): tf.Tensor {
  if (stepKernelsActive()) return nativeBatchNormTraining(x, gamma, beta, epsilon, running);
  const axes = x.shape.slice(0, -1).map((_, k) => k);
  const { mean, variance } = tf.moments(x, axes);
  if (running) {
    const { momentum } = running;
    const n = x.size / x.shape[x.rank - 1];
    // Statistics only: no gradient flows into the running values.
    tf.tidy(() => {
      running.mean.assign(tf.add(tf.mul(running.mean, 1 - momentum), tf.mul(mean, momentum)));
      running.variance.assign(
        tf.add(tf.mul(running.variance, 1 - momentum), tf.mul(variance, (momentum * n) / Math.max(n - 1, 1))),
      );
    });
  }
  return tf.batchNorm(x, mean, variance, beta, gamma, epsilon);
}
