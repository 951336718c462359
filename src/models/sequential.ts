// A small sequential-model vocabulary shared by the built-in models and by
// models loaded from TensorFlow.js Layers files (model.json + weights): the
// same layer list gives the parameters, the forward function, and the Keras
// topology that `tf.loadLayersModel` reads.
import { tf } from '../tensor/tf.js';
import type { Rng } from '../tensor/rng.js';

export type Activation = 'linear' | 'relu' | 'tanh' | 'sigmoid';

export type LayerSpec =
  | { type: 'dense'; name: string; units: number; activation: Activation; useBias: boolean }
  | { type: 'conv2d'; name: string; filters: number; kernelSize: [number, number]; strides: [number, number]; padding: 'same' | 'valid'; activation: Activation; useBias: boolean }
  | { type: 'maxpool'; name: string; poolSize: [number, number]; strides: [number, number]; padding: 'same' | 'valid' }
  | { type: 'flatten'; name: string }
  | { type: 'reshape'; name: string; targetShape: number[] }
  | { type: 'activation'; name: string; activation: Activation }
  | { type: 'dropout'; name: string; rate: number };

export interface ParamInfo {
  name: string;
  shape: number[];
  fanIn: number;
  /** Axis indexing output units. */
  rowAxis: number;
}

const ACT: Record<Activation, (x: tf.Tensor) => tf.Tensor> = { linear: (x) => x, relu: tf.relu, tanh: tf.tanh, sigmoid: tf.sigmoid };

function outSize(n: number, k: number, s: number, padding: 'same' | 'valid'): number {
  return padding === 'same' ? Math.ceil(n / s) : Math.floor((n - k) / s) + 1;
}

/** Walks the layers from an input shape (without batch): every parameter, and the output shape. */
export function describeLayers(layers: readonly LayerSpec[], inputShape: readonly number[]): { params: ParamInfo[]; outputShape: number[] } {
  let shape = [...inputShape];
  const params: ParamInfo[] = [];
  for (const l of layers) {
    switch (l.type) {
      case 'dense': {
        if (shape.length !== 1) throw new Error(`layer ${l.name}: dense needs a flat input, got [${shape}] (add a flatten)`);
        params.push({ name: `${l.name}.weight`, shape: [shape[0], l.units], fanIn: shape[0], rowAxis: 1 });
        if (l.useBias) params.push({ name: `${l.name}.bias`, shape: [l.units], fanIn: shape[0], rowAxis: 0 });
        shape = [l.units];
        break;
      }
      case 'conv2d': {
        if (shape.length !== 3) throw new Error(`layer ${l.name}: conv2d needs images [h, w, c], got [${shape}]`);
        const [h, w, c] = shape;
        const fanIn = l.kernelSize[0] * l.kernelSize[1] * c;
        params.push({ name: `${l.name}.weight`, shape: [...l.kernelSize, c, l.filters], fanIn, rowAxis: 3 });
        if (l.useBias) params.push({ name: `${l.name}.bias`, shape: [l.filters], fanIn, rowAxis: 0 });
        shape = [outSize(h, l.kernelSize[0], l.strides[0], l.padding), outSize(w, l.kernelSize[1], l.strides[1], l.padding), l.filters];
        break;
      }
      case 'maxpool': {
        if (shape.length !== 3) throw new Error(`layer ${l.name}: max-pooling needs images [h, w, c], got [${shape}]`);
        shape = [outSize(shape[0], l.poolSize[0], l.strides[0], l.padding), outSize(shape[1], l.poolSize[1], l.strides[1], l.padding), shape[2]];
        break;
      }
      case 'flatten':
        shape = [shape.reduce((a, b) => a * b, 1)];
        break;
      case 'reshape':
        if (l.targetShape.reduce((a, b) => a * b, 1) !== shape.reduce((a, b) => a * b, 1)) throw new Error(`layer ${l.name}: cannot reshape [${shape}] to [${l.targetShape}]`);
        shape = [...l.targetShape];
        break;
      default:
        break;
    }
    if (shape.some((d) => !(d >= 1))) throw new Error(`layer ${l.name}: output shape [${shape}] is empty`);
  }
  return { params, outputShape: shape };
}

/** PyTorch's default initialisation: U(±1/sqrt(fan_in)) for weights and biases. */
export function initParams(infos: readonly ParamInfo[], rng: Rng): Map<string, tf.Variable> {
  const params = new Map<string, tf.Variable>();
  for (const p of infos) {
    const bound = 1 / Math.sqrt(p.fanIn);
    const values = Float32Array.from({ length: p.shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-bound, bound));
    params.set(p.name, tf.tidy(() => tf.variable(tf.tensor(values, p.shape), true)));
  }
  return params;
}

/** The forward function of a layer list, on flattened examples, with any parameter values. */
export function applySequential(layers: readonly LayerSpec[], inputShape: readonly number[], values: Readonly<Record<string, tf.Tensor>>, x: tf.Tensor): tf.Tensor {
  let a: tf.Tensor = tf.reshape(x, [-1, ...inputShape]);
  for (const l of layers) {
    switch (l.type) {
      case 'dense':
        a = tf.matMul(a, values[`${l.name}.weight`]);
        if (l.useBias) a = tf.add(a, values[`${l.name}.bias`]);
        a = ACT[l.activation](a);
        break;
      case 'conv2d':
        a = tf.conv2d(a as tf.Tensor4D, values[`${l.name}.weight`] as tf.Tensor4D, l.strides, l.padding);
        if (l.useBias) a = tf.add(a, values[`${l.name}.bias`]);
        a = ACT[l.activation](a);
        break;
      case 'maxpool':
        a = tf.maxPool(a as tf.Tensor4D, l.poolSize, l.strides, l.padding);
        break;
      case 'flatten':
        a = tf.reshape(a, [a.shape[0], -1]);
        break;
      case 'reshape':
        a = tf.reshape(a, [-1, ...l.targetShape]);
        break;
      case 'activation':
        a = ACT[l.activation](a);
        break;
      case 'dropout':
        break; // identity at inference; anchorage's models do not drop units in training either
    }
  }
  return a;
}
