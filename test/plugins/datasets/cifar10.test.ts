// CIFAR-10 from files the test writes in exactly the official binary layout (a label byte, then the red, green and
// blue 32×32 planes): sizes, pixel order, and damaged files.
import { featureAt } from '../../../src/contracts/data.js';
import { describe, expect, it } from 'vitest';
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cifar10 from '../../../plugins/datasets/cifar10.js';
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

function writeCifar10(dir: string, perBatch: number, testCount: number): void {
  mkdirSync(dir, { recursive: true });
  let image = 0;
  for (let b = 1; b <= 5; b++)
    writeFileSync(
      join(dir, `data_batch_${b}.bin`),
      Buffer.concat(Array.from({ length: perBatch }, () => record([image % 10], image++))),
    );
  writeFileSync(
    join(dir, 'test_batch.bin'),
    Buffer.concat(Array.from({ length: testCount }, (_, i) => record([(i * 3) % 10], 1000 + i))),
  );
}

const ctx = (base: string) => ({ resolvePath: (p: string) => join(base, p) }) as unknown as PluginContext;
const pixel = (d: Dataset['train'], i: number, y: number, x: number, c: number) =>
  featureAt(d.features, i * 3072 + (y * 32 + x) * 3 + c);

describe('cifar10', () => {
  it('reads the five training batches in order and the test batch, as [32, 32, 3] in [0, 1]', () => {
    const base = scratchDir('cifar10');
    writeCifar10(join(base, 'cifar-10-batches-bin'), 4, 6);
    const data = cifar10.create({ dir: 'cifar-10-batches-bin', trainLimit: 0, testLimit: 0 }, ctx(base)) as Dataset;
    expect([data.train.count, data.test.count]).toEqual([20, 6]);
    expect(data.featureShape).toEqual([32, 32, 3]);
    expect(data.classNames?.[3]).toBe('cat');
    expect(Array.from(data.train.labels)).toEqual(Array.from({ length: 20 }, (_, i) => i % 10));
    expect(Array.from(data.test.labels)).toEqual([0, 3, 6, 9, 2, 5]);
    // Image 13 (batch 4, second record), row 5, column 9, blue: (7·2 + 3·5 + 9 + 13) / 255.
    expect(pixel(data.train, 13, 5, 9, 2)).toBeCloseTo((14 + 15 + 9 + 13) / 255, 7);
    expect(pixel(data.train, 0, 31, 31, 0)).toBeCloseTo((93 + 31) / 255, 7);
    expect(pixel(data.test, 2, 0, 1, 1)).toBeCloseTo(((7 + 1 + 1002) % 256) / 255, 7);
    const limited = cifar10.create({ dir: 'cifar-10-batches-bin', trainLimit: 7, testLimit: 2 }, ctx(base)) as Dataset;
    expect([limited.train.count, limited.test.count]).toEqual([7, 2]);
  });

  it('a truncated file, a missing batch or a label out of range is an error naming the file', () => {
    const base = scratchDir('cifar10-bad');
    const dir = join(base, 'c');
    writeCifar10(dir, 2, 2);
    truncateSync(join(dir, 'data_batch_3.bin'), 3073 + 100);
    expect(() => cifar10.create({ dir: 'c', trainLimit: 0, testLimit: 0 }, ctx(base))).toThrow(
      `${join(dir, 'data_batch_3.bin')}: 3173 bytes is not a whole number of 3073-byte records (truncated, or ` +
        `not the binary version of CIFAR-10)`,
    );
    writeCifar10(dir, 2, 2);
    writeFileSync(join(dir, 'test_batch.bin'), record([10], 0));
    expect(() => cifar10.create({ dir: 'c', trainLimit: 0, testLimit: 0 }, ctx(base))).toThrow(
      `${join(dir, 'test_batch.bin')}: image 0 has label 10; CIFAR-10 labels are 0–9`,
    );
    expect(() => cifar10.create({ dir: 'nowhere', trainLimit: 0, testLimit: 0 }, ctx(base))).toThrow(
      `${join(base, 'nowhere', 'data_batch_1.bin')} not found`,
    );
  });
});
