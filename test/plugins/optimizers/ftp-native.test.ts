// The fused step of FTP (plugins/optimizers/ftp-native.ts) against its reference
// (plugins/optimizers/ftp.ts): over 30 steps, from parameters and
// updates, the same parameters and state to float32 round-off. Native
// TensorFlow with the fused kernels only; skipped with the reason elsewhere.
import { beforeEach, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/tensor/backend.js';
import { tf } from '../../../src/tensor/tf.js';
import { nativeKernelsMissing } from '../../helpers.js';
import { compareOverSteps } from './projection-steps.js';
import { FTP_GAMMA, STACKED, ftpProjection } from '../../../plugins/optimizers/ftp.js';
import { ftpNativeStep } from '../../../plugins/optimizers/ftp-native.js';

const backend = await selectBackend((process.env.ANCHORAGE_BACKEND as 'auto' | undefined) ?? 'auto');
const missing = nativeKernelsMissing(backend.name);

describe('FTP through the fused kernels', () => {
  beforeEach((ctx) => {
    if (missing) ctx.skip(missing);
  });

  it('equals the reference over 30 steps, from parameters and updates (parameters and state within 1e-5)', () => {
    const { clipped, state } = compareOverSteps(() => {
      const reference = ftpProjection(0.5);
      return {
        reference,
        fused: {
          ...ftpProjection(0.5),
          projectStep: ftpNativeStep(0.5, ftpProjection(0.5), { gamma: FTP_GAMMA, key: STACKED }),
        },
      };
    });
    // The projection did project (the comparison covered clipped rows), and γ learned something.
    expect(clipped).toBeGreaterThan(10);
    expect(tf.max(state['ftp.gamma'][STACKED]).dataSync()[0]).toBeGreaterThan(1e-3);
  });
});
