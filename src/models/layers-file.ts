// Reads and writes sequential models in the TensorFlow.js Layers format
// (model.json + binary weight files: what `tf.loadLayersModel` reads and
// `model.save('file://…')` writes), for the layer types of sequential.ts.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Activation, LayerSpec } from './sequential.js';

export class ModelFileError extends Error {}

export interface LoadedSequential {
  layers: LayerSpec[];
  inputShape: number[];
  /** Parameter values by anchorage name ("fc1.weight"), row-major. */
  weights: Map<string, { shape: number[]; values: Float32Array }>;
}

const SUPPORTED = ['InputLayer', 'Dense', 'Conv2D', 'MaxPooling2D', 'Flatten', 'Reshape', 'Activation', 'Dropout'];
type Config = Record<string, unknown>;

function activation(value: unknown, where: string): Activation {
  const a = (value ?? 'linear') as string;
  if (!['linear', 'relu', 'tanh', 'sigmoid'].includes(a)) throw new ModelFileError(`${where}: activation '${a}' is not supported (linear, relu, tanh, sigmoid)`);
  return a as Activation;
}
const pair = (v: unknown, fallback: number): [number, number] => (Array.isArray(v) ? [Number(v[0]), Number(v[1])] : v === undefined || v === null ? [fallback, fallback] : [Number(v), Number(v)]);

function toLayer(entry: { class_name?: string; config?: Config }, file: string): LayerSpec | null {
  const cls = entry.class_name ?? '?';
  const c = entry.config ?? {};
  const name = String(c.name ?? cls.toLowerCase());
  const where = `${file}: layer '${name}' (${cls})`;
  switch (cls) {
    case 'InputLayer':
      return null;
    case 'Dense':
      return { type: 'dense', name, units: Number(c.units), activation: activation(c.activation, where), useBias: c.use_bias !== false };
    case 'Conv2D':
      if ((c.data_format ?? 'channels_last') !== 'channels_last') throw new ModelFileError(`${where}: only channels_last is supported`);
      if (pair(c.dilation_rate, 1).some((d) => d !== 1)) throw new ModelFileError(`${where}: dilated convolutions are not supported`);
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
      return { type: 'maxpool', name, poolSize, strides: c.strides ? pair(c.strides, 2) : poolSize, padding: (c.padding ?? 'valid') as 'same' | 'valid' };
    }
    case 'Flatten':
      return { type: 'flatten', name };
    case 'Reshape':
      return { type: 'reshape', name, targetShape: (c.target_shape as number[]).map(Number) };
    case 'Activation':
      return { type: 'activation', name, activation: activation(c.activation, where) };
    case 'Dropout':
      return { type: 'dropout', name, rate: Number(c.rate ?? 0) };
    default:
      throw new ModelFileError(`${file}: layer type '${cls}' is not supported; supported: ${SUPPORTED.join(', ')}`);
  }
}

