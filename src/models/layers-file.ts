// Reads and writes models in the TensorFlow.js Layers format (model.json +
// binary weight files: what `tf.loadLayersModel` reads and
// `model.save('file://…')` writes), for the layer types of layer-graph.ts:
// Sequential models, and functional ones (a ResNet's residual blocks).
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { INPUT, inputsOf, isGraph, type Activation, type LayerSpec } from './layer-graph.js';

export class ModelFileError extends Error {}

export interface LoadedLayers {
  layers: LayerSpec[];
  inputShape: number[];
  /** Parameter and buffer values by anchorage name ("fc1.weight", "bn1.running_mean"), row-major. */
  weights: Map<string, { shape: number[]; values: Float32Array }>;
}

const SUPPORTED = [
  'InputLayer',
  'Dense',
  'Conv2D',
  'MaxPooling2D',
  'Flatten',
  'Reshape',
  'Activation',
  'Dropout',
  'BatchNormalization',
  'Add',
  'GlobalAveragePooling2D',
  'ZeroPadding2D',
];
type Config = Record<string, unknown>;
interface Entry {
  class_name?: string;
  name?: string;
  config?: Config;
  inbound_nodes?: unknown;
}

/** Keras weight names per anchorage suffix, by layer type. */
const WEIGHT_NAMES: Record<string, [string, string][]> = {
  dense: [
    ['weight', 'kernel'],
    ['bias', 'bias'],
  ],
  conv2d: [
    ['weight', 'kernel'],
    ['bias', 'bias'],
  ],
  batchnorm: [
    ['weight', 'gamma'],
    ['bias', 'beta'],
    ['running_mean', 'moving_mean'],
    ['running_var', 'moving_variance'],
  ],
};
const SUFFIX_OF: Record<string, string> = {
  kernel: 'weight',
  bias: 'bias',
  gamma: 'weight',
  beta: 'bias',
  moving_mean: 'running_mean',
  moving_variance: 'running_var',
};

function activation(value: unknown, where: string): Activation {
  const a = (value ?? 'linear') as string;
  if (!['linear', 'relu', 'tanh', 'sigmoid'].includes(a))
    throw new ModelFileError(`${where}: activation '${a}' is not supported (linear, relu, tanh, sigmoid)`);
  return a as Activation;
}
const pair = (v: unknown, fallback: number): [number, number] =>
  Array.isArray(v)
    ? [Number(v[0]), Number(v[1])]
    : v === undefined || v === null
      ? [fallback, fallback]
      : [Number(v), Number(v)];

/** ZeroPadding2D's padding as one number for every side, or undefined when the sides differ. */
function evenPadding(v: unknown): number | undefined {
  const flat = (Array.isArray(v) ? v.flat() : [v, v, v, v]).map(Number);
  const sides = flat.length === 2 ? [flat[0], flat[0], flat[1], flat[1]] : flat;
  return sides.every((x) => x === sides[0]) ? sides[0] : undefined;
}

type Parsed = LayerSpec | { type: 'zeropad'; name: string; padding: number } | null;

