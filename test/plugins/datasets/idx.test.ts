// The idx dataset plugin: any IDX image and label files the user names, read relative to the experiment, under the
// name the user gives with `label` (`name` selects the plugin).
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeIdxUint8 } from '../../../src/data/idx.js';
import type { PluginContext } from '../../../src/plugin/define-plugin.js';
import { resolveOptions } from '../../../src/plugin/options.js';
import idx from '../../../plugins/datasets/idx.js';
import { scratchDir } from '../../helpers.js';

describe('idx dataset', () => {
  it('reads the files it is given and records the label it is given as the data set name', async () => {
    const dir = scratchDir('idx-plugin');
    const images = encodeIdxUint8([3, 2, 2], Uint8Array.from([0, 255, 51, 102, 1, 2, 3, 4, 5, 6, 7, 8]));
    const labels = encodeIdxUint8([3], Uint8Array.from([0, 2, 1]));
    for (const split of ['train', 'test']) {
      writeFileSync(join(dir, `${split}-images`), images);
      writeFileSync(join(dir, `${split}-labels`), labels);
    }
    const input = {
      trainImages: 'train-images',
      trainLabels: 'train-labels',
      testImages: 'test-images',
      testLabels: 'test-labels',
      label: 'kmnist',
    };
    const { options, problems } = resolveOptions(idx.options, input, 'dataset');
    expect(problems).toEqual([]);
    const ctx = { resolvePath: (p: string) => join(dir, p) } as unknown as PluginContext;
    const data = await idx.create(options, ctx);
    expect(data.name).toBe('kmnist');
    expect([data.train.count, data.numClasses]).toEqual([3, 3]);
    expect(resolveOptions(idx.options, { ...input, label: undefined }, 'dataset').options.label).toBe('idx');
  });
});
