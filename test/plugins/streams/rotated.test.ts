// The rotated stream: quarter turns exactly, labels kept, images required.
import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../../src/plugin/options.js';
import rotated, { rotateImages } from '../../../plugins/streams/rotated.js';
import { create, ctxWith } from '../fixture.js';
import { IMAGES } from './fixture.js';

describe('rotated stream', () => {
  it('rotates by quarter turns exactly and keeps labels', async () => {
    const img = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // 90° counter-clockwise: the right column becomes the top row.
    expect(Array.from(rotateImages(img, [3, 3, 1], 90)).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([
      3, 6, 9, 2, 5, 8, 1, 4, 7,
    ]);
    expect(Array.from(rotateImages(img, [3, 3, 1], 180)).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([
      9, 8, 7, 6, 5, 4, 3, 2, 1,
    ]);
    const stream = await create(rotated, { angles: [0, 90] }, ctxWith(IMAGES));
    expect(stream.tasks.map((t) => t.name)).toEqual(['t0:0deg', 't1:90deg']);
    expect(stream.tasks[0].test.features).toEqual(IMAGES.test.features);
    expect(stream.tasks[1].train.labels).toEqual(IMAGES.train.labels);
  });

  it('needs images', async () => {
    const flat = { ...IMAGES, featureShape: [9] };
    const { options } = resolveOptions(rotated.options, {}, 'x');
    await expect(rotated.create(options, ctxWith(flat))).rejects.toThrow(/needs images \[height, width, channels\]/);
  });
});
