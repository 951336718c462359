// A small layer vocabulary shared by the built-in models and by models loaded
// from TensorFlow.js Layers files (model.json + weights): the same layer list
// gives the parameters, the forward function, and the Keras topology that
// `tf.loadLayersModel` reads. A list is a graph in topological order: each
// layer reads the layers named in `inputs` (default: the layer before it;
// 'input' is the model's input), so a residual block is two paths and an `add`.
import { tf } from '../tensor/tf.js';
import type { Rng } from '../tensor/rng.js';
import { INPUT, type LayerSpec } from '../contracts/layers.js';
import { ACT, batchNormTraining, conv2d, dense } from './layer-ops.js';

export type { Activation, LayerSpec } from '../contracts/layers.js';
export { INPUT } from '../contracts/layers.js';

export interface ParamInfo {
  name: string;
  shape: number[];
  fanIn: number;
  /** Axis indexing output units. */
  rowAxis: number;
  /**
   * PyTorch's default initial value: U(±1/sqrt(fan_in)) for weights and biases, ones and zeros for batch norm's scale
   * and shift.
   */
  init: 'uniform' | 'ones' | 'zeros';
}

/** A tensor the forward pass keeps besides the parameters (batch norm's running mean and variance). */
export interface BufferInfo {
  name: string;
  shape: number[];
  init: 'ones' | 'zeros';
}

export interface LayerGraphInfo {
  params: ParamInfo[];
  buffers: BufferInfo[];
  outputShape: number[];
  /** Output shape of every layer by name (and of 'input'). */
  shapes: Map<string, number[]>;
}

export { ACT } from './layer-ops.js';

function outSize(n: number, k: number, s: number, padding: 'same' | 'valid' | number): number {
  if (typeof padding === 'number') return Math.floor((n + 2 * padding - k) / s) + 1;
  return padding === 'same' ? Math.ceil(n / s) : Math.floor((n - k) / s) + 1;
}

/** The names a layer reads: its `inputs`, or the layer before it. */
export function inputsOf(layers: readonly LayerSpec[], i: number): string[] {
  return layers[i].inputs ?? [i === 0 ? INPUT : layers[i - 1].name];
}

/** Does the list need a graph (a layer reading something other than the layer before it)? */
export function isGraph(layers: readonly LayerSpec[]): boolean {
  return layers.some(
    (l, i) =>
      l.inputs !== undefined && !(l.inputs.length === 1 && l.inputs[0] === (i === 0 ? INPUT : layers[i - 1].name)),
  );
}

