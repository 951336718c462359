import {
  definePlugin,
  describeLayers,
  initParams,
  layerModel,
  type LayerSpec,
  o,
  type OptionsInput,
} from '../../src/plugin-api.js';
import { featureSize } from '../../src/contracts/data.js';

const options = {
  hidden: o.numbers({ description: 'width of each hidden layer', default: [400, 400], integer: true, min: 1 }),
  activation: o.enum(['relu', 'tanh', 'sigmoid'], { description: 'hidden-layer non-linearity', default: 'relu' }),
  dropout: {
    ...o.number({
      description: 'dropout rate after each hidden layer, in training only (0: none)',
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
    mlp: OptionsInput<typeof options>;
  }
}

/** A multilayer perceptron; layers are named fc1, fc2, … and the output layer `head`. */
export default definePlugin({
  kind: 'model',
  name: 'mlp',
  description: 'multilayer perceptron (Linear + activation), output layer named "head"',
  options,
  async create(opts, ctx) {
    const problem = await ctx.problem();
    const inputShape = [featureSize(problem.featureShape)];
    const layers: LayerSpec[] = [
      ...opts.hidden.flatMap((units, i): LayerSpec[] => [
        { type: 'dense', name: `fc${i + 1}`, units, activation: opts.activation, useBias: true },
        ...(opts.dropout > 0 ? [{ type: 'dropout', name: `drop${i + 1}`, rate: opts.dropout } as LayerSpec] : []),
      ]),
      { type: 'dense', name: 'head', units: problem.outputs, activation: 'linear', useBias: true },
    ];
    // Kernels are [in, out]: tfjs's layout, a third faster than PyTorch's [out, in] with transposeB on wasm.
    const params = initParams(describeLayers(layers, inputShape).params, ctx.rng('init'));
    return layerModel({ kind: 'mlp', layers, inputShape, params, rng: ctx.rng('dropout') });
  },
});
