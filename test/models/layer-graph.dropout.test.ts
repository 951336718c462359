// Dropout in the layer graph: active only in training, scaled, with masks a checkpoint can replay.
import { afterAll, describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { tf } from '../../src/tensor/tf.js';
import { selectBackend } from '../../src/tensor/backend.js';
import { Rng } from '../../src/tensor/rng.js';
import type { Model } from '../../src/contracts/model.js';
import type { PluginContext } from '../../src/plugin/define-plugin.js';
import mlp from '../../plugins/models/mlp.js';
import { ROOT } from '../helpers.js';
import { availableBackends, maxDiff } from './torch-dump.js';

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

const BACKENDS = await availableBackends();

afterAll(async () => {
  await selectBackend('auto');
});

describe('dropout', () => {
  it('drops units only in training, scales the rest, and draws masks a checkpoint can replay', async () => {
    await selectBackend(BACKENDS[0]);
    const model = await mlp.create({ hidden: [256], activation: 'relu', dropout: 0.5 }, context([8], 3));
    const plain = await mlp.create({ hidden: [256], activation: 'relu', dropout: 0 }, context([8], 3));
    const x = tf.randomNormal([64, 8], 0, 1, 'float32', 3);
    // Same seed, same initial weights: evaluation is the model without dropout.
    const [evalA, evalB] = [model.forward(x, false), plain.forward(x, false)];
    expect(maxDiff(evalA, { shape: evalB.shape, values: Array.from(evalB.dataSync()) })).toBe(0);
    const hidden = (m: Model) => m.features!(x, true);
    const saved = model.snapshot!();
    const first = hidden(model);
    const second = hidden(model);
    const zeros = (t: tf.Tensor) => Array.from(t.dataSync()).filter((v) => v === 0).length / t.size;
    const reference = plain.features!(x, false);
    const positive = Array.from(reference.dataSync()).filter((v) => v > 0).length / reference.size;
    // About half of the active units are dropped; kept ones are doubled.
    expect(zeros(first)).toBeGreaterThan(1 - positive * 0.6);
    expect(zeros(first)).toBeLessThan(1 - positive * 0.4);
    const f = first.dataSync();
    const r = reference.dataSync();
    for (let i = 0; i < f.length; i++) if (f[i] !== 0) expect(f[i]).toBeCloseTo(2 * r[i], 5);
    expect(Array.from(first.dataSync())).not.toEqual(Array.from(second.dataSync()));
    // Restoring the snapshot replays the same masks.
    model.restore!(saved);
    const replayed = hidden(model);
    expect(Array.from(replayed.dataSync())).toEqual(Array.from(first.dataSync()));
    tf.dispose([x, evalA, evalB, first, second, reference, replayed]);
    model.dispose();
    plain.dispose();
  });
});
