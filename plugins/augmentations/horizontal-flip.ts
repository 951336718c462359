// Random horizontal flip: each sampled training image is mirrored left–right
// with probability p. The coin flips are drawn on the host before the task trains.
import { definePlugin, o, type OptionsInput, tf } from '../../src/plugin-api.js';

const options = {
  p: o.number({ description: 'probability of flipping an image', default: 0.5, min: 0, max: 1 }),
};

declare module '../../src/plugin/kinds.js' {
  interface AugmentationPlugins {
    'horizontal-flip': OptionsInput<typeof options>;
  }
}

export default definePlugin({
  kind: 'augmentation',
  name: 'horizontal-flip',
  description: 'mirror each training image left-right with probability p',
  options,
  create(opts) {
    let flips: tf.Tensor2D | undefined;
    let rows = 0;
    const release = () => {
      flips?.dispose();
      flips = undefined;
    };
    return {
      name: 'horizontal-flip',
      when: 'train' as const,
      planTask(steps, maxRows, rng) {
        release();
        rows = maxRows;
        const coins = new Int32Array(Math.max(steps, 1) * maxRows);
        for (let i = 0; i < coins.length; i++) coins[i] = rng.next() < opts.p ? 1 : 0;
        flips = tf.tensor2d(coins, [Math.max(steps, 1), maxRows], 'int32');
      },
      apply(x, step) {
        if (!flips) throw new Error('horizontal-flip: planTask must run before the task trains');
        const n = x.shape[0];
        if (n > rows) throw new Error(`horizontal-flip: ${n} rows in a step planned for ${rows}`);
        // [n, 1, 1, 1]: where() broadcasts from the last axis, so the per-image mask must have the image's rank.
        const mask = tf.cast(tf.reshape(tf.slice(flips, [step - 1, 0], [1, n]), [n, 1, 1, 1]), 'bool');
        return tf.where<tf.Tensor4D>(mask, tf.reverse(x, 2), x);
      },
      dispose: release,
    };
  },
});
