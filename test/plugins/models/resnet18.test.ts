// The reduced ResNet-18 against PyTorch (test/fixtures/resnet-torch.py: the GEM / Mammoth architecture, recorded by
// Debian's python3-torch), batch norm's training and evaluation semantics, and saving and loading it as a
// TensorFlow.js Layers model that tfjs-layers itself reads.
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as layers from '@tensorflow/tfjs-layers';
import { tf } from '../../../src/tensor/tf.js';
import { selectBackend } from '../../../src/tensor/backend.js';
import { Rng } from '../../../src/tensor/rng.js';
import type { Model } from '../../../src/contracts/model.js';
import type { PluginContext } from '../../../src/plugin/define-plugin.js';
import resnet18 from '../../../plugins/models/resnet18.js';
import pretrained from '../../../plugins/models/pretrained.js';
import { saveLayersModel } from '../../../src/models/layers-file.js';
import { ROOT, scratchDir } from '../../helpers.js';
import { availableBackends, maxDiff, type Dumped } from '../../models/torch-dump.js';

const fx = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/resnet-torch.json'), 'utf8')) as {
  width: number;
  blocks: number[];
  classes: number;
  imageShape: number[];
  parameters: number;
  state: Record<string, Dumped>;
  x: Dumped;
  labels: number[];
  evalLogits: Dumped;
  trainLogits: Dumped;
  loss: number;
  runningAfter: Record<string, Dumped>;
  grads: Record<string, Dumped>;
};

function context(featureShape: number[], outputs: number, seed = 1, dir = ROOT): PluginContext {
  const root = new Rng(seed);
  return {
    seed,
    rng: (label) => root.fork(label),
    resolve: () => Promise.reject(new Error('not needed')),
    problem: async () => ({ featureShape, outputs, batchSize: 1 }),
    resolvePath: (p) => resolve(dir, p),
  };
}

/**
 * PyTorch's name and layout → ours: `linear` is `head`; conv [out, in, kh, kw] → [kh, kw, in, out]; linear [out,
 * in] → [in, out].
 */
const ourName = (torchName: string) => torchName.replace(/^linear\./, 'head.');
function ourLayout(d: Dumped): tf.Tensor {
  return tf.tidy(() => {
    const t = tf.tensor(d.values, d.shape);
    return d.shape.length === 4 ? tf.transpose(t, [2, 3, 1, 0]) : d.shape.length === 2 ? tf.transpose(t) : t;
  });
}

async function fixtureModel(): Promise<Model> {
  const model = await resnet18.create(
    { width: fx.width, blocks: fx.blocks, momentum: 0.1, epsilon: 1e-5, dropout: 0 },
    context(fx.imageShape, fx.classes),
  );
  for (const [name, d] of Object.entries(fx.state)) {
    const target = model.params.get(ourName(name)) ?? model.buffers?.get(ourName(name));
    if (!target) throw new Error(`no ${ourName(name)} in our model`);
    const value = ourLayout(d);
    target.assign(value);
    value.dispose();
  }
  return model;
}

const BACKENDS = await availableBackends();

afterAll(async () => {
  await selectBackend('auto');
});

