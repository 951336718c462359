// APER in the run loop: the backbone adapts on the first task only; the prototypes of the adapted and the frozen
// features side by side keep both tasks.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend, type BackendInfo } from '../../../src/tensor/backend.js';
import { pretrainBackbone, runTarget, targetSpec } from './fixture-pretrained.js';

let backend: BackendInfo;
let backbone: string;
beforeAll(async () => {
  backend = await selectBackend('auto');
  backbone = await pretrainBackbone(backend);
});

describe('aper', () => {
  it('adapts on the first task only and keeps both tasks where naive fine-tuning forgets', async () => {
    const naive = await runTarget(targetSpec(backbone), backend);
    const aper = await runTarget(targetSpec(backbone, { strategy: { name: 'aper' } }), backend);
    expect(aper.steps).toEqual([12, 0]);
    expect(aper.acc).toBeGreaterThan(naive.acc + 0.4);
    expect(aper.forgetting).toBeLessThan(0.15);
  });

  it('adapts only the parameters train.params names (its last block), with an anchored optimizer', async () => {
    const aper = await runTarget(
      targetSpec(backbone, {
        strategy: { name: 'aper' },
        optimizer: { name: 'ftp', lr: 0.01 },
        train: { epochs: 2, batchSize: 20, logEvery: 5, params: ['fc2.*', 'head.*'] },
      }),
      backend,
    );
    expect(aper.steps).toEqual([12, 0]);
    expect(aper.acc).toBeGreaterThan(0.75);
  });
});
