import type { Model } from '../contracts/model.js';
import type { Snapshot } from '../contracts/snapshot.js';
import { tf } from '../tensor/tf.js';
import type { Rng } from '../tensor/rng.js';
import {
  applyLayers,
  describeLayers,
  initBuffers,
  inputsOf,
  type LayerSpec,
  type TrainingEffects,
} from './layer-graph.js';

/** A Model over a layer list and its named parameters (built fresh or loaded from a file). */
export function layerModel(opts: {
  kind: string;
  layers: LayerSpec[];
  inputShape: number[];
  params: Map<string, tf.Variable>;
  /** Batch norm's running statistics; missing ones start at their initial values. */
  buffers?: Map<string, tf.Variable>;
  fresh?: ReadonlySet<string>;
  /** The file the weights came from. */
  pretrained?: string;
  /** Draws dropout masks; required when a dropout layer has a rate above 0. */
  rng?: Rng;
}): Model {
  const { params: infos, buffers: bufferInfos, outputShape } = describeLayers(opts.layers, opts.inputShape);
  for (const p of infos) {
    const v = opts.params.get(p.name);
    if (!v) throw new Error(`${opts.kind}: parameter ${p.name} is missing`);
    if (v.shape.join('x') !== p.shape.join('x'))
      throw new Error(`${opts.kind}: parameter ${p.name} has shape [${v.shape}], the layer needs [${p.shape}]`);
  }
  const buffers = opts.buffers ?? new Map<string, tf.Variable>();
  for (const [name, v] of initBuffers(bufferInfos.filter((b) => !buffers.has(b.name)))) buffers.set(name, v);
  for (const b of bufferInfos) {
    if (buffers.get(b.name)!.shape.join('x') !== b.shape.join('x'))
      throw new Error(
        `${opts.kind}: buffer ${b.name} has shape [${buffers.get(b.name)!.shape}], the layer needs [${b.shape}]`,
      );
  }
  const usesDropout = opts.layers.some((l) => l.type === 'dropout' && l.rate > 0);
  if (usesDropout && !opts.rng) throw new Error(`${opts.kind}: dropout needs a random generator`);
  // Each training forward pass draws its masks from the next seed: a counter, so a checkpoint restores the sequence
  // exactly.
  const dropoutBase = usesDropout ? opts.rng!.nextUint32() % 2 ** 30 : 0;
  let dropoutDraws = 0;
  const effects: TrainingEffects = { buffers, dropoutSeed: () => dropoutBase + 7919 * dropoutDraws++ };
  const scoring: TrainingEffects = { dropoutSeed: effects.dropoutSeed };

  const rowAxis = Object.fromEntries(infos.map((p) => [p.name, p.rowAxis]));
  const current: Record<string, tf.Tensor> = Object.fromEntries(opts.params);
  const withBuffers = (values: Readonly<Record<string, tf.Tensor>>): Record<string, tf.Tensor> => {
    const all: Record<string, tf.Tensor> = { ...values };
    for (const [name, b] of buffers) all[name] ??= b;
    return all;
  };
  const count = [...opts.params.values()].reduce((a, p) => a + p.size, 0);
  const convs = opts.layers.filter((l) => l.type === 'conv2d').length;
  const summary =
    convs > 6
      ? `${convs} convolutions, ${opts.layers.filter((l) => l.type === 'batchnorm').length} batch norms, ${opts.layers
          .filter((l) => l.type === 'dense')
          .map((l) => l.name)
          .join(' ')}`
      : opts.layers
          .filter((l) => l.type === 'dense' || l.type === 'conv2d')
          .map((l) =>
            l.type === 'dense' ? `${l.name}:${l.units}` : `${l.name}:${l.filters}@${l.kernelSize.join('x')}`,
          )
          .join(' ');
  // The feature extractor ends where the last layer with parameters (the head) reads.
  let head = opts.layers.length - 1;
  while (head >= 0 && opts.layers[head].type !== 'dense' && opts.layers[head].type !== 'conv2d') head -= 1;
  const featureLayer = head > 0 ? inputsOf(opts.layers, head)[0] : undefined;
  return {
    params: opts.params,
    buffers,
    rowAxis,
    fresh: opts.fresh,
    pretrained: opts.pretrained,
    architecture: { layers: opts.layers, inputShape: opts.inputShape },
    forward: (x, training) => applyLayers(opts.layers, opts.inputShape, current, x, { training, effects }),
    // Other parameter values (TPGM's projected weights, a teacher's): batch statistics in training, but the running
    // ones stay as they are.
    apply: (values, x, training) =>
      applyLayers(opts.layers, opts.inputShape, withBuffers(values), x, {
        training,
        effects: training ? scoring : undefined,
      }),
    features: (x, training, values) => {
      if (featureLayer === undefined || featureLayer === 'input') return tf.reshape(x, [x.shape[0], -1]);
      if (values)
        return applyLayers(opts.layers, opts.inputShape, withBuffers(values), x, {
          training,
          effects: training ? scoring : undefined,
          stopAt: featureLayer,
        });
      return applyLayers(opts.layers, opts.inputShape, current, x, { training, effects, stopAt: featureLayer });
    },
    snapshot: (): Snapshot => ({ buffers: Object.fromEntries(buffers), dropoutDraws }),
    restore: (saved: Snapshot) => {
      const values = (saved.buffers ?? {}) as Snapshot;
      for (const [name, b] of buffers) {
        const t = values[name] as tf.Tensor | undefined;
        if (!t || t.shape.join('x') !== b.shape.join('x'))
          throw new Error(`checkpoint: model buffer ${name} is missing or has another shape`);
        b.assign(t);
      }
      dropoutDraws = Number(saved.dropoutDraws ?? 0);
    },
    describe: () =>
      `${opts.kind} [${opts.inputShape}] ${summary} -> ${outputShape} (${count.toLocaleString('en-US')} ` +
      `parameters${opts.fresh?.size ? `, ${opts.fresh.size} fresh` : ''})`,
    dispose: () => {
      opts.params.forEach((p) => p.dispose());
      buffers.forEach((b) => b.dispose());
    },
  };
}
