// SPD — Selective Projection Decay (Tian et al., NeurIPS 2024). After the base
// step, only tensors whose gradient points away from the anchor
// (c = −Σ g ⊙ (w_{t−1} − w0) < 0) are pulled back:
// w ← w̃ − λ·r·(w̃ − w0), r = clamp((‖w̃−w0‖₂ − ‖w_{t−1}−w0‖₂) / ‖w̃−w0‖₂, 0,
// 1). The condition is a tf.where, never a read-back.
import { definePlugin, inSet, l2Norm, maskedProjection, o, type OptionsInput, tf } from '../../src/plugin-api.js';
import type { NamedTensors, Projection } from '../../src/contracts/optimizer.js';
import { anchorOptions, anchoredParts, baseOptions, validateBase } from './anchored-base.js';
import { spdNativeProject } from './spd-native.js';

const options = {
  ...baseOptions,
  ...anchorOptions,
  lambda: o.number({ description: 'strength of the selective pull towards the anchor (λ)', default: 0.1, min: 0 }),
};

declare module '../../src/plugin/kinds.js' {
  interface OptimizerPlugins {
    spd: OptionsInput<typeof options>;
  }
}

/** SPD's projection: the reference below, or on native TensorFlow its fused kernel (spd-native.ts). */
export function spdProjection(lambda: number): Projection {
  return { name: 'spd', init: () => ({}), project: spdNativeProject(lambda, spdReference(lambda)) };
}

/** The reference: SPD's arithmetic as ops, tensor by tensor. */
export function spdReference(lambda: number): Projection['project'] {
  return (tentative, _state, ctx) => {
    const out: NamedTensors = {};
    for (const name of Object.keys(tentative)) {
      const anchor = ctx.anchor[name];
      const offset = tf.sub(tentative[name], anchor);
      const prevOffset = tf.sub(ctx.params[name], anchor);
      // c < 0  ⇔  Σ g ⊙ (w_{t−1} − w0) > 0; as a 0/1 scalar so that the pull is one fused multiply, not a
      // select.
      const selected = tf.cast(tf.greater(tf.sum(tf.mul(ctx.rawGrads[name], prevOffset)), 0), 'float32');
      const dNew = l2Norm(offset);
      const ratio = tf.clipByValue(tf.div(tf.sub(dNew, l2Norm(prevOffset)), tf.add(dNew, 1e-12)), 0, 1);
      out[name] = tf.sub(tentative[name], tf.mul(tf.mul(tf.mul(ratio, selected), lambda), offset));
    }
    return { params: out, state: {} };
  };
}

export default definePlugin({
  kind: 'optimizer',
  name: 'spd',
  description:
    'Selective Projection Decay (NeurIPS 2024): pull back towards the anchor only tensors whose gradient points ' +
    'away from it',
  options,
  validate: (opts) => validateBase(opts),
  async create(opts, ctx) {
    const { constrained, component } = await anchoredParts(opts, ctx, 'spd', `lambda=${opts.lambda}`);
    return { ...component, projection: maskedProjection(spdProjection(opts.lambda), inSet(constrained)) };
  },
});
