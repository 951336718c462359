import { definePlugin, o, type OptionsInput } from '../../src/plugin-api.js';
import { loadIdxDataset } from './idx-dataset.js';

const options = {
  trainImages: o.string({
    description: 'IDX file of training images (relative to the experiment file; .gz accepted)',
    nonEmpty: true,
  }),
  trainLabels: o.string({ description: 'IDX file of training labels', nonEmpty: true }),
  testImages: o.string({ description: 'IDX file of test images', nonEmpty: true }),
  testLabels: o.string({ description: 'IDX file of test labels', nonEmpty: true }),
  numClasses: o.integer({ description: 'number of classes (0: 1 + the largest label)', default: 0, min: 0 }),
  label: o.string({ description: 'what the results call this data set', default: 'idx' }),
  trainLimit: o.integer({ description: 'use only the first N training examples (0: all)', default: 0, min: 0 }),
  testLimit: o.integer({ description: 'use only the first N test examples (0: all)', default: 0, min: 0 }),
};

declare module '../../src/plugin/kinds.js' {
  interface DatasetPlugins {
    idx: OptionsInput<typeof options>;
  }
}

/** Any data set in MNIST's IDX format that the user names: Fashion-MNIST, KMNIST, EMNIST, … */
export default definePlugin({
  kind: 'dataset',
  name: 'idx',
  description: 'IDX image/label files named by the user (Fashion-MNIST, KMNIST, ...)',
  options,
  create(opts, ctx) {
    return loadIdxDataset({
      name: opts.label,
      trainImages: ctx.resolvePath(opts.trainImages),
      trainLabels: ctx.resolvePath(opts.trainLabels),
      testImages: ctx.resolvePath(opts.testImages),
      testLabels: ctx.resolvePath(opts.testLabels),
      numClasses: opts.numClasses || undefined,
      trainLimit: opts.trainLimit,
      testLimit: opts.testLimit,
    });
  },
});
