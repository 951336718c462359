// Projected descent with fixed radii: after each base step, every row of a
// constrained tensor is projected onto the L1 ball around the anchor's row
// (the same projection FTP uses, with radii fixed instead of learned).
import { definePlugin } from '../../src/plugin/define-plugin.js';
import { o, type OptionsInput, type Problem } from '../../src/plugin/options.js';
import { tf } from '../../src/tensor/tf.js';
import type { NamedTensors, OptimizerState, Projection, StepContext } from '../../src/contracts/optimizer.js';
import { matchesAny } from '../../src/optim/patterns.js';
import { inSet, maskedProjection } from '../../src/optim/masking.js';
import { fusedInput, inputNames, tentativeOf, type ProjectionInput } from '../../src/optim/projection-input.js';
import { projectRows, rowAxisOf, rowL1 } from '../../src/optim/rows.js';
import { rowKernels, type RowKernels } from '../../src/tensor/native-kernels.js';
import { anchorOptions, anchoredParts, baseOptions, validateBase } from './anchored-base.js';

const options = {
  ...baseOptions,
  ...anchorOptions,
  mode: o.enum(['relative', 'absolute'], { description: "'relative': radius × the anchor row's L1 norm; 'absolute': radius is the L1 radius itself", default: 'relative' }),
  radius: o.number({ description: 'radius of every constrained row (see mode)', default: 0.1, min: 0 }),
  radiusFor: o.strings({ description: 'per-pattern radii overriding `radius`, e.g. ["fc1.*=0.05", "fc2.weight=0.2"]; first match wins', default: [] }),
};

declare module '../../src/plugin/kinds.js' {
  interface OptimizerPlugins {
    pgd: OptionsInput<typeof options>;
  }
}

export function parseRadiusFor(entries: readonly string[]): { pattern: string; radius: number }[] {
  return entries.map((e) => {
    const at = e.lastIndexOf('=');
    return { pattern: e.slice(0, at), radius: Number(e.slice(at + 1)) };
  });
}

/**
 * Fixed-radius row projection. Radii are computed from the anchor when the
 * projection is initialised (at the start of the run, or of each task with
 * anchor 'task-start'), so a step costs no extra reductions of the anchor.
 * `fused: 'ops'` keeps the tfjs op path on native TensorFlow too.
 */
export function pgdProjection(radiusOf: (name: string) => number, mode: 'relative' | 'absolute', fused: (() => RowKernels | undefined) | 'ops' = rowKernels): Projection {
  const projection: Projection = {
    name: 'pgd',
    stacks: true,
    init(params, rowAxis = {}, runs) {
      const radius: NamedTensors = {};
      for (const name of Object.keys(params)) {
        radius[name] = mode === 'relative' ? tf.mul(rowL1(params[name], rowAxisOf(rowAxis, name, runs !== undefined), runs !== undefined), radiusOf(name)) : tf.scalar(radiusOf(name));
      }
      return { 'pgd.radius': radius };
    },
    project: (tentative, state, ctx) => step({ tentative }, state, ctx),
    projectStep: (updates, state, ctx) => step({ updates }, state, ctx),
  };
  return projection;

  /** The projection of the tentative weights, or of ctx.params + updates (formed inside the kernel's pass on native TensorFlow). */
  function step(from: ProjectionInput, state: OptimizerState, ctx: StepContext): { params: NamedTensors; state: OptimizerState } {
    const names = inputNames(from);
    const kernels = fused === 'ops' || names.length === 0 ? undefined : fused();
    const stacked = ctx.runs !== undefined;
    const radii = names.map((name) => state['pgd.radius'][name]);
    const out: NamedTensors = {};
    if (kernels) {
      // Native TensorFlow: every tensor's offsets and row norms in one pass (forming w + u in it), the projection
      // of all of them in another (src/tensor/native/row_kernels.cc); the clip factors in between, once for all
      // rows: radius · 1/(‖c‖₁ + 1e-8).
      const rows = { axes: names.map((name) => rowAxisOf(ctx.rowAxis, name, stacked)), stacked };
      const anchors = names.map((name) => ctx.anchor[name]);
      const { base, updates } = fusedInput(from, names, ctx);
      const { offsets, scale } = kernels.offsets(base, anchors, rows, updates && { updates });
      let projected: tf.Tensor[];
      if (mode === 'relative') {
        // A radius per row, joined in the kernels' row order (run-major within a tensor, as rowL1 keeps them).
        const factors = tf.clipByValue(tf.mul(tf.concat(radii.map((r) => tf.reshape(r, [-1]))), scale), 0, 1);
        projected = kernels.scaleAdd(anchors, offsets, factors, rows);
      } else {
        // One radius per tensor: per part (tensor × runs + run), the kernel's clamp(radius · scale, 0, 1).
        const perTensor = tf.stack(radii);
        const parts = stacked ? tf.reshape(tf.tile(tf.reshape(perTensor, [-1, 1]), [1, ctx.runs!]), [-1]) : perTensor;
        projected = kernels.scaleAdd(anchors, offsets, scale, rows, parts);
      }
      names.forEach((name, i) => (out[name] = projected[i]));
      return { params: out, state };
    }
    names.forEach((name, i) => {
      const axis = rowAxisOf(ctx.rowAxis, name, stacked);
      const c = tf.sub(tentativeOf(from, name, ctx), ctx.anchor[name]);
      out[name] = projectRows(ctx.anchor[name], c, rowL1(c, axis, stacked), radii[i]);
    });
    return { params: out, state };
  }
}

export default definePlugin({
  kind: 'optimizer',
  name: 'pgd',
  description: 'projected descent: rows kept within fixed L1 radii of the anchor (absolute, or relative to the anchor row norms)',
  options,
  validate(opts) {
    const problems: Problem[] = validateBase(opts);
    opts.radiusFor.forEach((e, i) => {
      const at = e.lastIndexOf('=');
      const value = Number(e.slice(at + 1));
      if (at <= 0 || !Number.isFinite(value) || value < 0) problems.push({ path: `radiusFor[${i}]`, message: `must look like "pattern=radius" with a radius >= 0, got "${e}"` });
    });
    return problems;
  },
  async create(opts, ctx) {
    const overrides = parseRadiusFor(opts.radiusFor);
    const { model, constrained, component } = await anchoredParts(opts, ctx, 'pgd', `${opts.mode} radius=${opts.radius}${overrides.length ? ` with ${overrides.length} overrides` : ''}`);
    const names = [...model.params.keys()];
    const unused = overrides.filter((r) => !names.some((n) => matchesAny(n, [r.pattern])));
    if (unused.length) throw new Error(`radiusFor pattern ${unused.map((r) => `'${r.pattern}'`).join(', ')} matches no parameter; parameters: ${names.join(', ')}`);
    const radiusOf = (name: string) => overrides.find((r) => matchesAny(name, [r.pattern]))?.radius ?? opts.radius;
    return {
      ...component,
      projection: maskedProjection(pgdProjection(radiusOf, opts.mode), inSet(constrained)),
      // The mean radius of each tensor's rows (of each run's, when runs are stacked).
      constraints: (state, _rule, _phase, runs) => Object.fromEntries(Object.entries(state['pgd.radius'] ?? {}).map(([n, r]) => [n, runs === undefined || r.rank === 0 ? tf.mean(r) : r.rank === 1 ? r : tf.mean(r, Array.from({ length: r.rank - 1 }, (_, i) => i + 1))])),
    };
  },
});
