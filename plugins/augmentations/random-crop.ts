// Random crop after zero padding (the CIFAR recipe: pad 4, crop 32×32):
// every sampled image of a step is shifted by its own offset in [0, 2·padding]
// on each axis. Offsets are drawn on the host before the task trains.
import { definePlugin, o, type OptionsInput, requireMemory, tf } from '../../src/plugin-api.js';

const options = {
  padding: o.integer({
    description: 'zero padding on every side before cropping back to the original size',
    default: 4,
    min: 1,
  }),
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
  async create(opts, ctx) {
    const p = opts.padding;
    // Each step pads its whole batch (replayed rows included: up to twice the batch) before cropping it back.
    const { featureShape, batchSize } = await ctx.problem();
    const [h, w, c] = featureShape;
    const padded = 2 * batchSize * (h + 2 * p) * (w + 2 * p) * c;
    requireMemory('padding', `a padding of ${p} (a padded batch of ${2 * batchSize} images)`, 4 * padded, padded);
    let boxes: tf.Tensor3D | undefined;
    let rows = 0;
    // Per batch layout (rows, height, width), built once: each crop pixel's index into the padded
    // batch at offset (0, 0), and the weights that turn an offset (dy, dx) into an index shift.
    const layouts = new Map<string, { base: tf.Tensor2D; weights: tf.Tensor2D }>();
    const layout = (n: number, h: number, w: number) => {
      const key = `${n}x${h}x${w}`;
      let l = layouts.get(key);
      if (!l) {
        const [hp, wp] = [h + 2 * p, w + 2 * p];
        const base = new Int32Array(n * h * w);
        for (let i = 0, k = 0; i < n; i++)
          for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) base[k++] = (i * hp + y) * wp + x;
        l = {
          base: tf.keep(tf.tensor2d(base, [n, h * w], 'int32')),
          weights: tf.keep(tf.tensor2d([wp, 1], [1, 2], 'int32')),
        };
        layouts.set(key, l);
      }
      return l;
    };
    const release = () => {
      boxes?.dispose();
      boxes = undefined;
      for (const l of layouts.values()) tf.dispose([l.base, l.weights]);
      layouts.clear();
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
        const { base, weights } = layout(n, h, w);
        const padded = tf.reshape(
          tf.pad(x, [
            [0, 0],
            [p, p],
            [p, p],
            [0, 0],
          ]),
          [-1, c],
        );
        // Integer indices into the padded batch (exact on every backend, unlike resampling):
        // pixel (i, y, x) of the crop is padded pixel (i, y + dy_i, x + dx_i), i.e. base + dy_i·wp + dx_i.
        const offsets = tf.reshape(tf.slice(boxes, [step - 1, 0, 0], [1, n, 2]), [n, 2]);
        const shift = tf.sum(tf.mul(offsets, weights), 1, true); // [n, 1] (integer: no matMul on wasm)
        return tf.reshape(tf.gather(padded, tf.reshape(tf.add(base, shift), [-1])), [n, h, w, c]);
      },
      dispose: release,
    };
  },
});
