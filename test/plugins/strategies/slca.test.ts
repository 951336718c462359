// SLCA in the run loop: the slow learner forgets less than the same training at the head's learning rate, and the
// classifier aligned on sampled class Gaussians recovers the earlier task's classes that the head alone loses.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend, type BackendInfo } from '../../../src/tensor/backend.js';
import { problemsOf } from '../../helpers.js';
import { pretrainBackbone, runTarget, targetSpec } from './fixture-pretrained.js';

let backend: BackendInfo;
let backbone: string;
beforeAll(async () => {
  backend = await selectBackend('auto');
  backbone = await pretrainBackbone(backend);
});

describe('slca', () => {
  it('the slow backbone forgets less than a fast one, and the alignment raises the final accuracy', async () => {
    const run = (strategy: object) => runTarget(targetSpec(backbone, { strategy }), backend);
    const full = await run({ name: 'slca' });
    const unaligned = await run({ name: 'slca', alignEpochs: 0 });
    const fast = await run({ name: 'slca', slow: 1, alignEpochs: 0 });
    expect(full.steps).toEqual([12, 12]);
    expect(unaligned.forgetting).toBeLessThan(fast.forgetting);
    expect(full.acc).toBeGreaterThan(unaligned.acc + 0.15);
  });

  it('refuses a slow fraction of 0 or above 1 and negative alignment settings, naming the field', () => {
    const spec = (strategy: object) => targetSpec('backbone', { strategy: { name: 'slca', ...strategy } });
    expect(problemsOf(spec({ slow: 0 }))['strategy.slow']).toMatch(/> 0 and <= 1, got 0/);
    expect(problemsOf(spec({ slow: 2 }))['strategy.slow']).toMatch(/got 2/);
    expect(problemsOf(spec({ samples: 0 }))['strategy.samples']).toMatch(/>= 1, got 0/);
    expect(problemsOf(spec({ logitNorm: -1 }))['strategy.logitNorm']).toMatch(/got -1/);
  });
});
