// Small composable update rules (Optax's vocabulary). The optimizer plugins in
// plugins/optimizers/ are chains of these.
import { tf } from '../tensor/tf.js';
import type { NamedTensors, OptimizerState, Schedule, StepContext, UpdateRule } from '../contracts/optimizer.js';
import { fusedAdam, fusedScale, type AdamKernel, type ScaleKernel } from '../native/kernels.js';

export function mapNamed(xs: NamedTensors, f: (x: tf.Tensor, name: string) => tf.Tensor): NamedTensors {
  const out: NamedTensors = {};
  for (const name of Object.keys(xs)) out[name] = f(xs[name], name);
  return out;
}

function zerosLike(params: NamedTensors): NamedTensors {
  return mapNamed(params, (p) => tf.zerosLike(p));
}

/**
 * What Adam's kernels take at step `step` (1-based): [β1, 1−β1, β2, 1−β2, bc1, √bc2, eps], bc = 1 − β^step
 * — the numbers scaleByAdam's ops use, each rounded to float32 as those ops round it.
 */
export function adamCoefficients(opts: { beta1: number; beta2: number; eps: number }, step: number): number[] {
  const { beta1, beta2, eps } = opts;
  return [beta1, 1 - beta1, beta2, 1 - beta2, 1 - Math.pow(beta1, step), Math.sqrt(1 - Math.pow(beta2, step)), eps];
}

/**
 * Adam's moment estimates with bias correction (PyTorch semantics: eps outside
 * the sqrt of the corrected v). On native TensorFlow all its tensors go
 * through one fused kernel (src/tensor/native/row_kernels.cc) that rounds
 * each operation as the ops below do — the same bits in one pass each instead
 * of twelve ops per tensor; `fused: 'ops'` keeps the ops everywhere.
 */
export function scaleByAdam(
  opts: { beta1: number; beta2: number; eps: number },
  fused: (() => AdamKernel | undefined) | 'ops' = fusedAdam,
): UpdateRule {
  return {
    name: 'adam',
    init: (params) => ({ 'adam.m': zerosLike(params), 'adam.v': zerosLike(params) }),
    update(updates, state, ctx) {
      const m: NamedTensors = {};
      const v: NamedTensors = {};
      const out: NamedTensors = {};
      const coefficients = adamCoefficients(opts, ctx.step);
      const names = Object.keys(updates);
      const kernel = fused === 'ops' || names.length === 0 ? undefined : fused();
      if (kernel) {
        const r = kernel(
          names.map((n) => updates[n]),
          names.map((n) => state['adam.m'][n]),
          names.map((n) => state['adam.v'][n]),
          tf.tensor1d(coefficients),
        );
        names.forEach((name, i) => {
          m[name] = r.m[i];
          v[name] = r.v[i];
          out[name] = r.updates[i];
        });
        return { updates: out, state: { 'adam.m': m, 'adam.v': v } };
      }
      const [beta1, oneMinusBeta1, beta2, oneMinusBeta2, bc1, bc2Sqrt, eps] = coefficients;
      for (const name of names) {
        const g = updates[name];
        m[name] = tf.add(tf.mul(state['adam.m'][name], beta1), tf.mul(g, oneMinusBeta1));
        v[name] = tf.add(tf.mul(state['adam.v'][name], beta2), tf.mul(tf.square(g), oneMinusBeta2));
        // m̂ / (sqrt(v̂) + eps) written as torch does: (m / bc1) / (sqrt(v) / sqrt(bc2) + eps)
        out[name] = tf.div(tf.div(m[name], bc1), tf.add(tf.div(tf.sqrt(v[name]), bc2Sqrt), eps));
      }
      return { updates: out, state: { 'adam.m': m, 'adam.v': v } };
    },
  };
}

/**
 * Adds `rate · w` (decoupled weight decay when placed after scaleByAdam; L2
 * when before momentum). The rate may be a schedule; restrict it to some
 * parameters with `masked`.
 */
export function addDecayedWeights(rate: number | Schedule): UpdateRule {
  const at = typeof rate === 'number' ? () => rate : rate;
  return {
    name: 'decay',
    init: () => ({}),
    update(updates, _state, ctx) {
      const r = at(ctx);
      if (r === 0) return { updates, state: {} };
      const rate = tf.scalar(r);
      return { updates: mapNamed(updates, (u, n) => tf.add(u, tf.mul(ctx.params[n], rate))), state: {} };
    },
  };
}