/** Loads model.json (a path to it, or to its folder) and its weight files. */
export function loadSequentialModel(path: string): LoadedSequential {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'model.json') : path;
  if (!existsSync(file)) throw new ModelFileError(`${file}: no such model file (train one with experiments/pretrain-mnist.ts)`);
  let json: { modelTopology?: Config; weightsManifest?: { paths: string[]; weights: { name: string; shape: number[]; dtype?: string }[] }[] };
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ModelFileError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const topology = (json.modelTopology?.model_config ?? json.modelTopology) as { class_name?: string; config?: Config | Config[] } | undefined;
  if (!topology) throw new ModelFileError(`${file}: no modelTopology (is this a Layers model, not a graph model?)`);
  if (topology.class_name !== 'Sequential') throw new ModelFileError(`${file}: only Sequential models are supported, got ${topology.class_name}`);
  const entries = (Array.isArray(topology.config) ? topology.config : (topology.config?.layers as Config[])) ?? [];
  if (!entries.length) throw new ModelFileError(`${file}: the model has no layers`);
  const first = (entries[0] as { config?: Config }).config ?? {};
  const batchShape = (first.batch_input_shape ?? first.batch_shape ?? first.batchInputShape) as (number | null)[] | undefined;
  if (!batchShape) throw new ModelFileError(`${file}: the first layer declares no input shape (batch_input_shape)`);
  const inputShape = batchShape.slice(1).map(Number);
  const layers = entries.map((e) => toLayer(e as { class_name?: string; config?: Config }, file)).filter((l): l is LayerSpec => l !== null);

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
      if ((w.dtype ?? 'float32') !== 'float32') throw new ModelFileError(`${file}: weight ${w.name} has dtype ${w.dtype}; only float32 is supported`);
      const n = w.shape.reduce((a, b) => a * b, 1);
      if (offset + 4 * n > data.length) throw new ModelFileError(`${file}: weight files are truncated (${w.name} needs bytes ${offset}..${offset + 4 * n}, files have ${data.length})`);
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = data.readFloatLE(offset + 4 * i);
      offset += 4 * n;
      const [layer, kind] = [w.name.slice(0, w.name.lastIndexOf('/')), w.name.slice(w.name.lastIndexOf('/') + 1)];
      weights.set(`${layer}.${kind === 'kernel' ? 'weight' : kind}`, { shape: w.shape, values });
    }
    if (offset !== data.length) throw new ModelFileError(`${file}: weight files hold ${data.length} bytes but the manifest describes ${offset}`);
  }
  return { layers, inputShape, weights };
}

function kerasLayer(l: LayerSpec, inputShape: readonly number[] | undefined): { class_name: string; config: Config } {
  const base: Config = { name: l.name, trainable: true, dtype: 'float32', ...(inputShape ? { batch_input_shape: [null, ...inputShape] } : {}) };
  switch (l.type) {
    case 'dense':
      return { class_name: 'Dense', config: { ...base, units: l.units, activation: l.activation, use_bias: l.useBias } };
    case 'conv2d':
      return {
        class_name: 'Conv2D',
        config: { ...base, filters: l.filters, kernel_size: l.kernelSize, strides: l.strides, padding: l.padding, data_format: 'channels_last', dilation_rate: [1, 1], activation: l.activation, use_bias: l.useBias },
      };
    case 'maxpool':
      return { class_name: 'MaxPooling2D', config: { ...base, pool_size: l.poolSize, strides: l.strides, padding: l.padding, data_format: 'channels_last' } };
    case 'flatten':
      return { class_name: 'Flatten', config: base };
    case 'reshape':
      return { class_name: 'Reshape', config: { ...base, target_shape: l.targetShape } };
    case 'activation':
      return { class_name: 'Activation', config: { ...base, activation: l.activation } };
    case 'dropout':
      return { class_name: 'Dropout', config: { ...base, rate: l.rate } };
  }
}

/**
 * Writes model.json and weights.bin into `dir`, atomically (a temporary
 * folder renamed into place). The input is reshaped to `inputShape` first.
 */
export function saveSequentialModel(dir: string, layers: readonly LayerSpec[], inputShape: readonly number[], params: ReadonlyMap<string, { shape: number[]; values: Float32Array }>): void {
  const all: LayerSpec[] = [...layers];
  const manifest: { name: string; shape: number[]; dtype: 'float32' }[] = [];
  const chunks: Buffer[] = [];
  for (const l of all) {
    for (const [suffix, kind] of [['weight', 'kernel'], ['bias', 'bias']] as const) {
      const p = params.get(`${l.name}.${suffix}`);
      if (!p) continue;
      manifest.push({ name: `${l.name}/${kind}`, shape: p.shape, dtype: 'float32' });
      chunks.push(Buffer.from(p.values.buffer, p.values.byteOffset, p.values.byteLength));
    }
  }
  const json = {
    format: 'layers-model',
    generatedBy: 'anchorage',
    convertedBy: null,
    modelTopology: {
      class_name: 'Sequential',
      config: { name: 'anchorage', layers: all.map((l, i) => kerasLayer(l, i === 0 ? inputShape : undefined)) },
      keras_version: 'tfjs-layers 4.22.0',
      backend: 'tensor_flow.js',
    },
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
