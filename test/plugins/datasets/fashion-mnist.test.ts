// Fashion-MNIST from Debian's dataset-fashion-mnist (the real files), or a
// folder of IDX files; missing files say how to get them.
import { featureValues } from '../../../src/contracts/data.js';
import { describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readFileSync, writeFileSync } from 'node:fs';
import plugin, { FASHION_MNIST_DIR } from '../../../plugins/datasets/fashion-mnist.js';
import type { PluginContext } from '../../../src/plugin/define-plugin.js';
import { scratchDir } from '../../helpers.js';

const installed = existsSync(join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'));
const ctx = (base: string) =>
  ({ resolvePath: (p: string) => (p.startsWith('/') ? p : join(base, p)) }) as unknown as PluginContext;
const load = (opts: Partial<{ dir: string; trainLimit: number; testLimit: number }>, base = '/') =>
  plugin.create({ dir: FASHION_MNIST_DIR, trainLimit: 0, testLimit: 0, ...opts }, ctx(base)) as ReturnType<
    typeof plugin.create
  > & {
    train: { count: number; labels: Int32Array; features: Float32Array };
    test: { count: number };
    featureShape: number[];
    numClasses: number;
  };

describe('fashion-mnist', () => {
  it("reads Debian's files: 60,000 + 10,000 images of 28×28, ten balanced classes", (t) => {
    if (!installed)
      t.skip(`${FASHION_MNIST_DIR} is missing (apt-get install dataset-fashion-mnist; .ci/run installs it)`);
    const data = load({});
    expect([data.train.count, data.test.count]).toEqual([60000, 10000]);
    expect(data.featureShape).toEqual([28, 28, 1]);
    expect(data.numClasses).toBe(10);
    const perClass = new Array(10).fill(0);
    for (const l of data.train.labels) perClass[l]++;
    expect(perClass).toEqual(new Array(10).fill(6000));
    // The data set's first training image is an ankle boot (class 9), kept as bytes, its values in [0, 1].
    expect(data.train.labels[0]).toBe(9);
    expect(data.train.features).toBeInstanceOf(Uint8Array);
    const first = featureValues(data.train.features.subarray(0, 784));
    expect(Math.max(...first)).toBeLessThanOrEqual(1);
    expect(Math.min(...first)).toBeGreaterThanOrEqual(0);
  });

  it('reads a folder of uncompressed IDX files given as `dir`, relative to the experiment', (t) => {
    if (!installed)
      t.skip(`${FASHION_MNIST_DIR} is missing (apt-get install dataset-fashion-mnist; .ci/run installs it)`);
    const base = scratchDir('fashion');
    mkdirSync(join(base, 'fm'));
    for (const f of [
      'train-images-idx3-ubyte',
      'train-labels-idx1-ubyte',
      't10k-images-idx3-ubyte',
      't10k-labels-idx1-ubyte',
    ]) {
      writeFileSync(join(base, 'fm', f), gunzipSync(readFileSync(join(FASHION_MNIST_DIR, `${f}.gz`))));
    }
    const a = load({ dir: 'fm', trainLimit: 100, testLimit: 50 }, base);
    const b = load({ trainLimit: 100, testLimit: 50 });
    expect([a.train.count, a.test.count]).toEqual([100, 50]);
    expect(Array.from(a.train.labels)).toEqual(Array.from(b.train.labels));
    expect(a.train.features).toEqual(b.train.features);
  });

  it('missing files: an error naming them and how to get them', () => {
    const base = scratchDir('fashion-missing');
    mkdirSync(join(base, 'partial'));
    if (installed)
      copyFileSync(
        join(FASHION_MNIST_DIR, 'train-labels-idx1-ubyte.gz'),
        join(base, 'partial', 'train-labels-idx1-ubyte.gz'),
      );
    expect(() => load({ dir: 'partial' }, base)).toThrow(
      `fashion-mnist: train-images-idx3-ubyte(.gz), ` +
        `${installed ? '' : 'train-labels-idx1-ubyte(.gz), '}t10k-images-idx3-ubyte(.gz), ` +
        `t10k-labels-idx1-ubyte(.gz) not found in ${join(base, 'partial')}; install Debian's package (apt-get ` +
        `install dataset-fashion-mnist) or give \`dir\` with the four IDX files`,
    );
  });
});
