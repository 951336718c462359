// Per-channel normalisation, (x − mean) / std: part of the model's input, so
// it applies wherever the model sees data — training, evaluation, and the
// strategies' own passes — unlike the random augmentations.
import { definePlugin, o, type OptionsInput, tf } from '../../src/plugin-api.js';

const options = {
  mean: o.numbers({ description: 'per-channel mean (of the data in [0, 1])' }),
  std: o.numbers({ description: 'per-channel standard deviation' }),
};

declare module '../../src/plugin/kinds.js' {
  interface AugmentationPlugins {
    normalize: OptionsInput<typeof options>;
  }
}

export default definePlugin({
  kind: 'augmentation',
  name: 'normalize',
  description: 'per-channel (x - mean) / std, at training and evaluation alike',
  options,
  validate: (opts) => [
    ...(opts.mean.length !== opts.std.length
      ? [{ path: 'std', message: `has ${opts.std.length} values but mean has ${opts.mean.length}` }]
      : []),
    ...opts.std.flatMap((s, i) => (s > 0 ? [] : [{ path: `std[${i}]`, message: `must be > 0, got ${s}` }])),
  ],
  async create(opts, ctx) {
    const stream = await ctx.resolve('stream');
    const channels = stream.featureShape.at(-1) ?? 1;
    if (opts.mean.length !== channels)
      throw new Error(
        `mean and std have ${opts.mean.length} values but the images have ${channels} ` +
          `channel${channels > 1 ? 's' : ''}`,
      );
    const mean = tf.keep(tf.tensor1d(opts.mean));
    const scale = tf.keep(tf.tensor1d(opts.std.map((s) => 1 / s)));
    return {
      name: 'normalize',
      when: 'always' as const,
      apply: (x) => tf.mul(tf.sub(x, mean), scale),
      dispose: () => tf.dispose([mean, scale]),
    };
  },
});
