import {
  definePlugin,
  describeLayers,
  initParams,
  layerModel,
  type LayerSpec,
  o,
  type OptionsInput,
  readLayersModel,
  tf,
} from '../../src/plugin-api.js';
import { featureSize } from '../../src/contracts/data.js';

const options = {
  path: o.string({
    description: 'TensorFlow.js Layers model: model.json or its folder (relative to the experiment file)',
    nonEmpty: true,
  }),
  head: o.enum(['new', 'keep'], {
    description:
      "'new': a fresh output layer `head` for this problem's labels (excluded from anchoring by default); " +
      "'keep': the file's own output layer",
    default: 'new',
  }),
  cutAt: o.string({
    description: "last layer kept from the file (default: all but the output layer with head 'new', all with 'keep')",
    default: '',
  }),
};

declare module '../../src/plugin/kinds.js' {
  interface ModelPlugins {
    pretrained: OptionsInput<typeof options>;
  }
}

/**
 * A pre-trained model from disk (model.json + weights, as `model.save`
 * writes), optionally cut at a named layer, with a fresh head. Parameters
 * that came from the file are the anchor; the new head is "fresh".
 */
export default definePlugin({
  kind: 'model',
  name: 'pretrained',
  description: 'a TensorFlow.js Layers model loaded from disk, optionally cut at a layer, with a fresh head',
  options,
  async create(opts, ctx) {
    const problem = await ctx.problem();
    const file = readLayersModel(ctx.resolvePath(opts.path));
    if (featureSize(file.inputShape) !== featureSize(problem.featureShape)) {
      throw new Error(
        `${opts.path} takes inputs of shape [${file.inputShape}] but the examples have shape [${problem.featureShape}]`,
      );
    }
    let kept: LayerSpec[] = file.layers;
    if (opts.cutAt) {
      const at = file.layers.findIndex((l) => l.name === opts.cutAt);
      if (at < 0)
        throw new Error(
          `cutAt: no layer '${opts.cutAt}' in ${opts.path}; layers: ${file.layers.map((l) => l.name).join(', ')}`,
        );
      kept = file.layers.slice(0, at + 1);
    } else if (opts.head === 'new') {
      const lastDense = file.layers.map((l) => l.type).lastIndexOf('dense');
      if (lastDense < 0) throw new Error(`${opts.path} has no dense output layer to replace; give cutAt`);
      kept = file.layers.slice(0, lastDense);
    }
    const layers: LayerSpec[] = [...kept];
    const fresh = new Set<string>();
    if (opts.head === 'new') {
      const name = kept.some((l) => l.name === 'head') ? 'new_head' : 'head';
      const { outputShape } = describeLayers(kept, file.inputShape);
      if (outputShape.length !== 1) layers.push({ type: 'flatten', name: 'head_flatten' });
      layers.push({ type: 'dense', name, units: problem.outputs, activation: 'linear', useBias: true });
      fresh.add(`${name}.weight`).add(`${name}.bias`);
    }
    const infos = describeLayers(layers, file.inputShape);
    if (opts.head === 'keep' && infos.outputShape[0] !== problem.outputs) {
      throw new Error(
        `${opts.path} has ${infos.outputShape[0]} outputs but this problem needs ${problem.outputs}; use head: 'new'`,
      );
    }
    const params = initParams(
      infos.params.filter((p) => fresh.has(p.name)),
      ctx.rng('init'),
    );
    for (const p of infos.params) {
      if (fresh.has(p.name)) continue;
      const w = file.weights.get(p.name);
      if (!w) throw new Error(`${opts.path}: no weights for ${p.name}`);
      if (w.shape.join('x') !== p.shape.join('x'))
        throw new Error(`${opts.path}: ${p.name} has shape [${w.shape}], its layer needs [${p.shape}]`);
      params.set(
        p.name,
        tf.tidy(() => tf.variable(tf.tensor(w.values, w.shape), true)),
      );
    }
    const buffers = new Map<string, tf.Variable>();
    for (const b of infos.buffers) {
      const w = file.weights.get(b.name);
      if (!w) throw new Error(`${opts.path}: no values for ${b.name} (batch norm's running statistics)`);
      buffers.set(
        b.name,
        tf.tidy(() => tf.variable(tf.tensor(w.values, w.shape), false)),
      );
    }
    return layerModel({
      kind: 'pretrained',
      layers,
      inputShape: file.inputShape,
      params,
      buffers,
      fresh,
      pretrained: opts.path,
      rng: ctx.rng('dropout'),
    });
  },
});