function toLayer(entry: Entry, file: string): Parsed {
  const cls = entry.class_name ?? '?';
  const c = entry.config ?? {};
  const name = String((c.name as string | undefined) ?? entry.name ?? cls.toLowerCase());
  const where = `${file}: layer '${name}' (${cls})`;
  switch (cls) {
    case 'InputLayer':
      return null;
    case 'Dense':
      return {
        type: 'dense',
        name,
        units: Number(c.units),
        activation: activation(c.activation, where),
        useBias: c.use_bias !== false,
      };
    case 'Conv2D':
      if ((c.data_format ?? 'channels_last') !== 'channels_last')
        throw new ModelFileError(`${where}: only channels_last is supported`);
      if (pair(c.dilation_rate, 1).some((d) => d !== 1))
        throw new ModelFileError(`${where}: dilated convolutions are not supported`);
      return {
        type: 'conv2d',
        name,
        filters: Number(c.filters),
        kernelSize: pair(c.kernel_size, 1),
        strides: pair(c.strides, 1),
        padding: (c.padding ?? 'valid') as 'same' | 'valid',
        activation: activation(c.activation, where),
        useBias: c.use_bias !== false,
      };
    case 'MaxPooling2D': {
      const poolSize = pair(c.pool_size, 2);
      return {
        type: 'maxpool',
        name,
        poolSize,
        strides: c.strides ? pair(c.strides, 2) : poolSize,
        padding: (c.padding ?? 'valid') as 'same' | 'valid',
      };
    }
    case 'Flatten':
      return { type: 'flatten', name };
    case 'Reshape':
      return { type: 'reshape', name, targetShape: (c.target_shape as number[]).map(Number) };
    case 'Activation':
      return { type: 'activation', name, activation: activation(c.activation, where) };
    case 'Dropout':
      return { type: 'dropout', name, rate: Number(c.rate ?? 0) };
    case 'BatchNormalization': {
      const axis = Array.isArray(c.axis) ? c.axis : [c.axis ?? -1];
      if (axis.length !== 1 || ![-1, 3, 1].includes(Number(axis[0])))
        throw new ModelFileError(`${where}: only batch normalisation over the last axis is supported`);
      if (c.center === false || c.scale === false)
        throw new ModelFileError(`${where}: batch normalisation without center or scale is not supported`);
      // Keras's momentum is the weight of the old running value; PyTorch's (ours) that of the new batch.
      return { type: 'batchnorm', name, momentum: 1 - Number(c.momentum ?? 0.99), epsilon: Number(c.epsilon ?? 1e-3) };
    }
    case 'Add':
      return { type: 'add', name };
    case 'GlobalAveragePooling2D':
      if ((c.data_format ?? 'channels_last') !== 'channels_last')
        throw new ModelFileError(`${where}: only channels_last is supported`);
      return { type: 'globalavgpool', name };
    case 'ZeroPadding2D': {
      const padding = evenPadding(c.padding ?? 1);
      if (padding === undefined) throw new ModelFileError(`${where}: only the same padding on every side is supported`);
      return { type: 'zeropad', name, padding };
    }
    default:
      throw new ModelFileError(`${file}: layer type '${cls}' is not supported; supported: ${SUPPORTED.join(', ')}`);
  }
}

/**
 * The names of the layers a functional model's layer reads (tfjs's inbound_nodes: [[[name, node, tensor, kwargs],
 * …]]).
 */
function inboundOf(entry: Entry, file: string): string[] {
  const nodes = entry.inbound_nodes;
  if (!Array.isArray(nodes) || nodes.length === 0) return [];
  if (nodes.length > 1)
    throw new ModelFileError(`${file}: layer '${entry.name}' is shared (called more than once); not supported`);
  const node = nodes[0] as unknown;
  if (!Array.isArray(node))
    throw new ModelFileError(
      `${file}: layer '${entry.name}' has inbound nodes in a format other than tfjs-layers' (Keras 3?)`,
    );
  return node.map((n) => String((n as unknown[])[0]));
}

type ModelJson = {
  modelTopology?: Config;
  weightsManifest?: { paths: string[]; weights: { name: string; shape: number[]; dtype?: string }[] }[];
};

