// horizontal-flip on the backend: exactly the images whose coin (drawn on the host, seeded) came up are mirrored.
import { beforeAll, describe, expect, it } from 'vitest';
import horizontalFlip from '../../../plugins/augmentations/horizontal-flip.js';
import { selectBackend } from '../../../src/tensor/backend.js';
import { tf } from '../../../src/tensor/tf.js';
import { Rng } from '../../../src/tensor/rng.js';
import type { PluginContext } from '../../../src/plugin/define-plugin.js';
import { images } from './images.js';

beforeAll(async () => {
  await selectBackend('auto');
});

const noCtx = {} as PluginContext;

describe('horizontal-flip', () => {
  it('horizontal-flip mirrors exactly the images whose coin came up, p = 0 and p = 1 included', async () => {
    const host = images(6, 3, 4, 1);
    for (const prob of [0, 0.5, 1]) {
      const aug = await horizontalFlip.create({ p: prob }, noCtx);
      aug.planTask!(1, 6, new Rng(7));
      const rng = new Rng(7);
      const coins = Array.from({ length: 6 }, () => rng.next() < prob);
      const out = tf.tidy(() => aug.apply(tf.tensor4d(host), 1)).arraySync();
      for (let i = 0; i < 6; i++) expect(out[i]).toEqual(coins[i] ? host[i].map((row) => [...row].reverse()) : host[i]);
      if (prob === 0.5) expect(coins.some(Boolean) && !coins.every(Boolean)).toBe(true);
      aug.dispose!();
    }
  });
});
