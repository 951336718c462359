// L2-SP's fused anchor pull (plugins/optimizers/l2sp-native.ts) against its
// reference (l2sp.ts): the same sub, mul and add rounding, so the same bits,
// for tensors of every rank. Native TensorFlow with the fused kernels only;
// skipped with the reason elsewhere.
import { beforeEach, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/tensor/backend.js';
import { tf } from '../../../src/tensor/tf.js';
import type { NamedTensors, StepContext } from '../../../src/contracts/optimizer.js';
import { nativeKernelsMissing } from '../../helpers.js';
import { anchorPullReference } from '../../../plugins/optimizers/l2sp.js';
import { anchorPullNative } from '../../../plugins/optimizers/l2sp-native.js';

const backend = await selectBackend((process.env.ANCHORAGE_BACKEND as 'auto' | undefined) ?? 'auto');
const missing = nativeKernelsMissing(backend.name);

describe('L2-SP through the fused kernel', () => {
  beforeEach((ctx) => {
    if (missing) ctx.skip(missing);
  });

  it('equals the reference bit for bit on a matrix, a large matrix, a vector and a scalar', () => {
    const shapes: Record<string, number[]> = { w: [37, 11], big: [700, 400], b: [11], s: [] };
    tf.tidy(() => {
      const names = Object.keys(shapes);
      const draw = (k: number) =>
        Object.fromEntries(names.map((n, i) => [n, tf.randomNormal(shapes[n], 0, 1, 'float32', 10 * k + i)]));
      const [grads, params, anchor] = [draw(1), draw(2), draw(3)] as NamedTensors[];
      const ctx: StepContext = {
        step: 1,
        taskStep: 1,
        taskSteps: 1,
        anchorStep: 1,
        params,
        rawGrads: grads,
        anchor,
        rowAxis: {},
      };
      const reference = anchorPullReference(0.37);
      const a = anchorPullNative(0.37, reference)(grads, {}, ctx).updates;
      const b = reference(grads, {}, ctx).updates;
      for (const n of names) {
        expect(a[n].shape).toEqual(shapes[n]);
        expect(Array.from(a[n].dataSync()), n).toEqual(Array.from(b[n].dataSync()));
        // The pull changed the gradient: the comparison is not of two copies of it.
        expect(tf.max(tf.abs(tf.sub(a[n], grads[n]))).dataSync()[0]).toBeGreaterThan(0.01);
      }
    });
  });
});
