import { definePlugin, o, type OptionsInput, Rng } from '../../src/plugin-api.js';
import type { Examples } from '../../src/contracts/data.js';

const options = {
  classes: o.integer({ description: 'number of classes', default: 4, min: 2 }),
  features: o.integer({ description: 'features per example', default: 16, min: 1 }),
  trainPerClass: o.integer({ description: 'training examples per class', default: 64, min: 1 }),
  testPerClass: o.integer({ description: 'test examples per class', default: 32, min: 1 }),
  separation: o.number({ description: 'distance of class centres in units of the noise', default: 3, min: 0 }),
  imageShape: o.numbers({
    description: 'present each example as an image of this shape, e.g. [8, 8, 1] (product = features)',
    default: [],
    integer: true,
    min: 1,
  }),
  dataSeed: o.integer({ description: 'seed of the data itself (fixed across run seeds)', default: 1234 }),
};

declare module '../../src/plugin/kinds.js' {
  interface DatasetPlugins {
    synthetic: OptionsInput<typeof options>;
  }
}

/**
 * Gaussian class blobs squashed into [0, 1]: a data set of any size in
 * milliseconds, for tests, smoke runs and examples of plugin options.
 */
export default definePlugin({
  kind: 'dataset',
  name: 'synthetic',
  description: 'Gaussian blobs, one per class (for tests and smoke runs)',
  options,
  validate: (opts) =>
    opts.imageShape.length && opts.imageShape.reduce((a, b) => a * b, 1) !== opts.features
      ? [{ path: 'imageShape', message: `must hold the ${opts.features} features, got [${opts.imageShape}]` }]
      : [],
  create(opts) {
    const rng = new Rng(opts.dataSeed);
    const centres = Array.from({ length: opts.classes }, () =>
      Array.from({ length: opts.features }, () => rng.normal()),
    );
    const make = (perClass: number): Examples => {
      const count = perClass * opts.classes;
      const features = new Float32Array(count * opts.features);
      const labels = new Int32Array(count);
      const order = rng.permutation(count);
      for (let i = 0; i < count; i++) {
        const label = order[i] % opts.classes;
        labels[i] = label;
        for (let f = 0; f < opts.features; f++) {
          const z = (centres[label][f] * opts.separation) / 2 + rng.normal();
          features[i * opts.features + f] = 1 / (1 + Math.exp(-z / 2));
        }
      }
      return { features, labels, count };
    };
    return {
      name: 'synthetic',
      featureShape: opts.imageShape.length ? opts.imageShape : [opts.features],
      numClasses: opts.classes,
      train: make(opts.trainPerClass),
      test: make(opts.testPerClass),
    };
  },
});