describe.each(BACKENDS)('resnet18 on %s', (backend) => {
  it(
    "has PyTorch's parameters and buffers, and computes " + 'its logits, loss, gradients and running statistics',
    async () => {
      await selectBackend(backend);
      const model = await fixtureModel();
      const before = tf.memory().numTensors;
      const torchParams = Object.keys(fx.state).filter((k) => !k.includes('running'));
      expect([...model.params.keys()].sort()).toEqual(torchParams.map(ourName).sort());
      expect([...(model.buffers?.keys() ?? [])].sort()).toEqual(
        Object.keys(fx.state)
          .filter((k) => k.includes('running'))
          .sort(),
      );
      expect([...model.params.values()].reduce((a, p) => a + p.size, 0)).toBe(fx.parameters);

      const x = tf.tensor2d(fx.x.values, [fx.x.shape[0], fx.x.values.length / fx.x.shape[0]]);
      const runningBefore = Array.from(model.buffers!.get('bn1.running_mean')!.dataSync());
      const evalLogits = tf.tidy(() => model.forward(x, false));
      expect(maxDiff(evalLogits, fx.evalLogits)).toBeLessThan(2e-4);
      // Evaluation leaves the running statistics alone.
      expect(Array.from(model.buffers!.get('bn1.running_mean')!.dataSync())).toEqual(runningBefore);

      const variables = [...model.params.values()];
      const names = [...model.params.keys()];
      const target = tf.tidy(() => tf.oneHot(tf.tensor1d(fx.labels, 'int32'), fx.classes));
      let trainLogits: tf.Tensor | undefined;
      const { value, grads } = tf.variableGrads(() => {
        trainLogits = tf.keep(model.forward(x, true));
        return tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(target, trainLogits);
      }, variables);
      expect(Math.abs(value.dataSync()[0] - fx.loss)).toBeLessThan(1e-4);
      expect(maxDiff(trainLogits!, fx.trainLogits)).toBeLessThan(2e-4);
      for (const [name, d] of Object.entries(fx.grads)) {
        const ours = grads[variables[names.indexOf(ourName(name))].name];
        const expected = ourLayout(d);
        const scale = Math.max(...Array.from(expected.dataSync()).map(Math.abs));
        expect(maxDiff(ours, { shape: expected.shape, values: Array.from(expected.dataSync()) }), name).toBeLessThan(
          1e-3 * Math.max(scale, 1e-3),
        );
        expected.dispose();
      }
      for (const [name, d] of Object.entries(fx.runningAfter))
        expect(maxDiff(model.buffers!.get(name)!, d), name).toBeLessThan(1e-5);

      // Scoring other parameter values (TPGM) in training mode uses batch statistics but moves no running ones.
      const snapshot = tf.clone(model.buffers!.get('layer3.0.bn1.running_var')!);
      const scored = tf.tidy(() => model.apply!(Object.fromEntries(model.params), x, true));
      expect(
        maxDiff(model.buffers!.get('layer3.0.bn1.running_var')!, {
          shape: snapshot.shape,
          values: Array.from(snapshot.dataSync()),
        }),
      ).toBe(0);
      tf.dispose([x, evalLogits, target, trainLogits!, value, ...Object.values(grads), snapshot, scored]);
      // Nothing leaked: batch norm's running updates replace the buffers' values in place.
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    },
  );
});

describe('resnet18 as a TensorFlow.js Layers model', () => {
  it(
    'saves as a functional model that tfjs-layers loads with the same outputs, and loads back as a pretrained ' +
      'model',
    async () => {
      await selectBackend(BACKENDS[0]);
      const model = await fixtureModel();
      const dir = join(scratchDir('resnet-save'), 'model');
      const values = new Map<string, { shape: number[]; values: Float32Array }>();
      for (const [name, v] of [...model.params, ...model.buffers!])
        values.set(name, { shape: v.shape, values: v.dataSync() as Float32Array });
      saveLayersModel(dir, model.architecture!.layers, model.architecture!.inputShape, values);
      const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
      expect(json.modelTopology.class_name).toBe('Model');
      const weightData = readFileSync(join(dir, 'weights.bin'));
      const theirs = await layers.loadLayersModel(
        tf.io.fromMemory({
          modelTopology: json.modelTopology,
          weightSpecs: json.weightsManifest[0].weights,
          weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
        }),
      );
      const x = tf.tensor2d(fx.x.values, [fx.x.shape[0], fx.x.values.length / fx.x.shape[0]]);
      const predicted = theirs.predict(tf.reshape(x, [-1, ...fx.imageShape])) as tf.Tensor;
      expect(maxDiff(predicted, fx.evalLogits)).toBeLessThan(2e-4);

      const loaded = await pretrained.create(
        { path: dir, head: 'keep', cutAt: '' },
        context(fx.imageShape, fx.classes),
      );
      const again = loaded.forward(x, false);
      expect(maxDiff(again, fx.evalLogits)).toBeLessThan(2e-4);
      expect([...loaded.buffers!.keys()].sort()).toEqual([...model.buffers!.keys()].sort());
      // A fresh head on the pooled features: everything else as saved.
      const newHead = await pretrained.create({ path: dir, head: 'new', cutAt: '' }, context(fx.imageShape, 3));
      expect(newHead.fresh).toEqual(new Set(['head.weight', 'head.bias']));
      expect(newHead.features!(x, false).shape).toEqual([fx.x.shape[0], fx.width * 8]);
      tf.dispose([x, predicted, again]);
      theirs.dispose();
      [model, loaded, newHead].forEach((m) => m.dispose());
    },
  );
});
