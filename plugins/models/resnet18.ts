import {
  definePlugin,
  describeLayers,
  initParams,
  INPUT,
  layerModel,
  type LayerSpec,
  o,
  type OptionsInput,
} from '../../src/plugin-api.js';

const options = {
  width: o.integer({
    description:
      'channels of the first stage (the stages have width, 2×, 4×, 8×); 20 is the reduced ResNet-18 of GEM ' +
      'and Mammoth, 64 the full one',
    default: 20,
    min: 1,
  }),
  blocks: o.numbers({
    description: 'basic blocks per stage (ResNet-18: 2 in each of 4 stages)',
    default: [2, 2, 2, 2],
    integer: true,
    min: 1,
    minLength: 1,
  }),
  momentum: o.number({
    description: "batch norm's running-statistics momentum (PyTorch's convention: the new batch's weight)",
    default: 0.1,
    min: 0,
    max: 1,
    exclusiveMin: true,
  }),
  epsilon: o.number({ description: "batch norm's epsilon", default: 1e-5, min: 0, exclusiveMin: true }),
  dropout: o.number({
    description: 'dropout rate before the head, in training only (0: none)',
    default: 0,
    min: 0,
    max: 1,
    exclusiveMax: true,
  }),
};

declare module '../../src/plugin/kinds.js' {
  interface ModelPlugins {
    resnet18: OptionsInput<typeof options>;
  }
}

/**
 * The ResNet-18 continual-learning papers use on 32×32 images (GEM, Mammoth's
 * `resnet18(nclasses, nf=20)`): a 3×3 stem without pooling, four stages of
 * basic blocks (3×3 conv, BN, ReLU, 3×3 conv, BN, plus a 1×1 conv + BN
 * shortcut where the shape changes; strides 1, 2, 2, 2), global average
 * pooling and a linear head. Parameter names follow that PyTorch code
 * (`layer2.0.shortcut.0.weight`, `bn1.running_mean`), with `head` for its
 * `linear`. Stride-2 convolutions pad one pixel on each side, as PyTorch does
 * (TensorFlow's 'same' would pad only at the end and shift the grid against
 * the shortcut's).
 */
export default definePlugin({
  kind: 'model',
  name: 'resnet18',
  description:
    'reduced ResNet-18 (GEM / Mammoth, width 20) with batch norm: 4 stages of basic blocks, global average ' +
    'pooling, head',
  options,
  async create(opts, ctx) {
    const problem = await ctx.problem();
    if (problem.featureShape.length !== 3)
      throw new Error(
        `resnet18 needs images [height, width, channels], got examples of shape [${problem.featureShape}]`,
      );
    const bn = (name: string, inputs?: string[]): LayerSpec => ({
      type: 'batchnorm',
      name,
      momentum: opts.momentum,
      epsilon: opts.epsilon,
      ...(inputs ? { inputs } : {}),
    });
    const conv = (name: string, filters: number, k: number, stride: number, inputs?: string[]): LayerSpec => ({
      type: 'conv2d',
      name,
      filters,
      kernelSize: [k, k],
      strides: [stride, stride],
      padding: k === 1 ? 'valid' : stride === 1 ? 'same' : (k - 1) / 2,
      activation: 'linear',
      useBias: false,
      ...(inputs ? { inputs } : {}),
    });
    const layers: LayerSpec[] = [
      conv('conv1', opts.width, 3, 1, [INPUT]),
      bn('bn1'),
      { type: 'activation', name: 'relu', activation: 'relu' },
    ];
    let from = 'relu';
    let channels = opts.width;
    opts.blocks.forEach((count, stage) => {
      const planes = opts.width * 2 ** stage;
      for (let b = 0; b < count; b++) {
        const stride = b === 0 && stage > 0 ? 2 : 1;
        const p = `layer${stage + 1}.${b}`;
        layers.push(
          conv(`${p}.conv1`, planes, 3, stride, [from]),
          bn(`${p}.bn1`),
          { type: 'activation', name: `${p}.relu`, activation: 'relu' },
          conv(`${p}.conv2`, planes, 3, 1),
          bn(`${p}.bn2`),
        );
        let shortcut = from;
        if (stride !== 1 || channels !== planes) {
          layers.push(conv(`${p}.shortcut.0`, planes, 1, stride, [from]), bn(`${p}.shortcut.1`));
          shortcut = `${p}.shortcut.1`;
        }
        layers.push({ type: 'add', name: `${p}.out`, activation: 'relu', inputs: [`${p}.bn2`, shortcut] });
        from = `${p}.out`;
        channels = planes;
      }
    });
    layers.push({ type: 'globalavgpool', name: 'pool', inputs: [from] });
    if (opts.dropout > 0) layers.push({ type: 'dropout', name: 'drop', rate: opts.dropout });
    layers.push({ type: 'dense', name: 'head', units: problem.outputs, activation: 'linear', useBias: true });
    const inputShape = [...problem.featureShape];
    const params = initParams(describeLayers(layers, inputShape).params, ctx.rng('init'));
    return layerModel({ kind: 'resnet18', layers, inputShape, params, rng: ctx.rng('dropout') });
  },
});
