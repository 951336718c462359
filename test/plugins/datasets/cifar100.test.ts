// CIFAR-100 from files the test writes in the official binary layout: two label bytes (coarse, fine) per record.
import { featureAt } from '../../../src/contracts/data.js';
import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cifar100 from '../../../plugins/datasets/cifar100.js';
import type { PluginContext } from '../../../src/plugin/define-plugin.js';
import type { Dataset } from '../../../src/contracts/data.js';
import { scratchDir } from '../../helpers.js';

/** A record: label bytes, then pixel (c, y, x) = (7c + 3y + x + image) mod 256. */
function record(labels: number[], image: number): Buffer {
  const pixels = Buffer.alloc(3072);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 32; x++) pixels[c * 1024 + y * 32 + x] = (7 * c + 3 * y + x + image) % 256;
  return Buffer.concat([Buffer.from(labels), pixels]);
}

const ctx = (base: string) => ({ resolvePath: (p: string) => join(base, p) }) as unknown as PluginContext;
const pixel = (d: Dataset['train'], i: number, y: number, x: number, c: number) =>
  featureAt(d.features, i * 3072 + (y * 32 + x) * 3 + c);

describe('cifar100', () => {
  it('reads coarse and fine labels from two-label records; fine by default', () => {
    const base = scratchDir('cifar100');
    const dir = join(base, 'cifar-100-binary');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'train.bin'),
      Buffer.concat(Array.from({ length: 5 }, (_, i) => record([i % 20, (i * 17) % 100], i))),
    );
    writeFileSync(
      join(dir, 'test.bin'),
      Buffer.concat(Array.from({ length: 3 }, (_, i) => record([19 - i, 99 - i], 50 + i))),
    );
    const fine = cifar100.create(
      { dir: 'cifar-100-binary', labels: 'fine', trainLimit: 0, testLimit: 0 },
      ctx(base),
    ) as Dataset;
    const coarse = cifar100.create(
      { dir: 'cifar-100-binary', labels: 'coarse', trainLimit: 0, testLimit: 0 },
      ctx(base),
    ) as Dataset;
    expect([fine.numClasses, coarse.numClasses]).toEqual([100, 20]);
    expect(Array.from(fine.train.labels)).toEqual([0, 17, 34, 51, 68]);
    expect(Array.from(coarse.train.labels)).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(fine.test.labels)).toEqual([99, 98, 97]);
    expect(Array.from(coarse.test.labels)).toEqual([19, 18, 17]);
    // Two label bytes before the pixels: the planes are read from the right offset.
    expect(pixel(fine.train, 4, 2, 3, 1)).toBeCloseTo((7 + 6 + 3 + 4) / 255, 7);
    expect(fine.train.features).toEqual(coarse.train.features);
    // A CIFAR-10 file is not a CIFAR-100 file: its records are one byte shorter.
    writeFileSync(join(dir, 'test.bin'), Buffer.concat([record([1], 0), record([2], 1)]));
    expect(() =>
      cifar100.create({ dir: 'cifar-100-binary', labels: 'fine', trainLimit: 0, testLimit: 0 }, ctx(base)),
    ).toThrow('6146 bytes is not a whole number of 3074-byte records');
  });
});