/** Loads model.json (a path to it, or to its folder) and its weight files. */
export function readLayersModel(path: string): LoadedLayers {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'model.json') : path;
  if (!existsSync(file))
    throw new ModelFileError(`${file}: no such model file (train one with experiments/pretrain-mnist.ts)`);
  let json: ModelJson;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as ModelJson;
  } catch (e) {
    throw new ModelFileError(`${file}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  const described: unknown = json.modelTopology?.model_config ?? json.modelTopology;
  const topology = described as { class_name?: string; config?: Config | Config[] } | undefined;
  if (!topology) throw new ModelFileError(`${file}: no modelTopology (is this a Layers model, not a graph model?)`);
  const functional = topology.class_name === 'Model' || topology.class_name === 'Functional';
  if (topology.class_name !== 'Sequential' && !functional)
    throw new ModelFileError(
      `${file}: only Sequential and functional models are supported, got ${topology.class_name}`,
    );
  const config = Array.isArray(topology.config) ? { layers: topology.config } : topology.config;
  const entries = ((config?.layers as Entry[]) ?? []).map((e) => ({
    ...e,
    name: e.name ?? (e.config?.name as string | undefined),
  }));
  if (!entries.length) throw new ModelFileError(`${file}: the model has no layers`);
  const { inputShape, inputName } = functional
    ? functionalInput(config, entries, file)
    : sequentialInput(entries, file);
  const layers = parseLayers(entries, { file, functional, inputName });
  return { layers, inputShape, weights: readWeights(json, file) };
}

/** A functional model's one input (its shape and layer name); its one output must be the last layer. */
function functionalInput(
  config: Config | undefined,
  entries: Entry[],
  file: string,
): { inputShape: number[]; inputName: string } {
  const inputs = (config?.input_layers as unknown[][]) ?? [];
  const outputs = (config?.output_layers as unknown[][]) ?? [];
  if (inputs.length !== 1 || outputs.length !== 1)
    throw new ModelFileError(`${file}: only models with one input and one output are supported`);
  const inputName = String(inputs[0][0]);
  const input = entries.find((e) => e.name === inputName);
  const shape = (input?.config?.batch_input_shape ?? input?.config?.batch_shape ?? input?.config?.batchInputShape) as
    (number | null)[] | undefined;
  if (!shape) throw new ModelFileError(`${file}: the input layer '${inputName}' declares no shape`);
  if (String(outputs[0][0]) !== entries[entries.length - 1].name)
    throw new ModelFileError(`${file}: the output must be the last layer listed`);
  return { inputShape: shape.slice(1).map(Number), inputName };
}

/** A sequential model's input: the shape its first layer declares. */
function sequentialInput(entries: Entry[], file: string): { inputShape: number[]; inputName: string } {
  const first = entries[0].config ?? {};
  const batchShape = (first.batch_input_shape ?? first.batch_shape ?? first.batchInputShape) as
    (number | null)[] | undefined;
  if (!batchShape) throw new ModelFileError(`${file}: the first layer declares no input shape (batch_input_shape)`);
  return { inputShape: batchShape.slice(1).map(Number), inputName: INPUT };
}

/** The layer list: the model's input renamed to ours, each ZeroPadding2D folded into the convolution it feeds. */
function parseLayers(entries: Entry[], m: { file: string; functional: boolean; inputName: string }): LayerSpec[] {
  const { file, functional } = m;
  const layers: LayerSpec[] = [];
  const alias = new Map<string, string>([[m.inputName, INPUT]]);
  const pads = new Map<string, { padding: number; from: string[] }>();
  let previous = INPUT;
  for (const e of entries) {
    const parsed = toLayer(e, file);
    if (!parsed) continue;
    const inbound = functional ? inboundOf(e, file).map((n) => alias.get(n) ?? n) : [previous];
    if (parsed.type === 'zeropad') {
      pads.set(parsed.name, { padding: parsed.padding, from: inbound });
      previous = parsed.name;
      continue;
    }
    let inputs = inbound;
    const pad = inputs.length === 1 ? pads.get(inputs[0]) : undefined;
    if (pad) {
      if (parsed.type !== 'conv2d' || parsed.padding !== 'valid')
        throw new ModelFileError(`${file}: ZeroPadding2D '${inputs[0]}' must feed a convolution with valid padding`);
      parsed.padding = pad.padding;
      inputs = pad.from;
    }
    for (const n of inputs)
      if (pads.has(n) && !pad)
        throw new ModelFileError(`${file}: ZeroPadding2D '${n}' must feed a convolution with valid padding`);
    layers.push(functional ? { ...parsed, inputs } : { ...parsed, ...(pad ? { inputs } : {}) });
    previous = parsed.name;
  }
  // Written only where the default (the layer before) would read something else.
  for (const [i, l] of layers.entries()) {
    const before = i === 0 ? INPUT : layers[i - 1].name;
    if (l.inputs && l.inputs.length === 1 && l.inputs[0] === before) delete l.inputs;
  }
  return layers;
}

/** Every weight of the manifest, from its files, by our parameter name. */
function readWeights(json: ModelJson, file: string): Map<string, { shape: number[]; values: Float32Array }> {
  const weights = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const group of json.weightsManifest ?? []) {
    const buffers = group.paths.map((p) => {
      const wp = join(dirname(file), p);
      if (!existsSync(wp)) throw new ModelFileError(`${file}: weight file ${p} is missing`);
      return readFileSync(wp);
    });
    const data = Buffer.concat(buffers);
    let offset = 0;
    for (const w of group.weights) {
      if ((w.dtype ?? 'float32') !== 'float32')
        throw new ModelFileError(`${file}: weight ${w.name} has dtype ${w.dtype}; only float32 is supported`);
      const n = w.shape.reduce((a, b) => a * b, 1);
      if (offset + 4 * n > data.length)
        throw new ModelFileError(
          `${file}: weight files are truncated (${w.name} needs bytes ${offset}..${offset + 4 * n}, files have ` +
            `${data.length})`,
        );
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = data.readFloatLE(offset + 4 * i);
      offset += 4 * n;
      const [layer, kind] = [w.name.slice(0, w.name.lastIndexOf('/')), w.name.slice(w.name.lastIndexOf('/') + 1)];
      const suffix = SUFFIX_OF[kind];
      if (!suffix)
        throw new ModelFileError(
          `${file}: weight ${w.name} is of a kind anchorage does not know (${Object.keys(SUFFIX_OF).join(', ')})`,
        );
      weights.set(`${layer}.${suffix}`, { shape: w.shape, values });
    }
    if (offset !== data.length)
      throw new ModelFileError(`${file}: weight files hold ${data.length} bytes but the manifest describes ${offset}`);
  }
  return weights;
}

function kerasConfig(l: LayerSpec, padded: boolean): { class_name: string; config: Config } {
  const base: Config = { name: l.name, trainable: true, dtype: 'float32' };
  switch (l.type) {
    case 'dense':
      return {
        class_name: 'Dense',
        config: { ...base, units: l.units, activation: l.activation, use_bias: l.useBias },
      };
    case 'conv2d':
      return {
        class_name: 'Conv2D',
        config: {
          ...base,
          filters: l.filters,
          kernel_size: l.kernelSize,
          strides: l.strides,
          padding: padded ? 'valid' : l.padding,
          data_format: 'channels_last',
          dilation_rate: [1, 1],
          activation: l.activation,
          use_bias: l.useBias,
        },
      };
    case 'maxpool':
      return {
        class_name: 'MaxPooling2D',
        config: {
          ...base,
          pool_size: l.poolSize,
          strides: l.strides,
          padding: l.padding,
          data_format: 'channels_last',
        },
      };
    case 'flatten':
      return { class_name: 'Flatten', config: base };
    case 'reshape':
      return { class_name: 'Reshape', config: { ...base, target_shape: l.targetShape } };
    case 'activation':
      return { class_name: 'Activation', config: { ...base, activation: l.activation } };
    case 'dropout':
      return { class_name: 'Dropout', config: { ...base, rate: l.rate } };
    case 'batchnorm':
      return {
        class_name: 'BatchNormalization',
        config: { ...base, axis: -1, momentum: 1 - l.momentum, epsilon: l.epsilon, center: true, scale: true },
      };
    case 'add':
      return { class_name: 'Add', config: base };
    case 'globalavgpool':
      return { class_name: 'GlobalAveragePooling2D', config: { ...base, data_format: 'channels_last' } };
  }
}

/**
 * The Keras layers for one of ours: a convolution padded by a number becomes ZeroPadding2D + a valid one; an add with
 * an activation, Add + Activation.
 */
function kerasLayers(
  l: LayerSpec,
  inputs: string[],
): { class_name: string; config: Config; name: string; inbound: string[] }[] {
  const out: { class_name: string; config: Config; name: string; inbound: string[] }[] = [];
  let from = inputs;
  const padded = l.type === 'conv2d' && typeof l.padding === 'number';
  if (l.type === 'conv2d' && typeof l.padding === 'number') {
    const p = l.padding;
    out.push({
      class_name: 'ZeroPadding2D',
      config: {
        name: `${l.name}_pad`,
        trainable: true,
        dtype: 'float32',
        padding: [
          [p, p],
          [p, p],
        ],
        data_format: 'channels_last',
      },
      name: `${l.name}_pad`,
      inbound: from,
    });
    from = [`${l.name}_pad`];
  }
  const k = kerasConfig(l, padded);
  if (l.type === 'add' && l.activation && l.activation !== 'linear') {
    out.push({ ...k, name: `${l.name}_sum`, config: { ...k.config, name: `${l.name}_sum` }, inbound: from });
    out.push({
      class_name: 'Activation',
      config: { name: l.name, trainable: true, dtype: 'float32', activation: l.activation },
      name: l.name,
      inbound: [`${l.name}_sum`],
    });
    return out;
  }
  out.push({ ...k, name: l.name, inbound: from });
  return out;
}

/**
 * Writes model.json and weights.bin into `dir`, atomically (a temporary
 * folder renamed into place): a Sequential model when the layers form a
 * chain, else a functional one. The input is reshaped to `inputShape` first.
 */
export function saveLayersModel(
  dir: string,
  layers: readonly LayerSpec[],
  inputShape: readonly number[],
  params: ReadonlyMap<string, { shape: number[]; values: Float32Array }>,
): void {
  const manifest: { name: string; shape: number[]; dtype: 'float32' }[] = [];
  const chunks: Buffer[] = [];
  for (const l of layers) {
    for (const [suffix, kind] of WEIGHT_NAMES[l.type] ?? []) {
      const p = params.get(`${l.name}.${suffix}`);
      if (!p) continue;
      manifest.push({ name: `${l.name}/${kind}`, shape: p.shape, dtype: 'float32' });
      chunks.push(Buffer.from(p.values.buffer, p.values.byteOffset, p.values.byteLength));
    }
  }
  const keras = layers.flatMap((l, i) => kerasLayers(l, inputsOf(layers, i)));
  let modelConfig: { class_name: string; config: Config };
  if (!isGraph(layers) && !layers.some((l) => l.type === 'add')) {
    modelConfig = {
      class_name: 'Sequential',
      config: {
        name: 'anchorage',
        layers: keras.map((k, i) => ({
          class_name: k.class_name,
          config: i === 0 ? { ...k.config, batch_input_shape: [null, ...inputShape] } : k.config,
        })),
      },
    };
  } else {
    const input = {
      class_name: 'InputLayer',
      name: INPUT,
      config: { name: INPUT, batch_input_shape: [null, ...inputShape], dtype: 'float32', sparse: false },
      inbound_nodes: [],
    };
    modelConfig = {
      class_name: 'Model',
      config: {
        name: 'anchorage',
        layers: [
          input,
          ...keras.map((k) => ({
            class_name: k.class_name,
            name: k.name,
            config: k.config,
            inbound_nodes: [k.inbound.map((n) => [n, 0, 0, {}])],
          })),
        ],
        input_layers: [[INPUT, 0, 0]],
        output_layers: [[keras[keras.length - 1].name, 0, 0]],
      },
    };
  }
  const json = {
    format: 'layers-model',
    generatedBy: 'anchorage',
    convertedBy: null,
    modelTopology: { ...modelConfig, keras_version: 'tfjs-layers 4.22.0', backend: 'tensor_flow.js' },
    weightsManifest: [{ paths: ['weights.bin'], weights: manifest }],
  };
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'weights.bin'), Buffer.concat(chunks));
  writeFileSync(join(tmp, 'model.json'), JSON.stringify(json, null, 1));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  renameSync(tmp, dir);
}
