// random-crop on the backend: each image shifted by the offsets drawn on the host (seeded), zero-padded.
import { beforeAll, describe, expect, it } from 'vitest';
import randomCrop from '../../../plugins/augmentations/random-crop.js';
import { selectBackend } from '../../../src/tensor/backend.js';
import { tf } from '../../../src/tensor/tf.js';
import { Rng } from '../../../src/tensor/rng.js';
import type { PluginContext } from '../../../src/plugin/define-plugin.js';
import { images } from './images.js';

beforeAll(async () => {
  await selectBackend('auto');
});

/** A run of images [6, 7, 2] in batches of 8. */
const ctx = {
  problem: async () => ({ featureShape: [6, 7, 2], outputs: 2, batchSize: 8 }),
} as unknown as PluginContext;

describe('random-crop', () => {
  it('random-crop shifts each image by the offsets drawn on the host, with zero padding', async () => {
    const [n, h, w, c, p] = [5, 6, 7, 2, 2];
    const aug = await randomCrop.create({ padding: p }, ctx);
    aug.planTask!(3, 8, new Rng(42));
    const host = images(n, h, w, c);
    const out = tf.tidy(() => aug.apply(tf.tensor4d(host), 2)).arraySync();
    // The same draws on the host: [steps, rows, (dy, dx)], step 2 is the second block.
    const rng = new Rng(42);
    const offsets = Array.from({ length: 3 * 8 * 2 }, () => rng.int(2 * p + 1));
    for (let i = 0; i < n; i++) {
      const [dy, dx] = [offsets[(8 + i) * 2], offsets[(8 + i) * 2 + 1]];
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          for (let ch = 0; ch < c; ch++) {
            const [sy, sx] = [y + dy - p, x + dx - p];
            const want = sy >= 0 && sy < h && sx >= 0 && sx < w ? host[i][sy][sx][ch] : 0;
            expect(out[i][y][x][ch]).toBe(want);
          }
    }
    aug.dispose!();
  });
});
