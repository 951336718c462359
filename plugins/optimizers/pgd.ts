// Projected descent with fixed radii: after each base step, every row of a
// constrained tensor is projected onto the L1 ball around the anchor's row
// (the same projection FTP uses, with radii fixed instead of learned).
import {
  definePlugin,
  inSet,
  maskedProjection,
  matchesAny,
  o,
  type OptionsInput,
  type Problem,
  projectRows,
  rowAxisOf,
  rowL1,
  tf,
} from '../../src/plugin-api.js';
import type { NamedTensors, Projection } from '../../src/contracts/optimizer.js';
import { pgdNativeStep } from './pgd-native.js';
import { anchorOptions, anchoredParts, baseOptions, validateBase } from './anchored-base.js';

const options = {
  ...baseOptions,
  ...anchorOptions,
  mode: o.enum(['relative', 'absolute'], {
    description: "'relative': radius × the anchor row's L1 norm; 'absolute': radius is the L1 radius itself",
    default: 'relative',
  }),
  radius: o.number({ description: 'radius of every constrained row (see mode)', default: 0.1, min: 0 }),
  radiusFor: o.strings({
    description: 'per-pattern radii overriding `radius`, e.g. ["fc1.*=0.05", "fc2.weight=0.2"]; first match wins',
    default: [],
  }),
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
 * This is the reference; on native TensorFlow the step runs as two fused
 * kernels (pgd-native.ts), checked against it.
 */
export function pgdProjection(radiusOf: (name: string) => number, mode: 'relative' | 'absolute'): Projection {
  return {
    name: 'pgd',
    init(params, rowAxis = {}) {
      const radius: NamedTensors = {};
      for (const name of Object.keys(params)) {
        radius[name] =
          mode === 'relative'
            ? tf.mul(rowL1(params[name], rowAxisOf(rowAxis, name)), radiusOf(name))
            : tf.scalar(radiusOf(name));
      }
      return { 'pgd.radius': radius };
    },
    project(tentative, state, ctx) {
      const out: NamedTensors = {};
      for (const name of Object.keys(tentative)) {
        // c = w̃ − w0, each row pulled back onto its L1 ball: w0 + clamp(r/‖c‖₁, 0, 1)·c.
        const c = tf.sub(tentative[name], ctx.anchor[name]);
        out[name] = projectRows(ctx.anchor[name], c, rowL1(c, rowAxisOf(ctx.rowAxis, name)), state['pgd.radius'][name]);
      }
      return { params: out, state };
    },
  };
}

export default definePlugin({
  kind: 'optimizer',
  name: 'pgd',
  description:
    'projected descent: rows kept within fixed L1 radii of the anchor (absolute, or relative to the anchor row norms)',
  options,
  validate(opts) {
    const problems: Problem[] = validateBase(opts);
    opts.radiusFor.forEach((e, i) => {
      const at = e.lastIndexOf('=');
      const value = Number(e.slice(at + 1));
      if (at <= 0 || !Number.isFinite(value) || value < 0)
        problems.push({
          path: `radiusFor[${i}]`,
          message: `must look like "pattern=radius" with a radius >= 0, got "${e}"`,
        });
    });
    return problems;
  },
  async create(opts, ctx) {
    const overrides = parseRadiusFor(opts.radiusFor);
    const { model, constrained, component } = await anchoredParts(
      opts,
      ctx,
      'pgd',
      `${opts.mode} radius=${opts.radius}${overrides.length ? ` with ${overrides.length} overrides` : ''}`,
    );
    const names = [...model.params.keys()];
    const unused = overrides.filter((r) => !names.some((n) => matchesAny(n, [r.pattern])));
    if (unused.length)
      throw new Error(
        `radiusFor pattern ${unused.map((r) => `'${r.pattern}'`).join(', ')} matches no parameter; parameters: ` +
          `${names.join(', ')}`,
      );
    const radiusOf = (name: string) => overrides.find((r) => matchesAny(name, [r.pattern]))?.radius ?? opts.radius;
    const reference = pgdProjection(radiusOf, opts.mode);
    return {
      ...component,
      projection: maskedProjection(
        { ...reference, projectStep: pgdNativeStep(opts.mode, reference) },
        inSet(constrained),
      ),
      // The mean radius of each tensor's rows.
      constraints: (state) =>
        Object.fromEntries(Object.entries(state['pgd.radius'] ?? {}).map(([n, r]) => [n, tf.mean(r)])),
    };
  },
});
