// Layer kernels for native TensorFlow: a dense layer and a convolution, each
// with its bias and activation, as one tfjs kernel whose gradient is
// TensorFlow's own gradient ops, and batch norm's training pass as
// FusedBatchNormV3 with FusedBatchNormGradV3 as its gradient.
//
// What they replace: tfjs's gradients of matMul, add and relu take about a
// dozen TensorFlow ops per dense layer backward (the broadcast add's gradient
// is a Sum and a Reshape; relu's derivative alone is Step → IsNan, Greater,
// Fill, two Selects, then a Cast and a Mul), where TensorFlow has ReluGrad,
// BiasAddGrad and MatMul with transposed operands; a convolution with
// explicit padding was a Pad, a valid Conv2D and, backward, a Slice, where
// TensorFlow's convolutions take explicit padding themselves; batch norm in
// training was moments plus batchNorm and autodiff through both (about fifty
// ops per layer). TensorFlow's own fused forward ops (_FusedMatMul,
// _FusedConv2D) take a list(string) attribute that the tfjs-node binding
// cannot pass, so the forward stays MatMul (or Conv2D), BiasAdd and the
// activation: three TensorFlow ops, as tfjs-node's fused kernels run them.
//
// The gradients are registered tfjs gradients, so tfjs computes only those an
// input needs (no input gradient for the first layer). Higher-order gradients
// through these kernels are not defined (none of anchorage's methods takes
// one); the op path (src/models/layer-ops.ts) stays available with
// ANCHORAGE_STEP_KERNELS=0.
import { tf } from '../tf.js';
import type { Activation } from '../../contracts/layers.js';
import { PROBE_KERNEL, opsOf } from './native-ops.js';

export const DENSE_KERNEL = PROBE_KERNEL;
export const CONV2D_KERNEL = 'AnchorageConv2D';
export const ACTIVATION_KERNEL = 'AnchorageActivation';

/** The attributes of one layer kernel. */
export interface DenseAttrs {
  activation: Activation;
}

/** `pad`: 'same', 'valid', or the rows and columns of zeros on each side (PyTorch's padding). */
export interface Conv2DAttrs {
  strides: [number, number];
  pad: 'same' | 'valid' | number;
  activation: Activation;
}

function registerDense(): void {
  tf.registerKernel({
    kernelName: DENSE_KERNEL,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const ops = opsOf(backend);
      const { x, weight, bias } = inputs as Record<string, tf.TensorInfo | undefined>;
      const { activation } = attrs as unknown as DenseAttrs;
      return ops.biasActivation(ops.matMul(x!, weight!, false, false), bias, activation);
    },
  });
  tf.registerGradient({
    kernelName: DENSE_KERNEL,
    inputsToSave: ['x', 'weight'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const ops = opsOf(tf.backend());
      const [x, weight, y] = saved;
      const g = ops.activationGrad(dy as tf.Tensor, y, (attrs as unknown as DenseAttrs).activation);
      return {
        x: () => ops.matMul(g, weight, false, true),
        weight: () => ops.matMul(x, g, true, false),
        bias: () => ops.biasGrad(g),
      };
    },
  });
}

function registerConv2D(): void {
  tf.registerKernel({
    kernelName: CONV2D_KERNEL,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const ops = opsOf(backend);
      const { x, filter, bias } = inputs as Record<string, tf.TensorInfo | undefined>;
      const a = attrs as unknown as Conv2DAttrs;
      return ops.biasActivation(ops.run('Conv2D', [x!, filter!], ops.convAttrs(a)), bias, a.activation);
    },
  });
  tf.registerGradient({
    kernelName: CONV2D_KERNEL,
    inputsToSave: ['x', 'filter'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const ops = opsOf(tf.backend());
      const [x, filter, y] = saved;
      const a = attrs as unknown as Conv2DAttrs;
      const g = ops.activationGrad(dy as tf.Tensor, y, a.activation);
      const sizes = (t: tf.Tensor) => tf.tensor1d(t.shape, 'int32');
      return {
        x: () => ops.run('Conv2DBackpropInput', [sizes(x), filter, g], ops.convAttrs(a)),
        filter: () => ops.run('Conv2DBackpropFilter', [x, sizes(filter), g], ops.convAttrs(a)),
        bias: () => ops.biasGrad(g),
      };
    },
  });
}

/** An activation on its own (a residual sum's, or after batch norm), differentiated by TensorFlow's gradient op. */
function registerActivation(): void {
  tf.registerKernel({
    kernelName: ACTIVATION_KERNEL,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { activation } = attrs as unknown as DenseAttrs;
      return opsOf(backend).activation(inputs.x!, activation as Exclude<Activation, 'linear'>);
    },
  });
  tf.registerGradient({
    kernelName: ACTIVATION_KERNEL,
    outputsToSave: [true],
    gradFunc: (dy, [y], attrs) => ({
      x: () => opsOf(tf.backend()).activationGrad(dy as tf.Tensor, y, (attrs as unknown as DenseAttrs).activation),
    }),
  });
}

/** Registers the layer kernels for native TensorFlow (once per process: tfjs's registry is). */
export function installNativeLayerKernels(): void {
  if (!tf.getKernel(DENSE_KERNEL, 'tensorflow')) registerDense();
  if (!tf.getKernel(CONV2D_KERNEL, 'tensorflow')) registerConv2D();
  if (!tf.getKernel(ACTIVATION_KERNEL, 'tensorflow')) registerActivation();
}

/** Batch norm's running statistics and how fast they follow the batches (PyTorch's momentum). */
export interface RunningStats {
  mean: tf.Variable;
  variance: tf.Variable;
  momentum: number;
}

/**
 * Batch norm in training mode over the last axis (any rank: the leading axes
 * are the batch): FusedBatchNormV3, whose gradient is FusedBatchNormGradV3.
 * With `running`, the same kernel updates the running statistics as PyTorch
 * does (the batch variance unbiased), and they are assigned.
 */
export function nativeBatchNormTraining(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon: number,
  running?: RunningStats,
): tf.Tensor {
  const ops = opsOf(tf.backend());
  const c = x.shape[x.rank - 1];
  const attrs = (training: { factor?: number }) => [
    { name: 'U', type: ops.backend.binding.TF_ATTR_TYPE, value: ops.backend.binding.TF_FLOAT },
    ops.attr('epsilon', 'float', epsilon),
    ...(training.factor !== undefined ? [ops.attr('exponential_avg_factor', 'float', training.factor)] : []),
    ops.attr('data_format', 'string', 'NHWC'),
    ops.attr('is_training', 'bool', true),
  ];
  const normalise = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x4, scale, offset] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const stats = running ? [running.mean, running.variance] : [tf.tensor1d([]), tf.tensor1d([])];
    const [y, mean, variance, ...reserve] = ops.runMany(
      'FusedBatchNormV3',
      [x4, scale, offset, ...stats],
      6,
      attrs({ factor: running?.momentum ?? 1 }),
    );
    if (running) {
      running.mean.assign(mean);
      running.variance.assign(variance);
    }
    save([x4, scale, ...reserve]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, [savedX, savedScale, ...savedReserve]: tf.Tensor[]) => {
        const [dx, dScale, dOffset, ...unused] = ops.runMany(
          'FusedBatchNormGradV3',
          [dy, savedX, savedScale, ...savedReserve],
          5,
          attrs({}),
        );
        tf.dispose(unused);
        return [dx, dScale, dOffset];
      },
    };
  });
  if (x.rank === 4) return normalise(x, gamma, beta);
  return tf.reshape(normalise(tf.reshape(x, [-1, 1, 1, c]), gamma, beta), x.shape);
}
