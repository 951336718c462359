// RanPAC in the run loop: no training (or the first task only, with first-session adaptation), a ridge classifier
// on random ReLU features of the frozen backbone that keeps every task. Its closed form is checked against float64
// in test/strategies/ridge-classifier.test.ts.
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

describe('ranpac', () => {
  it('trains nothing, or the first task only with adapt, and keeps both tasks where naive forgets', async () => {
    const naive = await runTarget(targetSpec(backbone), backend);
    const frozen = await runTarget(targetSpec(backbone, { strategy: { name: 'ranpac', projection: 200 } }), backend);
    const adapted = await runTarget(
      targetSpec(backbone, { strategy: { name: 'ranpac', projection: 200, adapt: true } }),
      backend,
    );
    expect(frozen.steps).toEqual([0, 0]);
    expect(adapted.steps).toEqual([12, 0]);
    for (const r of [frozen, adapted]) {
      expect(r.acc).toBeGreaterThan(naive.acc + 0.4);
      expect(r.forgetting).toBeLessThan(0.15);
    }
  });

  it('refuses a projection width of 0 and a negative λ, naming the field', () => {
    const p = problemsOf(targetSpec('backbone', { strategy: { name: 'ranpac', projection: 0, ridge: -1 } }));
    expect(p['strategy.projection']).toMatch(/>= 1, got 0/);
    expect(p['strategy.ridge']).toMatch(/>= 0, got -1/);
  });
});
