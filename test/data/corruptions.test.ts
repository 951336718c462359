import { describe, expect, it } from 'vitest';
import { CORRUPTIONS, corrupt, oodSetName } from '../../src/data/corruptions.js';
import { Rng } from '../../src/tensor/rng.js';

const rng = new Rng(2);
const images = Float32Array.from({ length: 3 * 8 * 8 }, () => rng.next());
const shape = [8, 8, 1];

describe('OOD corruptions', () => {
  it('names sets ood:<corruption>-<severity>', () => {
    expect(oodSetName({ corruption: 'gaussian-noise', severity: 3 })).toBe('ood:gaussian-noise-3');
  });

  it.each(CORRUPTIONS)(
    '%s stays in [0, 1], changes the images, more at higher severity, deterministically',
    (corruption) => {
      const dist = (a: Float32Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - images[i]) ** 2, 0));
      const mild = corrupt(images, shape, { corruption, severity: 1 });
      const severe = corrupt(images, shape, { corruption, severity: 5 });
      for (const v of severe) expect(v >= -1e-6 && v <= 1 + 1e-6).toBe(true);
      expect(dist(mild)).toBeGreaterThan(0);
      expect(dist(severe)).toBeGreaterThan(dist(mild));
      expect(corrupt(images, shape, { corruption, severity: 5 })).toEqual(severe);
    },
  );

  it('inversion at severity 5 is 1 − x; contrast keeps each image mean', () => {
    const inv = corrupt(images, shape, { corruption: 'inversion', severity: 5 });
    inv.forEach((v, i) => expect(v).toBeCloseTo(1 - images[i], 6));
    const low = corrupt(images, shape, { corruption: 'contrast', severity: 3 });
    const mean = (a: Float32Array, e: number) => a.subarray(e * 64, (e + 1) * 64).reduce((s, v) => s + v, 0) / 64;
    for (const e of [0, 1, 2]) expect(mean(low, e)).toBeCloseTo(mean(images, e), 5);
  });

  it('blur and rotation need images', () => {
    expect(() => corrupt(images, [192], { corruption: 'blur', severity: 1 })).toThrow(/blur needs images/);
    expect(() => corrupt(images, [192], { corruption: 'rotation', severity: 1 })).toThrow(/rotation needs images/);
  });
});
