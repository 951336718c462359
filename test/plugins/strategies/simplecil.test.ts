// SimpleCIL in the run loop: nothing trains, and the prototypes of frozen pre-trained features classify every
// class seen so far, where fine-tuning the same backbone forgets the first task.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend, type BackendInfo } from '../../../src/tensor/backend.js';
import { pretrainBackbone, runTarget, targetSpec } from './fixture-pretrained.js';

let backend: BackendInfo;
let backbone: string;
beforeAll(async () => {
  backend = await selectBackend('auto');
  backbone = await pretrainBackbone(backend);
});

describe('simplecil', () => {
  it('takes no training step and, on frozen features, keeps both tasks where naive fine-tuning forgets', async () => {
    const naive = await runTarget(targetSpec(backbone), backend);
    const simple = await runTarget(targetSpec(backbone, { strategy: { name: 'simplecil' } }), backend);
    expect(naive.steps).toEqual([12, 12]);
    expect(simple.steps).toEqual([0, 0]);
    expect(naive.forgetting).toBeGreaterThan(0.5);
    expect(simple.acc).toBeGreaterThan(naive.acc + 0.4);
    expect(simple.forgetting).toBeLessThan(0.15);
  });
});
