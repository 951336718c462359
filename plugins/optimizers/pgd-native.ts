// PGD's step on native TensorFlow as two fused kernels (src/native/): every
// tensor's tentative weights w + u, offsets and row norms in one pass, the
// projection of all of them in another, with the clip factors in between
// computed once for all rows. The state and the results are the reference's
// (pgd.ts); where the kernels are not loaded the reference runs.
import { rowAxisOf, rowKernels, tf } from '../../src/plugin-api.js';
import type { NamedTensors, Projection } from '../../src/contracts/optimizer.js';

/** Projection.projectStep for PGD: the fused kernels where loaded, else the reference's projection of w + u. */
export function pgdNativeStep(
  mode: 'relative' | 'absolute',
  reference: Projection,
): NonNullable<Projection['projectStep']> {
  return (updates, state, ctx) => {
    const names = Object.keys(updates);
    const kernels = names.length ? rowKernels() : undefined;
    if (!kernels) {
      const tentative: NamedTensors = {};
      for (const name of names) tentative[name] = tf.add(ctx.params[name], updates[name]);
      return reference.project(tentative, state, ctx);
    }
    const radii = names.map((name) => state['pgd.radius'][name]);
    const rows = { axes: names.map((name) => rowAxisOf(ctx.rowAxis, name)) };
    const anchors = names.map((name) => ctx.anchor[name]);
    const params = names.map((n) => ctx.params[n]);
    const { offsets, scale } = kernels.offsets(params, anchors, rows, { updates: names.map((n) => updates[n]) });
    // The clip factors radius · 1/(‖c‖₁ + 1e-8): a radius per row (relative), joined in the kernels' row order,
    // or one per tensor (absolute), applied in the kernel as clamp(radius · scale, 0, 1).
    const projected =
      mode === 'relative'
        ? kernels.scaleAdd(
            anchors,
            offsets,
            tf.clipByValue(tf.mul(tf.concat(radii.map((r) => tf.reshape(r, [-1]))), scale), 0, 1),
            rows,
          )
        : kernels.scaleAdd(anchors, offsets, scale, rows, tf.stack(radii));
    return { params: Object.fromEntries(names.map((name, i) => [name, projected[i]])), state };
  };
}
