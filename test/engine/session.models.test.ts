// Every model the framework ships trains on every available backend (wasm
// always; native TensorFlow when set up), with every optimizer family, and
// the backends agree on a short fixed-seed run.
import { beforeAll, describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import { runEvents } from '../../src/engine/session.js';
import { selectBackend, type BackendInfo, type BackendName } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import type { RunEvent } from '../../src/contracts/events.js';
import { tinyConfigs } from '../helpers.js';

// The synthetic features presented as 8×8×1 images, so that the cnn can take them.
const IMAGES = { name: 'synthetic', classes: 4, features: 64, trainPerClass: 16, testPerClass: 8, separation: 6 };
const MODELS = [
  { name: 'mlp', hidden: [32] },
  { name: 'mlp', hidden: [32], dropout: 0.25 },
  { name: 'cnn', channels: [4, 8], hidden: 16, dropout: 0.25 },
  // Batch norm, a stride-2 convolution padded as PyTorch pads, a residual add and global average pooling.
  { name: 'resnet18', width: 4, blocks: [1, 1] },
];

async function available(name: BackendName): Promise<BackendInfo | undefined> {
  try {
    return await selectBackend(name);
  } catch {
    return undefined;
  }
}

const backends: BackendName[] = [];
beforeAll(async () => {
  for (const b of ['tensorflow', 'wasm'] as const) if (await available(b)) backends.push(b);
});

async function run(backend: BackendName, model: object, optimizer: object = { name: 'adamw', lr: 0.01 }) {
  const info = await selectBackend(backend);
  const { configs, registry } = tinyConfigs({
    name: 'models',
    dataset: { ...IMAGES, imageShape: [8, 8, 1] },
    stream: { name: 'split', tasksOf: 2 },
    model,
    optimizer,
    train: { epochs: 2, batchSize: 8, logEvery: 2 },
  });
  const before = tf.memory().numTensors;
  const events: RunEvent[] = await lastValueFrom(runEvents(configs[0], registry, info).pipe(toArray()));
  expect(events.at(-1)).toMatchObject({ type: 'run-end', status: 'completed' });
  expect(tf.memory().numTensors).toBe(before);
  return events;
}

describe.each(MODELS)('model %# $name', (model) => {
  it('trains on every available backend with adamw, ftp and tpgm', async () => {
    expect(backends).toContain('wasm');
    for (const backend of backends) {
      for (const optimizer of [
        { name: 'adamw', lr: 0.01 },
        { name: 'ftp', lr: 0.01, anchor: 'task-start' },
        { name: 'tpgm', lr: 0.01, valFraction: 0.25 },
      ]) {
        const events = await run(backend, model, optimizer);
        const losses = events.flatMap((e) => (e.type === 'step' ? [e.loss] : []));
        expect(losses.every(Number.isFinite)).toBe(true);
      }
    }
  });

  it('gives the same results on native TensorFlow and wasm (float32 tolerance)', async (test) => {
    if (!backends.includes('tensorflow')) {
      test.skip('native TensorFlow is not set up on this machine (anchorage setup native)');
      return;
    }
    const [a, b] = [await run('tensorflow', model), await run('wasm', model)];
    const pick = (ev: RunEvent[]) =>
      ev.flatMap((e) => (e.type === 'step' ? [e.loss] : e.type === 'eval' ? [e.accuracy] : []));
    const [la, lb] = [pick(a), pick(b)];
    expect(la).toHaveLength(lb.length);
    la.forEach((v, i) => expect(Math.abs(v - lb[i])).toBeLessThan(1e-3 * Math.max(1, Math.abs(lb[i]))));
  });
});