/** Walks the layers from an input shape (without batch): every parameter and buffer, and each output shape. */
export function describeLayers(layers: readonly LayerSpec[], inputShape: readonly number[]): LayerGraphInfo {
  const shapes = new Map<string, number[]>([[INPUT, [...inputShape]]]);
  const params: ParamInfo[] = [];
  const buffers: BufferInfo[] = [];
  let shape: number[] = [...inputShape];
  for (const [i, l] of layers.entries()) {
    if (shapes.has(l.name)) throw new Error(`layer ${l.name}: the name is used twice`);
    const ins = inputsOf(layers, i).map((n) => {
      const s = shapes.get(n);
      if (!s) throw new Error(`layer ${l.name}: reads '${n}', which is not an earlier layer`);
      return s;
    });
    if (l.type !== 'add' && ins.length !== 1)
      throw new Error(`layer ${l.name}: ${l.type} reads one input, got ${ins.length}`);
    shape = [...ins[0]];
    switch (l.type) {
      case 'dense': {
        if (shape.length !== 1)
          throw new Error(`layer ${l.name}: dense needs a flat input, got [${shape}] (add a flatten)`);
        params.push({
          name: `${l.name}.weight`,
          shape: [shape[0], l.units],
          fanIn: shape[0],
          rowAxis: 1,
          init: 'uniform',
        });
        if (l.useBias)
          params.push({ name: `${l.name}.bias`, shape: [l.units], fanIn: shape[0], rowAxis: 0, init: 'uniform' });
        shape = [l.units];
        break;
      }
      case 'conv2d': {
        if (shape.length !== 3) throw new Error(`layer ${l.name}: conv2d needs images [h, w, c], got [${shape}]`);
        const [h, w, c] = shape;
        const fanIn = l.kernelSize[0] * l.kernelSize[1] * c;
        params.push({
          name: `${l.name}.weight`,
          shape: [...l.kernelSize, c, l.filters],
          fanIn,
          rowAxis: 3,
          init: 'uniform',
        });
        if (l.useBias) params.push({ name: `${l.name}.bias`, shape: [l.filters], fanIn, rowAxis: 0, init: 'uniform' });
        shape = [
          outSize(h, l.kernelSize[0], l.strides[0], l.padding),
          outSize(w, l.kernelSize[1], l.strides[1], l.padding),
          l.filters,
        ];
        break;
      }
      case 'maxpool': {
        if (shape.length !== 3) throw new Error(`layer ${l.name}: max-pooling needs images [h, w, c], got [${shape}]`);
        shape = [
          outSize(shape[0], l.poolSize[0], l.strides[0], l.padding),
          outSize(shape[1], l.poolSize[1], l.strides[1], l.padding),
          shape[2],
        ];
        break;
      }
      case 'batchnorm': {
        const c = shape[shape.length - 1];
        params.push(
          { name: `${l.name}.weight`, shape: [c], fanIn: 1, rowAxis: 0, init: 'ones' },
          { name: `${l.name}.bias`, shape: [c], fanIn: 1, rowAxis: 0, init: 'zeros' },
        );
        buffers.push(
          { name: `${l.name}.running_mean`, shape: [c], init: 'zeros' },
          { name: `${l.name}.running_var`, shape: [c], init: 'ones' },
        );
        break;
      }
      case 'add':
        if (ins.length < 2) throw new Error(`layer ${l.name}: add needs two or more inputs`);
        for (const s of ins)
          if (s.join('x') !== shape.join('x')) throw new Error(`layer ${l.name}: cannot add [${s}] to [${shape}]`);
        break;
      case 'globalavgpool':
        if (shape.length !== 3)
          throw new Error(`layer ${l.name}: global average pooling needs images [h, w, c], got [${shape}]`);
        shape = [shape[2]];
        break;
      case 'flatten':
        shape = [shape.reduce((a, b) => a * b, 1)];
        break;
      case 'reshape':
        if (l.targetShape.reduce((a, b) => a * b, 1) !== shape.reduce((a, b) => a * b, 1))
          throw new Error(`layer ${l.name}: cannot reshape [${shape}] to [${l.targetShape}]`);
        shape = [...l.targetShape];
        break;
      default:
        break;
    }
    if (shape.some((d) => !(d >= 1))) throw new Error(`layer ${l.name}: output shape [${shape}] is empty`);
    shapes.set(l.name, shape);
  }
  return { params, buffers, outputShape: shape, shapes };
}

/** PyTorch's default initialisation: U(±1/sqrt(fan_in)) for weights and biases; batch norm's scale 1 and shift 0. */
export function initParams(infos: readonly ParamInfo[], rng: Rng): Map<string, tf.Variable> {
  const params = new Map<string, tf.Variable>();
  for (const p of infos) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    const bound = 1 / Math.sqrt(p.fanIn);
    const values =
      p.init === 'uniform'
        ? Float32Array.from({ length: n }, () => rng.uniform(-bound, bound))
        : new Float32Array(n).fill(p.init === 'ones' ? 1 : 0);
    params.set(
      p.name,
      tf.tidy(() => tf.variable(tf.tensor(values, p.shape), true)),
    );
  }
  return params;
}

/** Buffers at their initial values (running mean 0, running variance 1), not trainable. */
export function initBuffers(infos: readonly BufferInfo[]): Map<string, tf.Variable> {
  return new Map(
    infos.map((b) => [
      b.name,
      tf.tidy(() => tf.variable(b.init === 'ones' ? tf.ones(b.shape) : tf.zeros(b.shape), false)),
    ]),
  );
}

/** What a forward pass in training mode may change besides its output. */
export interface TrainingEffects {
  /**
   * Batch norm's running statistics, updated in place when given (absent: left alone, e.g. scoring other parameter
   * values).
   */
  buffers?: ReadonlyMap<string, tf.Variable>;
  /** A fresh seed for each dropout layer's mask. */
  dropoutSeed?: () => number;
}

export interface ApplyOptions {
  training?: boolean;
  effects?: TrainingEffects;
  /** Stop at this layer and return what it outputs (flattened to [batch, n]). */
  stopAt?: string;
}

