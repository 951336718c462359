// Our reader and writer of TensorFlow.js Layers models against the real
// tfjs-layers: a model it builds and saves loads here with the same outputs,
// and a model we save loads in tfjs-layers with the same outputs.
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as layers from '@tensorflow/tfjs-layers';
import { tf } from '../../src/tensor/tf.js';
import { selectBackend } from '../../src/tensor/backend.js';
import { ModelFileError, readLayersModel, saveLayersModel } from '../../src/models/layers-file.js';
import { applyLayers } from '../../src/models/layer-graph.js';
import { scratchDir } from '../helpers.js';

beforeAll(async () => {
  await selectBackend('auto');
});

/** What `model.save('file://dir')` writes (tfjs-node's file handler), done here without tfjs-node. */
async function saveLikeTfjsNode(model: layers.LayersModel, dir: string): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'weights.bin'), Buffer.from(artifacts.weightData as ArrayBuffer));
      writeFileSync(
        join(dir, 'model.json'),
        JSON.stringify({
          modelTopology: artifacts.modelTopology,
          format: artifacts.format,
          generatedBy: artifacts.generatedBy,
          convertedBy: artifacts.convertedBy,
          weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
        }),
      );
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

function tfjsCnn(): layers.Sequential {
  const m = layers.sequential();
  m.add(
    layers.layers.conv2d({
      inputShape: [8, 8, 1],
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      name: 'conv1',
    }),
  );
  m.add(layers.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }));
  m.add(layers.layers.flatten({ name: 'flat' }));
  m.add(layers.layers.dense({ units: 6, activation: 'tanh', name: 'fc1' }));
  m.add(layers.layers.dropout({ rate: 0.5, name: 'drop' }));
  m.add(layers.layers.dense({ units: 3, name: 'out' }));
  return m;
}

describe('TensorFlow.js Layers model files', () => {
  it('loads a model saved by tfjs-layers and computes the same outputs', async () => {
    const dir = scratchDir('layers');
    const model = tfjsCnn();
    await saveLikeTfjsNode(model, dir);
    const loaded = readLayersModel(dir);
    expect(loaded.inputShape).toEqual([8, 8, 1]);
    expect(loaded.layers.map((l) => `${l.type}:${l.name}`)).toEqual([
      'conv2d:conv1',
      'maxpool:pool1',
      'flatten:flat',
      'dense:fc1',
      'dropout:drop',
      'dense:out',
    ]);
    const x = tf.randomUniform([5, 64]);
    const values = Object.fromEntries([...loaded.weights].map(([n, w]) => [n, tf.tensor(w.values, w.shape)]));
    const ours = applyLayers(loaded.layers, loaded.inputShape, values, x);
    const theirs = model.predict(tf.reshape(x, [5, 8, 8, 1])) as tf.Tensor;
    const diff = Math.max(...Array.from(ours.dataSync()).map((v, i) => Math.abs(v - theirs.dataSync()[i])));
    expect(diff).toBeLessThan(1e-5);
    tf.dispose([x, ours, theirs, ...Object.values(values)]);
    model.dispose();
  });

  it('writes a model that tfjs-layers loads, with the same outputs', async () => {
    const dir = join(scratchDir('layers-out'), 'model');
    const model = tfjsCnn();
    const src = scratchDir('layers-src');
    await saveLikeTfjsNode(model, src);
    const loaded = readLayersModel(src);
    saveLayersModel(dir, loaded.layers, loaded.inputShape, loaded.weights);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const weightData = readFileSync(join(dir, 'weights.bin'));
    const back = await layers.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest[0].weights,
        weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
      }),
    );
    const x = tf.randomUniform([4, 8, 8, 1]);
    const a = model.predict(x) as tf.Tensor;
    const b = back.predict(x) as tf.Tensor;
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    tf.dispose([x, a, b]);
    model.dispose();
    back.dispose();
  });

  it('names the problem in a missing, malformed or unsupported file', () => {
    const dir = scratchDir('layers-bad');
    expect(() => readLayersModel(join(dir, 'nope'))).toThrow(/no such model file/);
    writeFileSync(join(dir, 'model.json'), '{ not json');
    expect(() => readLayersModel(dir)).toThrow(ModelFileError);
    writeFileSync(
      join(dir, 'model.json'),
      JSON.stringify({
        modelTopology: {
          class_name: 'Sequential',
          config: { layers: [{ class_name: 'LSTM', config: { name: 'l', batch_input_shape: [null, 3, 4] } }] },
        },
      }),
    );
    expect(() => readLayersModel(dir)).toThrow(/layer type 'LSTM' is not supported; supported: InputLayer, Dense/);
    writeFileSync(
      join(dir, 'model.json'),
      JSON.stringify({
        modelTopology: {
          class_name: 'Sequential',
          config: { layers: [{ class_name: 'Dense', config: { name: 'd', units: 2, batch_input_shape: [null, 3] } }] },
        },
        weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'd/kernel', shape: [3, 2], dtype: 'float32' }] }],
      }),
    );
    writeFileSync(join(dir, 'w.bin'), Buffer.alloc(8));
    expect(() => readLayersModel(dir)).toThrow(/weight files are truncated/);
  });
});
