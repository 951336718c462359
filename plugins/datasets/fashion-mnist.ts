// Fashion-MNIST (Xiao et al., 2017): 28×28 grey images of ten kinds of
// clothing, the same IDX format and sizes as MNIST, and a harder problem. Read
// from Debian's `dataset-fashion-mnist` package (its standard location) or a
// folder the user names; nothing is downloaded.
import { definePlugin, o, type OptionsInput } from '../../src/plugin-api.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadIdxDataset } from './idx-dataset.js';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
const FILES = [
  'train-images-idx3-ubyte',
  'train-labels-idx1-ubyte',
  't10k-images-idx3-ubyte',
  't10k-labels-idx1-ubyte',
] as const;

const options = {
  dir: o.string({
    description:
      `folder of the four IDX files, gzipped or not (default: Debian's dataset-fashion-mnist, ` +
      `${FASHION_MNIST_DIR})`,
    default: FASHION_MNIST_DIR,
    nonEmpty: true,
  }),
  trainLimit: o.integer({ description: 'use only the first N training images (0: all 60,000)', default: 0, min: 0 }),
  testLimit: o.integer({ description: 'use only the first N test images (0: all 10,000)', default: 0, min: 0 }),
};

declare module '../../src/plugin/kinds.js' {
  interface DatasetPlugins {
    'fashion-mnist': OptionsInput<typeof options>;
  }
}

/** The file of `name` in `dir`: as it is, or gzipped as Debian ships it. */
function find(dir: string, name: string): string | undefined {
  return [join(dir, name), join(dir, `${name}.gz`)].find((p) => existsSync(p));
}

export default definePlugin({
  kind: 'dataset',
  name: 'fashion-mnist',
  description:
    "Fashion-MNIST (60k train / 10k test, 28x28, 10 kinds of clothing) from Debian's dataset-fashion-mnist or a folder",
  options,
  create(opts, ctx) {
    const dir = opts.dir === FASHION_MNIST_DIR ? FASHION_MNIST_DIR : ctx.resolvePath(opts.dir);
    const paths = FILES.map((f) => find(dir, f));
    const missing = FILES.filter((_, i) => !paths[i]);
    if (missing.length) {
      throw new Error(
        `fashion-mnist: ${missing.map((f) => `${f}(.gz)`).join(', ')} not found in ${dir}; install Debian's ` +
          `package (apt-get install dataset-fashion-mnist) or give \`dir\` with the four IDX files`,
      );
    }
    const [trainImages, trainLabels, testImages, testLabels] = paths as string[];
    return loadIdxDataset({
      name: 'fashion-mnist',
      trainImages,
      trainLabels,
      testImages,
      testLabels,
      numClasses: 10,
      trainLimit: opts.trainLimit,
      testLimit: opts.testLimit,
    });
  },
});
