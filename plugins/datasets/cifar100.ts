// CIFAR-100 from the official binary files in a folder the user names (e.g.
// ./data/cifar-100-binary): train.bin and test.bin, each image with its coarse
// (20 superclasses) and fine (100 classes) label. Nothing is downloaded.
import { CIFAR_SHAPE, definePlugin, o, type OptionsInput, readCifarFiles } from '../../src/plugin-api.js';
import { join } from 'node:path';
import { firstN } from './idx-dataset.js';

const options = {
  dir: o.string({
    description: 'folder of the binary version (cifar-100-binary): train.bin, test.bin',
    nonEmpty: true,
  }),
  labels: o.enum(['fine', 'coarse'], {
    description: "'fine': the 100 classes; 'coarse': the 20 superclasses",
    default: 'fine',
  }),
  trainLimit: o.integer({ description: 'use only the first N training images (0: all 50,000)', default: 0, min: 0 }),
  testLimit: o.integer({ description: 'use only the first N test images (0: all 10,000)', default: 0, min: 0 }),
};

declare module '../../src/plugin/kinds.js' {
  interface DatasetPlugins {
    cifar100: OptionsInput<typeof options>;
  }
}

export default definePlugin({
  kind: 'dataset',
  name: 'cifar100',
  description:
    'CIFAR-100 (50k train / 10k test, 32x32x3; 100 fine or 20 coarse classes) from the official binary files in `dir`',
  options,
  create(opts, ctx) {
    const dir = ctx.resolvePath(opts.dir);
    const classes = opts.labels === 'fine' ? 100 : 20;
    const read = (file: string) =>
      readCifarFiles([join(dir, file)], { labelBytes: 2, labelIndex: opts.labels === 'fine' ? 1 : 0, classes });
    return {
      name: 'cifar100',
      featureShape: [...CIFAR_SHAPE],
      numClasses: classes,
      train: firstN(read('train.bin'), opts.trainLimit),
      test: firstN(read('test.bin'), opts.testLimit),
    };
  },
});
