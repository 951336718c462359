import {
  definePlugin,
  describeLayers,
  initParams,
  layerModel,
  type LayerSpec,
  o,
  type OptionsInput,
} from '../../src/plugin-api.js';

const options = {
  channels: o.numbers({
    description: 'output channels of each 3×3 convolution (each followed by ReLU and 2×2 max-pooling)',
    default: [16, 32],
    integer: true,
    min: 1,
    minLength: 1,
  }),
  hidden: o.integer({ description: 'width of the dense layer before the head (0: none)', default: 128, min: 0 }),
  dropout: {
    ...o.number({
      description: 'dropout rate before the head, in training only (0: none)',
      default: 0,
      min: 0,
      max: 1,
      exclusiveMax: true,
    }),
    omitAtDefault: true,
  },
};

declare module '../../src/plugin/kinds.js' {
  interface ModelPlugins {
    cnn: OptionsInput<typeof options>;
  }
}

/**
 * A small convolutional network for images [h, w, c]: conv1, conv2, … (3×3,
 * same padding, ReLU, 2×2 max-pool), then fc1 (ReLU) and the output layer
 * `head`. Kernels use tfjs's layouts ([3, 3, in, out] and [in, out]).
 */
export default definePlugin({
  kind: 'model',
  name: 'cnn',
  description: 'small convolutional network: 3×3 conv + ReLU + 2×2 max-pool blocks, a dense layer, head',
  options,
  async create(opts, ctx) {
    const problem = await ctx.problem();
    if (problem.featureShape.length !== 3)
      throw new Error(`cnn needs images [height, width, channels], got examples of shape [${problem.featureShape}]`);
    const layers: LayerSpec[] = [
      ...opts.channels.flatMap((filters, i): LayerSpec[] => [
        {
          type: 'conv2d',
          name: `conv${i + 1}`,
          filters,
          kernelSize: [3, 3],
          strides: [1, 1],
          padding: 'same',
          activation: 'relu',
          useBias: true,
        },
        { type: 'maxpool', name: `pool${i + 1}`, poolSize: [2, 2], strides: [2, 2], padding: 'same' },
      ]),
      { type: 'flatten', name: 'flatten' },
      ...(opts.hidden > 0
        ? [{ type: 'dense', name: 'fc1', units: opts.hidden, activation: 'relu', useBias: true } as LayerSpec]
        : []),
      ...(opts.dropout > 0 ? [{ type: 'dropout', name: 'drop', rate: opts.dropout } as LayerSpec] : []),
      { type: 'dense', name: 'head', units: problem.outputs, activation: 'linear', useBias: true },
    ];
    const inputShape = [...problem.featureShape];
    const params = initParams(describeLayers(layers, inputShape).params, ctx.rng('init'));
    return layerModel({ kind: 'cnn', layers, inputShape, params, rng: ctx.rng('dropout') });
  },
});
