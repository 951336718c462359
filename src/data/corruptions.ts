// Distribution shifts applied to test images (values in [0, 1]), each at a
// severity from 1 to 5, for out-of-distribution evaluation sets
// (`eval_set = 'ood:<corruption>-<severity>'`). Noise is seeded by the
// corruption's name, so every run sees the same corrupted images.
import { Rng, hashString } from '../tensor/rng.js';
import { blurImages, rotateImages } from './images.js';

import type { OodSpec } from '../contracts/run-config.js';

export { CORRUPTIONS, type Corruption, type OodSpec } from '../contracts/run-config.js';

const NOISE_SIGMA = [0.08, 0.12, 0.18, 0.26, 0.38];
const BLUR_SIGMA = [0.5, 0.75, 1, 1.5, 2];
const CONTRAST = [0.4, 0.3, 0.2, 0.1, 0.05];
const ROTATION_DEG = [15, 30, 45, 60, 75];
const INVERSION = [0.2, 0.4, 0.6, 0.8, 1];

export function oodSetName(spec: OodSpec): string {
  return `ood:${spec.corruption}-${spec.severity}`;
}

const clip = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

export function corrupt(features: Float32Array, shape: readonly number[], spec: OodSpec): Float32Array {
  const s = spec.severity - 1;
  const size = shape.reduce((a, b) => a * b, 1);
  switch (spec.corruption) {
    case 'gaussian-noise': {
      const rng = new Rng(hashString(oodSetName(spec)));
      return features.map((v) => clip(v + NOISE_SIGMA[s] * rng.normal()));
    }
    case 'blur':
      if (shape.length !== 3) throw new Error('blur needs images [height, width, channels]');
      return blurImages(features, shape, BLUR_SIGMA[s]);
    case 'contrast': {
      const out = new Float32Array(features.length);
      for (let e = 0; e < features.length; e += size) {
        let mean = 0;
        for (let i = 0; i < size; i++) mean += features[e + i];
        mean /= size;
        for (let i = 0; i < size; i++) out[e + i] = clip((features[e + i] - mean) * CONTRAST[s] + mean);
      }
      return out;
    }
    case 'rotation':
      if (shape.length !== 3) throw new Error('rotation needs images [height, width, channels]');
      return rotateImages(features, shape, ROTATION_DEG[s]);
    case 'inversion':
      return features.map((v) => (1 - INVERSION[s]) * v + INVERSION[s] * (1 - v));
  }
}
