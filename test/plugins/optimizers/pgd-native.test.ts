// The fused step of PGD (plugins/optimizers/pgd-native.ts) against its reference
// (plugins/optimizers/pgd.ts): over 30 steps, from parameters and
// updates, the same parameters and state to float32 round-off. Native
// TensorFlow with the fused kernels only; skipped with the reason elsewhere.
import { beforeEach, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/tensor/backend.js';
import { nativeKernelsMissing } from '../../helpers.js';
import { compareOverSteps } from './projection-steps.js';
import { pgdProjection } from '../../../plugins/optimizers/pgd.js';
import { pgdNativeStep } from '../../../plugins/optimizers/pgd-native.js';

const backend = await selectBackend((process.env.ANCHORAGE_BACKEND as 'auto' | undefined) ?? 'auto');
const missing = nativeKernelsMissing(backend.name);

describe('PGD through the fused kernels', () => {
  beforeEach((ctx) => {
    if (missing) ctx.skip(missing);
  });

  it('with radii relative to the anchor rows, equals the reference over 30 steps', () => {
    const make = () => {
      const reference = pgdProjection(() => 0.05, 'relative');
      return {
        reference,
        fused: { ...pgdProjection(() => 0.05, 'relative'), projectStep: pgdNativeStep('relative', reference) },
      };
    };
    expect(compareOverSteps(make).clipped).toBeGreaterThan(10);
  });

  it(
    'with an absolute radius of its own per tensor (a radius given to the wrong rows shows), equals the reference ' +
      'over 30 steps',
    () => {
      const radius = (name: string) => ({ w1: 0.5, b1: 0.2, w2: 0.8 })[name]!;
      const make = () => {
        const reference = pgdProjection(radius, 'absolute');
        return {
          reference,
          fused: { ...pgdProjection(radius, 'absolute'), projectStep: pgdNativeStep('absolute', reference) },
        };
      };
      expect(compareOverSteps(make).clipped).toBeGreaterThan(10);
    },
  );
});
