// Random crop after zero padding (the CIFAR recipe: pad 4, crop 32×32):
// every sampled image of a step is shifted by its own offset in [0, 2·padding]
// on each axis. Offsets are drawn on the host before the task trains.
import { definePlugin } from '../../src/plugin/define-plugin.js';
import { o, type OptionsInput } from '../../src/plugin/options.js';
import { tf } from '../../src/tensor/tf.js';

const options = {
  padding: o.integer({ description: 'zero padding on every side before cropping back to the original size', default: 4, min: 1 }),
};

declare module '../../src/plugin/kinds.js' {
  interface AugmentationPlugins {
    'random-crop': OptionsInput<typeof options>;
  }
}

export default definePlugin({
  kind: 'augmentation',
  name: 'random-crop',
  description: 'pad with zeros, then crop each training image back to its size at a random offset',
  options,
  create(opts) {
    const p = opts.padding;
    let boxes: tf.Tensor3D | undefined;
    let rows = 0;
    const release = () => {
      boxes?.dispose();
      boxes = undefined;
    };
    return {
      name: 'random-crop',
      when: 'train' as const,
      planTask(steps, maxRows, rng) {
        release();
        rows = maxRows;
        const offsets = new Int32Array(Math.max(steps, 1) * maxRows * 2);
        for (let i = 0; i < offsets.length; i++) offsets[i] = rng.int(2 * p + 1);
        boxes = tf.tensor3d(offsets, [Math.max(steps, 1), maxRows, 2], 'int32');
      },
      apply(x, step) {
        if (!boxes) throw new Error('random-crop: planTask must run before the task trains');
        const [n, h, w, c] = x.shape;
        if (n > rows) throw new Error(`random-crop: ${n} rows in a step planned for ${rows}`);
        const [hp, wp] = [h + 2 * p, w + 2 * p];
        const padded = tf.reshape(tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]]), [n * hp * wp, c]);
        // Integer indices into the padded batch (exact on every backend, unlike resampling):
        // pixel (i, y, x) of the crop is padded pixel (i, y + dy_i, x + dx_i).
        const offsets = tf.reshape(tf.slice(boxes, [step - 1, 0, 0], [1, n, 2]), [n, 2]);
        const [dy, dx] = tf.split(offsets, 2, 1);
        const rowsOf = tf.add(tf.add(dy, tf.reshape(tf.range(0, h, 1, 'int32'), [1, h])), tf.mul(tf.reshape(tf.range(0, n, 1, 'int32'), [n, 1]), tf.scalar(hp, 'int32'))); // [n, h]: i·hp + y + dy
        const colsOf = tf.add(dx, tf.reshape(tf.range(0, w, 1, 'int32'), [1, w])); // [n, w]
        const flat = tf.add(tf.mul(tf.reshape(rowsOf, [n, h, 1]), tf.scalar(wp, 'int32')), tf.reshape(colsOf, [n, 1, w]));
        return tf.reshape(tf.gather(padded, tf.reshape(flat, [-1])), [n, h, w, c]);
      },
      dispose: release,
    };
  },
});