/** SGD momentum with dampening and Nesterov, PyTorch semantics (the first buffer is the update itself). */
export function trace(opts: { momentum: number; dampening?: number; nesterov?: boolean }): UpdateRule {
  const { momentum, dampening = 0, nesterov = false } = opts;
  if (momentum === 0) return { name: 'momentum', init: () => ({}), update: (updates) => ({ updates, state: {} }) };
  return {
    name: 'momentum',
    init: (params) => ({ 'momentum.buf': zerosLike(params) }),
    update(updates, state, ctx) {
      const buf: NamedTensors = {};
      const out: NamedTensors = {};
      for (const name of Object.keys(updates)) {
        const g = updates[name];
        buf[name] =
          ctx.step === 1
            ? tf.clone(g)
            : tf.add(tf.mul(state['momentum.buf'][name], momentum), tf.mul(g, 1 - dampening));
        out[name] = nesterov ? tf.add(g, tf.mul(buf[name], momentum)) : buf[name];
      }
      return { updates: out, state: { 'momentum.buf': buf } };
    },
  };
}

/**
 * Multiplies updates by −lr (a number or a schedule): the sign turns a
 * descent direction into a parameter delta.
 */
export function scaleByLearningRate(
  lr: number | Schedule,
  fused: (() => ScaleKernel | undefined) | 'ops' = fusedScale,
): UpdateRule {
  const at = typeof lr === 'number' ? () => lr : lr;
  return {
    name: 'lr',
    init: () => ({}),
    update(updates, _state, ctx) {
      // One scalar for all tensors: a number operand would be uploaded to the backend once per tensor.
      const r = tf.scalar(-at(ctx));
      const names = Object.keys(updates);
      // On native TensorFlow one kernel scales every tensor: the same bits as a Mul per tensor, in one op.
      const kernel = fused === 'ops' || names.length === 0 ? undefined : fused();
      if (kernel) {
        const out = kernel(
          names.map((n) => updates[n]),
          r,
        );
        return { updates: Object.fromEntries(names.map((n, i) => [n, out[i]])), state: {} };
      }
      return { updates: mapNamed(updates, (u) => tf.mul(u, r)), state: {} };
    },
  };
}

/** The slots of `state` under `prefix/`, with the prefix taken off. */
export function innerState(state: OptimizerState, prefix: string): OptimizerState {
  const out: OptimizerState = {};
  const head = `${prefix}/`;
  for (const [slot, named] of Object.entries(state)) if (slot.startsWith(head)) out[slot.slice(head.length)] = named;
  return out;
}

/** `state`'s slots put under `prefix/` in `into`. */
export function nestState(into: OptimizerState, prefix: string, state: OptimizerState): void {
  for (const [slot, named] of Object.entries(state)) into[`${prefix}/${slot}`] = named;
}

/**
 * Runs named rules in order; each rule's state lives under its own name
 * ("adam/adam.m"), so two rules of the same kind never share a slot. Names
 * must be unique (Optax's named_chain).
 */
export function namedChain(...entries: [string, UpdateRule][]): UpdateRule {
  const seen = new Set<string>();
  for (const [label] of entries) {
    if (label.includes('/')) throw new Error(`namedChain: name '${label}' must not contain '/'`);
    if (seen.has(label)) throw new Error(`namedChain: the name '${label}' is used twice; each rule needs its own name`);
    seen.add(label);
  }
  return {
    name: entries.map(([, r]) => r.name).join('+'),
    init(params) {
      const state: OptimizerState = {};
      for (const [label, rule] of entries) nestState(state, label, rule.init(params));
      return state;
    },
    update(updates, state, ctx: StepContext) {
      const next: OptimizerState = {};
      let current = updates;
      for (const [label, rule] of entries) {
        const r = rule.update(current, innerState(state, label), ctx);
        current = r.updates;
        nestState(next, label, r.state);
      }
      return { updates: current, state: next };
    },
  };
}

/** Runs rules in order, each with its own state under "<index>:<name>" (Optax's chain keeps a tuple of states). */
export function chain(...rules: UpdateRule[]): UpdateRule {
  return namedChain(...rules.map((r, i): [string, UpdateRule] => [`${i}:${r.name}`, r]));
}
