import type { Model } from '../contracts/model.js';
import { tf } from '../tensor/tf.js';
import { applySequential, describeLayers, type LayerSpec } from './sequential.js';

/** A Model over a layer list and its named parameters (built fresh or loaded from a file). */
export function sequentialModel(opts: {
  kind: string;
  layers: LayerSpec[];
  inputShape: number[];
  params: Map<string, tf.Variable>;
  fresh?: ReadonlySet<string>;
}): Model {
  const { params: infos, outputShape } = describeLayers(opts.layers, opts.inputShape);
  for (const p of infos) {
    const v = opts.params.get(p.name);
    if (!v) throw new Error(`${opts.kind}: parameter ${p.name} is missing`);
    if (v.shape.join('x') !== p.shape.join('x')) throw new Error(`${opts.kind}: parameter ${p.name} has shape [${v.shape}], the layer needs [${p.shape}]`);
  }
  const rowAxis = Object.fromEntries(infos.map((p) => [p.name, p.rowAxis]));
  const current = Object.fromEntries(opts.params);
  const count = [...opts.params.values()].reduce((a, p) => a + p.size, 0);
  const summary = opts.layers
    .filter((l) => l.type === 'dense' || l.type === 'conv2d')
    .map((l) => (l.type === 'dense' ? `${l.name}:${l.units}` : `${l.name}:${l.filters}@${l.kernelSize.join('x')}`))
    .join(' ');
  // Everything before the last layer with parameters is the feature extractor.
  let head = opts.layers.length - 1;
  while (head >= 0 && opts.layers[head].type !== 'dense' && opts.layers[head].type !== 'conv2d') head -= 1;
  const body = opts.layers.slice(0, Math.max(head, 0));
  return {
    params: opts.params,
    rowAxis,
    fresh: opts.fresh,
    architecture: { layers: opts.layers, inputShape: opts.inputShape },
    forward: (x) => applySequential(opts.layers, opts.inputShape, current, x),
    apply: (values, x) => applySequential(opts.layers, opts.inputShape, values, x),
    features: (x) => {
      const f = applySequential(body, opts.inputShape, current, x);
      return f.rank === 2 ? f : tf.reshape(f, [f.shape[0], -1]);
    },
    describe: () => `${opts.kind} [${opts.inputShape}] ${summary} -> ${outputShape} (${count.toLocaleString('en-US')} parameters${opts.fresh?.size ? `, ${opts.fresh.size} fresh` : ''})`,
    dispose: () => opts.params.forEach((p) => p.dispose()),
  };
}
