// The CIFAR-10 and CIFAR-100 "binary version" files (Krizhevsky, 2009), as
// distributed: fixed-size records of label byte(s) then 3072 pixel bytes, the
// red, green and blue 32×32 planes one after another, rows top to bottom.
// Examples come out as [32, 32, 3] (height, width, channel), bytes standing
// for byte / 255 (`FeatureArray`).
import { existsSync, readFileSync } from 'node:fs';
import type { Examples } from '../contracts/data.js';

export const CIFAR_PIXELS = 32 * 32 * 3;
export const CIFAR_SHAPE = [32, 32, 3] as const;

export class CifarFormatError extends Error {}

/**
 * Reads CIFAR binary files. `labelBytes`: 1 (CIFAR-10) or 2 (CIFAR-100:
 * coarse, then fine); `labelIndex` picks which label byte is the class.
 */
export function readCifarFiles(
  paths: readonly string[],
  opts: { labelBytes: 1 | 2; labelIndex: 0 | 1; classes: number; expected?: number },
): Examples {
  const record = opts.labelBytes + CIFAR_PIXELS;
  const buffers = paths.map((path) => {
    if (!existsSync(path)) throw new CifarFormatError(`${path} not found`);
    const data = readFileSync(path);
    if (data.byteLength === 0 || data.byteLength % record !== 0) {
      throw new CifarFormatError(
        `${path}: ${data.byteLength} bytes is not a whole number of ${record}-byte records (truncated, or not ` +
          `the binary version of CIFAR-${opts.classes === 10 ? '10' : '100'})`,
      );
    }
    return { path, data };
  });
  const count = buffers.reduce((a, b) => a + b.data.byteLength / record, 0);
  if (opts.expected !== undefined && count !== opts.expected)
    throw new CifarFormatError(`${paths.join(', ')}: ${count} images, expected ${opts.expected}`);
  // Bytes, each standing for byte / 255 (see `FeatureArray`): 50,000 images take 154 MB, not 614.
  const features = new Uint8Array(count * CIFAR_PIXELS);
  const labels = new Int32Array(count);
  let n = 0;
  for (const { path, data } of buffers) {
    for (let at = 0; at < data.byteLength; at += record, n++) {
      const label = data[at + opts.labelIndex];
      if (label >= opts.classes)
        throw new CifarFormatError(
          `${path}: image ${at / record} has label ${label}; CIFAR-${opts.classes} labels are 0–${opts.classes - 1}`,
        );
      labels[n] = label;
      const pixels = at + opts.labelBytes;
      const out = n * CIFAR_PIXELS;
      // Planes (channel, row, column) to interleaved (row, column, channel).
      for (let c = 0; c < 3; c++) {
        const plane = pixels + c * 1024;
        for (let p = 0; p < 1024; p++) features[out + p * 3 + c] = data[plane + p];
      }
    }
  }
  return { features, labels, count };
}
