// K models of one layer list run as one: the rows of the K models' batches
// concatenated ([K·B, ...]), and each dense layer's weights stacked along a
// new leading axis ([K, ...shape]) inside the pass, so that gradients flow to
// each model's own parameters. Layers without parameters act on rows and need
// nothing; a dense layer becomes one batched matrix product; a convolution
// runs once per model (tfjs has no grouped convolution), which still shares
// everything else in the step. Layers whose training pass mixes rows (batch
// norm) or draws randomness per model (dropout) are not stackable.
import { tf } from '../tensor/tf.js';
import { ACT, INPUT, applyRowLayer, inputsOf, type LayerSpec } from '../models/layer-graph.js';

/** Why a layer list cannot be stacked, or undefined when it can. */
export function unstackableLayers(layers: readonly LayerSpec[]): string | undefined {
  const bn = layers.find((l) => l.type === 'batchnorm');
  if (bn) return `its batch norm (${bn.name}) normalises with statistics over the batch`;
  const drop = layers.find((l) => l.type === 'dropout' && l.rate > 0);
  if (drop) return `its dropout (${drop.name}) draws masks per model`;
  return undefined;
}

/** Adds a per-model bias [K, units] to rows [K·B, ..., units]. */
function addStackedBias(a: tf.Tensor, bias: tf.Tensor, k: number): tf.Tensor {
  const units = a.shape[a.shape.length - 1];
  const grouped = tf.reshape(a, [k, -1, units]);
  return tf.reshape(tf.add(grouped, tf.reshape(bias, [k, 1, units])), a.shape);
}

/**
 * The forward pass of K models on x [K·B, features] (model k's rows are rows
 * k·B … k·B + B − 1), `values[k]` model k's parameters: logits [K·B,
 * outputs]. Row for row the same function as applyLayers with model k's
 * parameters.
 */
export function applyStackedLayers(
  layers: readonly LayerSpec[],
  inputShape: readonly number[],
  values: readonly Readonly<Record<string, tf.Tensor>>[],
  x: tf.Tensor,
): tf.Tensor {
  const k = values.length;
  const stacked = (name: string) => tf.stack(values.map((v) => v[name]));
  const outputs = new Map<string, tf.Tensor>([[INPUT, tf.reshape(x, [-1, ...inputShape])]]);
  let a = outputs.get(INPUT)!;
  for (const [i, l] of layers.entries()) {
    const ins = inputsOf(layers, i).map((n) => outputs.get(n)!);
    a = ins[0];
    switch (l.type) {
      case 'dense': {
        const rows = a.shape[0];
        a = tf.reshape(tf.matMul(tf.reshape(a, [k, rows / k, a.shape[1]!]), stacked(`${l.name}.weight`)), [
          rows,
          l.units,
        ]);
        if (l.useBias) a = addStackedBias(a, stacked(`${l.name}.bias`), k);
        a = ACT[l.activation](a);
        break;
      }
      case 'conv2d': {
        const kernels = values.map((v) => v[`${l.name}.weight`] as tf.Tensor4D);
        const parts = tf.split<tf.Tensor4D>(a, k, 0).map((part, m) =>
          typeof l.padding === 'number'
            ? tf.conv2d(
                tf.pad(part, [
                  [0, 0],
                  [l.padding, l.padding],
                  [l.padding, l.padding],
                  [0, 0],
                ]),
                kernels[m],
                l.strides,
                'valid',
              )
            : tf.conv2d(part, kernels[m], l.strides, l.padding),
        );
        a = k === 1 ? parts[0] : tf.concat(parts, 0);
        if (l.useBias) a = addStackedBias(a, stacked(`${l.name}.bias`), k);
        a = ACT[l.activation](a);
        break;
      }
      case 'dropout':
        break; // rate 0 (unstackableLayers refuses the others): the identity
      case 'batchnorm':
        throw new Error(`layer ${l.name}: batch norm cannot be stacked`);
      default:
        a = applyRowLayer(l, ins);
    }
    outputs.set(l.name, a);
  }
  return a;
}
