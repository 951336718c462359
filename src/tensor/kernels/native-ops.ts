// TensorFlow ops called through the tfjs-node binding directly, with their
// attributes, for anchorage's native kernels (native-layers.ts,
// native-cross-entropy.ts): the ops TensorFlow's own gradients use, which
// tfjs-node's kernels do not reach.
import { tf } from '../tf.js';
import type { Activation } from '../../contracts/layers.js';

/**
 * Set to 0 to run the layers and the loss on tfjs's op path on every backend (the reference anchorage's step
 * kernels are tested against).
 */
export const STEP_KERNELS_ENV = 'ANCHORAGE_STEP_KERNELS';

/** The kernel that tells whether the step kernels are registered (native-layers.ts registers it with the rest). */
export const PROBE_KERNEL = 'AnchorageDense';

/**
 * Whether the step kernels serve now: native TensorFlow is the backend, they are registered, and
 * ANCHORAGE_STEP_KERNELS is not 0 (read at every call, so a bench or test compares both paths in one process).
 */
export function stepKernelsActive(): boolean {
  return (
    process.env[STEP_KERNELS_ENV] !== '0' &&
    tf.getBackend() === 'tensorflow' &&
    tf.getKernel(PROBE_KERNEL, 'tensorflow') !== undefined
  );
}

interface Binding {
  TF_ATTR_BOOL: number;
  TF_ATTR_INT: number;
  TF_ATTR_FLOAT: number;
  TF_ATTR_STRING: number;
  TF_ATTR_TYPE: number;
  TF_FLOAT: number;
  TF_INT32: number;
}

export type Attr = { name: string; type: number; value: unknown };
export type Input = tf.TensorInfo | tf.Tensor;

export interface NodeBackend {
  binding: Binding;
  executeSingleOutput(name: string, attrs: Attr[], inputs: Input[]): tf.Tensor;
  executeMultipleOutputs(name: string, attrs: Attr[], inputs: Input[], outputs: number): tf.Tensor[];
}

/** TensorFlow's activation op and its gradient op (inputs (dy, y) in TensorFlow's order for each). */
const ACTIVATION_OPS: Record<Exclude<Activation, 'linear'>, { forward: string; grad: (dy: Input, y: Input) => Op }> = {
  // ReluGrad(gradients, features): features > 0 is the same test on the output as on the input.
  relu: { forward: 'Relu', grad: (dy, y) => ['ReluGrad', [dy, y]] },
  tanh: { forward: 'Tanh', grad: (dy, y) => ['TanhGrad', [y, dy]] },
  sigmoid: { forward: 'Sigmoid', grad: (dy, y) => ['SigmoidGrad', [y, dy]] },
};
type Op = [name: string, inputs: Input[]];

/** The backend's ops with their type attribute, for the float32 tensors of a layer. */
export class Ops {
  private readonly t: Attr;

  constructor(readonly backend: NodeBackend) {
    this.t = { name: 'T', type: backend.binding.TF_ATTR_TYPE, value: backend.binding.TF_FLOAT };
  }

  run(name: string, inputs: Input[], attrs: Attr[] = []): tf.Tensor {
    return this.backend.executeSingleOutput(name, [this.t, ...attrs], inputs);
  }

  runMany(name: string, inputs: Input[], outputs: number, attrs: Attr[]): tf.Tensor[] {
    return this.backend.executeMultipleOutputs(name, [this.t, ...attrs], inputs, outputs);
  }

  attr(name: string, kind: 'bool' | 'int' | 'float' | 'string', value: unknown): Attr {
    const b = this.backend.binding;
    const type = { bool: b.TF_ATTR_BOOL, int: b.TF_ATTR_INT, float: b.TF_ATTR_FLOAT, string: b.TF_ATTR_STRING }[kind];
    return { name, type, value };
  }

  matMul(a: Input, b: Input, transposeA: boolean, transposeB: boolean): tf.Tensor {
    return this.run(
      'MatMul',
      [a, b],
      [this.attr('transpose_a', 'bool', transposeA), this.attr('transpose_b', 'bool', transposeB)],
    );
  }

  /** y + bias, then the activation; `y` is released when replaced. */
  biasActivation(y: tf.Tensor, bias: Input | undefined, activation: Activation): tf.Tensor {
    if (bias) y = replace(y, this.run('BiasAdd', [y, bias], [this.attr('data_format', 'string', 'NHWC')]));
    if (activation !== 'linear') y = replace(y, this.activation(y, activation));
    return y;
  }

  activation(x: Input, activation: Exclude<Activation, 'linear'>): tf.Tensor {
    return this.run(ACTIVATION_OPS[activation].forward, [x]);
  }

  /** dy through the activation whose output is y. */
  activationGrad(dy: tf.Tensor, y: tf.Tensor, activation: Activation): tf.Tensor {
    if (activation === 'linear') return dy;
    const [name, inputs] = ACTIVATION_OPS[activation].grad(dy, y);
    return this.run(name, inputs);
  }

  biasGrad(g: tf.Tensor): tf.Tensor {
    return this.run('BiasAddGrad', [g], [this.attr('data_format', 'string', 'NHWC')]);
  }

  convAttrs(attrs: { strides: [number, number]; pad: 'same' | 'valid' | number }): Attr[] {
    const { strides, pad } = attrs;
    const padding = typeof pad === 'number' ? 'EXPLICIT' : pad.toUpperCase();
    return [
      this.attr('strides', 'int', [1, strides[0], strides[1], 1]),
      this.attr('use_cudnn_on_gpu', 'bool', true),
      this.attr('padding', 'string', padding),
      ...(typeof pad === 'number' ? [this.attr('explicit_paddings', 'int', [0, 0, pad, pad, pad, pad, 0, 0])] : []),
      this.attr('data_format', 'string', 'NHWC'),
      this.attr('dilations', 'int', [1, 1, 1, 1]),
    ];
  }
}

function replace(old: tf.Tensor, next: tf.Tensor): tf.Tensor {
  old.dispose();
  return next;
}

export const opsOf = (backend: unknown) => new Ops(backend as NodeBackend);
