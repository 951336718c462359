import { definePlugin, o, type OptionsInput, rotateImages } from '../../src/plugin-api.js';
import { transformedStream } from './transformed.js';
import { featureValues, type FeatureArray } from '../../src/contracts/data.js';

export { rotateImages };

const options = {
  angles: o.numbers({
    description: 'rotation of each task in degrees (counter-clockwise)',
    default: [0, 45, 90, 135, 180],
    minLength: 1,
  }),
};

declare module '../../src/plugin/kinds.js' {
  interface StreamPlugins {
    rotated: OptionsInput<typeof options>;
  }
}

/** Rotated MNIST and the like: each task is the whole data set rotated by its angle. */
export default definePlugin({
  kind: 'stream',
  name: 'rotated',
  description: 'N tasks, each the data set rotated by a given angle (Rotated MNIST)',
  options,
  async create(opts, ctx) {
    const data = await ctx.resolve('dataset');
    if (data.featureShape.length !== 3)
      throw new Error(
        `rotated needs images [height, width, channels]; ${data.name} has examples of shape [${data.featureShape}]`,
      );
    const transforms = opts.angles.map((angle) => ({
      label: `${angle}deg`,
      transform: (features: FeatureArray) =>
        angle % 360 === 0 ? features : rotateImages(featureValues(features), data.featureShape, angle),
    }));
    return transformedStream(`rotated-${data.name}`, data, transforms);
  },
});
