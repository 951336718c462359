import { definePlugin } from '../../src/plugin/define-plugin.js';
import { o, type OptionsInput } from '../../src/plugin/options.js';
import { transformedStream } from './transformed.js';

const options = {
  angles: o.numbers({ description: 'rotation of each task in degrees (counter-clockwise)', default: [0, 45, 90, 135, 180], minLength: 1 }),
};

declare module '../../src/plugin/kinds.js' {
  interface StreamPlugins {
    rotated: OptionsInput<typeof options>;
  }
}

/**
 * Bilinear rotation about the image centre, zeros outside: `features` hold
 * images [h, w, c] one after another.
 */
export function rotateImages(features: Float32Array, [h, w, c]: readonly number[], degrees: number): Float32Array {
  const out = new Float32Array(features.length);
  const size = h * w * c;
  const t = (degrees * Math.PI) / 180;
  const [cos, sin] = [Math.cos(t), Math.sin(t)];
  const [cy, cx] = [(h - 1) / 2, (w - 1) / 2];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // Inverse map: where in the source does output pixel (y, x) come from?
      const dx = x - cx;
      const dy = y - cy;
      const sx = cos * dx - sin * dy + cx;
      const sy = sin * dx + cos * dy + cy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const taps: [number, number, number][] = [
        [y0, x0, (1 - fy) * (1 - fx)],
        [y0, x0 + 1, (1 - fy) * fx],
        [y0 + 1, x0, fy * (1 - fx)],
        [y0 + 1, x0 + 1, fy * fx],
      ];
      for (let e = 0; e < features.length; e += size) {
        for (let ch = 0; ch < c; ch++) {
          let v = 0;
          for (const [ty, tx, wgt] of taps) {
            if (wgt === 0 || ty < 0 || tx < 0 || ty >= h || tx >= w) continue;
            v += wgt * features[e + (ty * w + tx) * c + ch];
          }
          out[e + (y * w + x) * c + ch] = v;
        }
      }
    }
  }
  return out;
}

/** Rotated MNIST and the like: each task is the whole data set rotated by its angle. */
export default definePlugin({
  kind: 'stream',
  name: 'rotated',
  description: 'N tasks, each the data set rotated by a given angle (Rotated MNIST)',
  options,
  async create(opts, ctx) {
    const data = await ctx.resolve('dataset');
    if (data.featureShape.length !== 3) throw new Error(`rotated needs images [height, width, channels]; ${data.name} has examples of shape [${data.featureShape}]`);
    const transforms = opts.angles.map((angle) => ({
      label: `${angle}deg`,
      transform: (features: Float32Array) => (angle % 360 === 0 ? features : rotateImages(features, data.featureShape, angle)),
    }));
    return transformedStream(`rotated-${data.name}`, data, transforms);
  },
});