/**
 * The forward function of a layer list, on flattened examples, with any
 * parameter (and buffer) values. In evaluation, and in training without
 * `effects.buffers`, batch norm reads the running statistics in `values` or
 * else in `effects`.
 */
export function applyLayers(
  layers: readonly LayerSpec[],
  inputShape: readonly number[],
  values: Readonly<Record<string, tf.Tensor>>,
  x: tf.Tensor,
  opts: ApplyOptions = {},
): tf.Tensor {
  // Rows already in the input's shape go in as they are: a reshape is a kernel per step on native TensorFlow.
  const shaped = x.rank === inputShape.length + 1 && inputShape.every((d, i) => x.shape[i + 1] === d);
  const outputs = new Map<string, tf.Tensor>([[INPUT, shaped ? x : tf.reshape(x, [-1, ...inputShape])]]);
  const training = opts.training ?? false;
  let a = outputs.get(INPUT)!;
  for (const [i, l] of layers.entries()) {
    const ins = inputsOf(layers, i).map((n) => outputs.get(n)!);
    a = ins[0];
    switch (l.type) {
      case 'dense':
        a = dense(a, values[`${l.name}.weight`], l.useBias ? values[`${l.name}.bias`] : undefined, l.activation);
        break;
      case 'conv2d':
        a = conv2d(a, values[`${l.name}.weight`], l.useBias ? values[`${l.name}.bias`] : undefined, {
          strides: l.strides,
          padding: l.padding,
          activation: l.activation,
        });
        break;
      case 'batchnorm':
        a = batchNorm(l, a, values, { training, buffers: opts.effects?.buffers });
        break;
      case 'dropout':
        // Inverted dropout (kept units scaled by 1/(1-rate)), as PyTorch and Keras do: evaluation is the identity.
        if (training && l.rate > 0 && opts.effects?.dropoutSeed)
          a = tf.dropout(a, l.rate, undefined, opts.effects.dropoutSeed());
        break;
      default:
        a = applyRowLayer(l, ins);
    }
    outputs.set(l.name, a);
    if (l.name === opts.stopAt) return a.rank === 2 ? a : tf.reshape(a, [a.shape[0], -1]);
  }
  return a;
}

/**
 * A layer without parameters that acts on each example alone (pooling, reshapes, activations, sums): the same for one
 * model or K stacked.
 */
export function applyRowLayer(
  l: Extract<LayerSpec, { type: 'maxpool' | 'add' | 'globalavgpool' | 'flatten' | 'reshape' | 'activation' }>,
  ins: tf.Tensor[],
): tf.Tensor {
  const a = ins[0];
  switch (l.type) {
    case 'maxpool':
      return tf.maxPool(a as tf.Tensor4D, l.poolSize, l.strides, l.padding);
    case 'add': {
      const sum = ins.length === 2 ? tf.add(ins[0], ins[1]) : tf.addN(ins);
      return l.activation ? ACT[l.activation](sum) : sum;
    }
    case 'globalavgpool':
      return tf.mean(a, [1, 2]);
    case 'flatten':
      return tf.reshape(a, [a.shape[0], -1]);
    case 'reshape':
      return tf.reshape(a, [-1, ...l.targetShape]);
    case 'activation':
      return ACT[l.activation](a);
  }
}

function batchNorm(
  layer: Extract<LayerSpec, { type: 'batchnorm' }>,
  a: tf.Tensor,
  values: Readonly<Record<string, tf.Tensor>>,
  pass: { training: boolean; buffers: ReadonlyMap<string, tf.Variable> | undefined },
): tf.Tensor {
  const { name, momentum, epsilon } = layer;
  const { training, buffers } = pass;
  const gamma = values[`${name}.weight`];
  const beta = values[`${name}.bias`];
  if (!training) {
    const mean = values[`${name}.running_mean`] ?? buffers?.get(`${name}.running_mean`);
    const variance = values[`${name}.running_var`] ?? buffers?.get(`${name}.running_var`);
    if (!mean || !variance) throw new Error(`batch norm ${name}: no running statistics to evaluate with`);
    return tf.batchNorm(a, mean, variance, beta, gamma, epsilon);
  }
  const running = buffers && {
    mean: buffers.get(`${name}.running_mean`)!,
    variance: buffers.get(`${name}.running_var`)!,
    momentum,
  };
  return batchNormTraining(a, gamma, beta, epsilon, running);
}
