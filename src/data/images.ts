// Image transforms on flattened images [h, w, c], one after another in a Float32Array.

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

/** Separable Gaussian blur with standard deviation `sigma` pixels (edges clamped). */
export function blurImages(features: Float32Array, [h, w, c]: readonly number[], sigma: number): Float32Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const kernel = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const total = kernel.reduce((a, b) => a + b, 0);
  const k = kernel.map((v) => v / total);
  const size = h * w * c;
  const tmp = new Float32Array(size);
  const out = new Float32Array(features.length);
  const clamp = (v: number, n: number) => Math.min(n - 1, Math.max(0, v));
  for (let e = 0; e < features.length; e += size) {
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let ch = 0; ch < c; ch++) {
          let v = 0;
          for (let i = -radius; i <= radius; i++) v += k[i + radius] * features[e + (y * w + clamp(x + i, w)) * c + ch];
          tmp[(y * w + x) * c + ch] = v;
        }
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let ch = 0; ch < c; ch++) {
          let v = 0;
          for (let i = -radius; i <= radius; i++) v += k[i + radius] * tmp[(clamp(y + i, h) * w + x) * c + ch];
          out[e + (y * w + x) * c + ch] = v;
        }
  }
  return out;
}
