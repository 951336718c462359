// SPD's fused projection (plugins/optimizers/spd-native.ts) against its
// reference (spd.ts): the same weights to float32 round-off, for tensors the
// condition selects and tensors it leaves alone, over draws of weights,
// updates and gradients. Native TensorFlow with the fused kernels only;
// skipped with the reason elsewhere.
import { beforeEach, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/tensor/backend.js';
import { tf } from '../../../src/tensor/tf.js';
import type { NamedTensors, StepContext } from '../../../src/contracts/optimizer.js';
import { nativeKernelsMissing } from '../../helpers.js';
import { spdReference } from '../../../plugins/optimizers/spd.js';
import { spdNativeProject } from '../../../plugins/optimizers/spd-native.js';

const backend = await selectBackend((process.env.ANCHORAGE_BACKEND as 'auto' | undefined) ?? 'auto');
const missing = nativeKernelsMissing(backend.name);

const SHAPES: Record<string, number[]> = { w1: [300, 70], b1: [70], w2: [70, 10], s: [] };
const normal = (shape: number[], sd: number, seed: number) => tf.randomNormal(shape, 0, sd, 'float32', seed);

describe('SPD through the fused kernel', () => {
  beforeEach((ctx) => {
    if (missing) ctx.skip(missing);
  });

  it('equals the reference on selected and unselected tensors over 12 draws', () => {
    const lambda = 0.7;
    const reference = spdReference(lambda);
    const fused = spdNativeProject(lambda, reference);
    let pulled = 0;
    let left = 0;
    for (let draw = 0; draw < 12; draw++) {
      tf.tidy(() => {
        const names = Object.keys(SHAPES);
        const seed = (i: number, k: number) => 1000 * draw + 10 * i + k;
        const anchor: NamedTensors = Object.fromEntries(names.map((n, i) => [n, normal(SHAPES[n], 1, seed(i, 1))]));
        const params: NamedTensors = Object.fromEntries(
          names.map((n, i) => [n, tf.add(anchor[n], normal(SHAPES[n], 0.1, seed(i, 2)))]),
        );
        const tentative: NamedTensors = Object.fromEntries(
          names.map((n, i) => [n, tf.add(params[n], normal(SHAPES[n], 0.05 * (1 + (draw % 3)), seed(i, 3)))]),
        );
        const rawGrads: NamedTensors = Object.fromEntries(names.map((n, i) => [n, normal(SHAPES[n], 1, seed(i, 4))]));
        const ctx: StepContext = {
          step: 1,
          taskStep: 1,
          taskSteps: 1,
          anchorStep: 1,
          params,
          rawGrads,
          anchor,
          rowAxis: {},
        };
        const a = fused(tentative, {}, ctx).params;
        const b = reference(tentative, {}, ctx).params;
        for (const n of names) {
          const gap = tf.max(tf.abs(tf.sub(a[n], b[n]))).dataSync()[0];
          const scale = Math.max(1, tf.max(tf.abs(b[n])).dataSync()[0]);
          expect(gap / scale, `draw ${draw}, ${n}`).toBeLessThan(1e-5);
          const moved = tf.max(tf.abs(tf.sub(b[n], tentative[n]))).dataSync()[0] > 1e-6;
          if (moved) pulled++;
          else left++;
        }
      });
    }
    // Both branches of the condition were compared.
    expect(pulled).toBeGreaterThan(5);
    expect(left).toBeGreaterThan(5);
  });
});
