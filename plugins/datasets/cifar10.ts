// CIFAR-10 from the official binary files in a folder the user names (e.g.
// ./data/cifar-10-batches-bin): data_batch_1.bin … data_batch_5.bin and
// test_batch.bin. Nothing is downloaded.
import { CIFAR_SHAPE, definePlugin, o, type OptionsInput, readCifarFiles } from '../../src/plugin-api.js';
import { join } from 'node:path';
import { firstN } from './idx-dataset.js';

export const CIFAR10_CLASSES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
] as const;

const options = {
  dir: o.string({
    description: 'folder of the binary version (cifar-10-batches-bin): data_batch_1..5.bin, test_batch.bin',
    nonEmpty: true,
  }),
  trainLimit: o.integer({ description: 'use only the first N training images (0: all 50,000)', default: 0, min: 0 }),
  testLimit: o.integer({ description: 'use only the first N test images (0: all 10,000)', default: 0, min: 0 }),
};

declare module '../../src/plugin/kinds.js' {
  interface DatasetPlugins {
    cifar10: OptionsInput<typeof options>;
  }
}

export default definePlugin({
  kind: 'dataset',
  name: 'cifar10',
  description: 'CIFAR-10 (50k train / 10k test, 32x32x3, 10 classes) from the official binary files in `dir`',
  options,
  create(opts, ctx) {
    const dir = ctx.resolvePath(opts.dir);
    const train = readCifarFiles(
      [1, 2, 3, 4, 5].map((i) => join(dir, `data_batch_${i}.bin`)),
      { labelBytes: 1, labelIndex: 0, classes: 10 },
    );
    const test = readCifarFiles([join(dir, 'test_batch.bin')], { labelBytes: 1, labelIndex: 0, classes: 10 });
    return {
      name: 'cifar10',
      featureShape: [...CIFAR_SHAPE],
      numClasses: 10,
      classNames: CIFAR10_CLASSES,
      train: firstN(train, opts.trainLimit),
      test: firstN(test, opts.testLimit),
    };
  },
});
