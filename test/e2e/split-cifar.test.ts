// The whole Split CIFAR-10 path through the CLI, on files the test writes in
// the official binary layout (nothing downloads): the cifar10 plugin, the
// reduced ResNet-18 with batch norm, random crops, flips and normalisation,
// replay, saving the model as a TensorFlow.js Layers model, and `compare`.
import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readRows } from '../../src/results/tables.js';
import { runCli, scratchDir, writeExperiment } from '../helpers.js';

/**
 * A record of class `label`: each class its own colour, with a little per-image noise, so the classes can be learned.
 */
function record(label: number, image: number): Buffer {
  const out = Buffer.alloc(1 + 3072);
  out[0] = label;
  for (let c = 0; c < 3; c++) {
    const base = (label * 37 + c * 91) % 256;
    for (let p = 0; p < 1024; p++) out[1 + c * 1024 + p] = (base + ((p * 7 + image * 13 + c) % 40)) % 256;
  }
  return out;
}

function writeCifar10(dir: string, perBatch: number, testCount: number): void {
  mkdirSync(dir, { recursive: true });
  let image = 0;
  for (let b = 1; b <= 5; b++)
    writeFileSync(
      join(dir, `data_batch_${b}.bin`),
      Buffer.concat(Array.from({ length: perBatch }, () => record(image % 10, image++))),
    );
  writeFileSync(
    join(dir, 'test_batch.bin'),
    Buffer.concat(Array.from({ length: testCount }, (_, i) => record(i % 10, 5000 + i))),
  );
}

describe('Split CIFAR-10 on CIFAR-format files', () => {
  it('trains a ResNet-18 with batch norm and augmentation through the CLI, saves it, and compares', () => {
    const dir = scratchDir('split-cifar');
    writeCifar10(join(dir, 'cifar'), 20, 60);
    const spec = {
      name: 'split-cifar-small',
      dataset: { name: 'cifar10', dir: './cifar' },
      stream: { name: 'split', tasksOf: 2 },
      scenario: 'class-il',
      model: { name: 'resnet18', width: 4, blocks: [1, 1] },
      optimizer: { name: 'sgd', lr: 0.05 },
      strategy: { name: 'replay', size: 20 },
      augment: [
        { name: 'random-crop', padding: 4 },
        { name: 'horizontal-flip' },
        { name: 'normalize', mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] },
      ],
      train: { epochs: 2, batchSize: 10, logEvery: 5 },
      saveModel: 'models/{seed}',
      seeds: [1],
    };
    const out = join(dir, 'results');
    const r = runCli(['run', writeExperiment(dir, spec), '--out', out, '--quiet'], { timeout: 600_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const root = join(out, 'split-cifar-small');
    const [run] = readdirSync(root).filter((d) => d.startsWith('sgd-'));
    const record_ = JSON.parse(readFileSync(join(root, run, 'run.json'), 'utf8'));
    expect(record_.model).toMatch(/^resnet18 \[32,32,3\] .*; input normalize$/);
    expect(record_.tasks).toHaveLength(5);
    const evals = readRows<{ trained_task: number; eval_task: number; eval_set: string; accuracy: number }>(
      join(root, run, 'evals.arrow'),
    );
    // Before training, and after each of 5 tasks, on each of 5 tasks' test splits.
    expect(evals.filter((e) => e.eval_set === 'test')).toHaveLength(30);
    expect(evals.every((e) => e.accuracy >= 0 && e.accuracy <= 1)).toBe(true);
    // Saved with its batch-norm statistics, as a functional Layers model.
    const model = JSON.parse(readFileSync(join(out, 'models', '1', 'model.json'), 'utf8'));
    expect(model.modelTopology.class_name).toBe('Model');
    const weights = model.weightsManifest[0].weights.map((w: { name: string }) => w.name);
    expect(weights).toContain('layer2.0.shortcut.1/moving_variance');
    expect(weights).toContain('head/kernel');
    const compare = runCli(['compare', root, '--by', 'model,strategy']);
    expect(compare.code).toBe(0);
    expect(compare.stdout).toMatch(/resnet18\s+replay\(20\)\s+1\s+1/);
  });
});
