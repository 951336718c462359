// The layer model's features with other parameter values (APER's frozen backbone beside the adapted one): the same
// function as a model built from those values, and batch norm's running statistics untouched.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import { Rng } from '../../src/tensor/rng.js';
import { layerModel } from '../../src/models/layer-model.js';
import { describeLayers, initParams } from '../../src/models/layer-graph.js';
import type { LayerSpec } from '../../src/contracts/layers.js';

beforeAll(async () => {
  await selectBackend('auto');
});

const LAYERS: LayerSpec[] = [
  { type: 'dense', name: 'fc1', units: 6, activation: 'relu', useBias: true },
  { type: 'batchnorm', name: 'bn1', momentum: 0.1, epsilon: 1e-5 },
  { type: 'dense', name: 'head', units: 3, activation: 'linear', useBias: true },
];

const build = (seed: number) =>
  layerModel({
    kind: 'mlp',
    layers: LAYERS,
    inputShape: [4],
    params: initParams(describeLayers(LAYERS, [4]).params, new Rng(seed)),
  });

describe('layerModel features with other parameters', () => {
  it("equal the features of a model holding those values, and leave the model's own buffers as they were", () => {
    const a = build(1);
    const b = build(2);
    const x = tf.tensor2d(
      Array.from({ length: 20 }, (_, i) => Math.sin(i)),
      [5, 4],
    );
    const values = Object.fromEntries(b.params);
    const buffers = () => [...a.buffers!.values()].map((v) => Array.from(v.dataSync()));
    const before = buffers();
    const withB = tf.tidy(() => a.features!(x, false, values).arraySync() as number[][]);
    expect(withB).toEqual(tf.tidy(() => b.features!(x, false).arraySync()));
    expect(withB).not.toEqual(tf.tidy(() => a.features!(x, false).arraySync()));
    // In training mode too: batch statistics, and the running ones stay as they were.
    tf.tidy(() => a.features!(x, true, values));
    expect(buffers()).toEqual(before);
    expect(withB[0]).toHaveLength(6);
    x.dispose();
    a.dispose();
    b.dispose();
  });
});
