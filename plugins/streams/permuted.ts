import { definePlugin, o, type OptionsInput } from '../../src/plugin-api.js';
import { allocFeatures, featureSize, type FeatureArray } from '../../src/contracts/data.js';
import { transformedStream } from './transformed.js';

const options = {
  tasks: o.integer({ description: 'number of tasks', default: 10, min: 1 }),
  permuteFirst: o.boolean({
    description: 'permute the first task too (default: task 0 is the original data)',
    default: false,
  }),
};

declare module '../../src/plugin/kinds.js' {
  interface StreamPlugins {
    permuted: OptionsInput<typeof options>;
  }
}

/** Permuted MNIST and the like: each task is the whole data set under its own seeded, fixed pixel permutation. */
export default definePlugin({
  kind: 'stream',
  name: 'permuted',
  description: 'N tasks, each the data set under a seeded fixed permutation of its features (Permuted MNIST)',
  options,
  async create(opts, ctx) {
    const data = await ctx.resolve('dataset');
    const size = featureSize(data.featureShape);
    const transforms = Array.from({ length: opts.tasks }, (_, k) => {
      if (k === 0 && !opts.permuteFirst) return { label: 'identity', transform: (f: FeatureArray) => f };
      const perm = ctx.rng(`permutation:${k}`).permutation(size);
      return {
        label: `perm${k}`,
        // A permutation moves entries: bytes stay bytes.
        transform: (features: FeatureArray, n: number) => {
          const out = allocFeatures(features, features.length);
          for (let e = 0; e < features.length; e += n) for (let i = 0; i < n; i++) out[e + i] = features[e + perm[i]];
          return out;
        },
      };
    });
    return transformedStream(`permuted-${data.name}`, data, transforms);
  },
});
