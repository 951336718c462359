// Generative replay in the run loop: replayed samples of a VAE trained beside the classifier keep earlier
// classes that fine-tuning forgets in class-IL, with hard labels and more so with distillation; options out of
// range are refused under their field.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend, type BackendInfo } from '../../../src/tensor/backend.js';
import { problemsOf } from '../../helpers.js';
import { runToSummary } from '../../run-summary.js';

let backend: BackendInfo;
beforeAll(async () => {
  backend = await selectBackend('auto');
});

const SPEC = {
  name: 'dgr',
  dataset: { name: 'synthetic', classes: 6, features: 16, trainPerClass: 60, testPerClass: 30, separation: 6 },
  stream: { name: 'split', tasksOf: 2 },
  model: { name: 'mlp', hidden: [32] },
  optimizer: { name: 'adamw', lr: 0.01 },
  train: { steps: 200, batchSize: 32, logEvery: 50 },
};
// Synthetic features are not in [0, 1]: the squared-error reconstruction.
const VAE = { recon: 'mse', latent: 8, hidden: [32] };

const accuracy = async (strategy: object) => (await runToSummary({ ...SPEC, strategy }, backend)).acc;

describe('dgr', () => {
  it('keeps earlier classes in class-IL where fine-tuning forgets them, more so with distilled targets', async () => {
    const naive = await accuracy({ name: 'naive' });
    const hard = await accuracy({ name: 'dgr', ...VAE });
    const soft = await accuracy({ name: 'dgr', ...VAE, targets: 'soft' });
    expect(naive).toBeLessThan(0.4);
    expect(hard).toBeGreaterThan(naive + 0.2);
    expect(soft).toBeGreaterThan(naive + 0.4);
  }, 120_000);

  it('refuses a latent size of 0, a hidden layer of width 0 and a temperature of 0, naming the field', () => {
    const p = problemsOf({ ...SPEC, strategy: { name: 'dgr', latent: 0, hidden: [0], temperature: 0 } });
    expect(p['strategy.latent']).toMatch(/>= 1, got 0/);
    expect(p['strategy.hidden[0]']).toMatch(/>= 1, got 0/);
    expect(p['strategy.temperature']).toMatch(/> 0, got 0/);
  });
});
