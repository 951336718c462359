// Small composable update rules (Optax's vocabulary). The optimizer plugins in
// plugins/optimizers/ are chains of these.
import { tf } from '../tensor/tf.js';
import type { NamedTensors, OptimizerState, StepContext, UpdateRule } from '../contracts/optimizer.js';

export function mapNamed(xs: NamedTensors, f: (x: tf.Tensor, name: string) => tf.Tensor): NamedTensors {
  const out: NamedTensors = {};
  for (const name of Object.keys(xs)) out[name] = f(xs[name], name);
  return out;
}

function zerosLike(params: NamedTensors): NamedTensors {
  return mapNamed(params, (p) => tf.zerosLike(p));
}


/** Adam's moment estimates with bias correction (PyTorch semantics: eps outside the sqrt of the corrected v). */
export function scaleByAdam(opts: { beta1: number; beta2: number; eps: number }): UpdateRule {
  const { beta1, beta2, eps } = opts;
  return {
    name: 'adam',
    init: (params) => ({ 'adam.m': zerosLike(params), 'adam.v': zerosLike(params) }),
    update(updates, state, ctx) {
      const m: NamedTensors = {};
      const v: NamedTensors = {};
      const out: NamedTensors = {};
      const bc1 = 1 - Math.pow(beta1, ctx.step);
      const bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, ctx.step));
      for (const name of Object.keys(updates)) {
        const g = updates[name];
        m[name] = tf.add(tf.mul(state['adam.m'][name], beta1), tf.mul(g, 1 - beta1));
        v[name] = tf.add(tf.mul(state['adam.v'][name], beta2), tf.mul(tf.square(g), 1 - beta2));
        // m̂ / (sqrt(v̂) + eps) written as torch does: (m / bc1) / (sqrt(v) / sqrt(bc2) + eps)
        out[name] = tf.div(tf.div(m[name], bc1), tf.add(tf.div(tf.sqrt(v[name]), bc2Sqrt), eps));
      }
      return { updates: out, state: { 'adam.m': m, 'adam.v': v } };
    },
  };
}

/** Adds `rate * w` (decoupled weight decay when placed after scaleByAdam; L2 when before momentum). */
export function addDecayedWeights(rate: number, mask?: (name: string) => boolean): UpdateRule {
  return {
    name: 'decay',
    init: () => ({}),
    update: (updates, state, ctx) => ({
      updates: rate === 0 ? updates : mapNamed(updates, (u, n) => (mask && !mask(n) ? u : tf.add(u, tf.mul(ctx.params[n], rate)))),
      state: {},
    }),
  };
}

/** SGD momentum with dampening and Nesterov, PyTorch semantics (the first buffer is the update itself). */
export function trace(opts: { momentum: number; dampening: number; nesterov: boolean }): UpdateRule {
  const { momentum, dampening, nesterov } = opts;
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
          ctx.step === 1 ? tf.clone(g) : tf.add(tf.mul(state['momentum.buf'][name], momentum), tf.mul(g, 1 - dampening));
        out[name] = nesterov ? tf.add(g, tf.mul(buf[name], momentum)) : buf[name];
      }
      return { updates: out, state: { 'momentum.buf': buf } };
    },
  };
}

/** Multiplies updates by -lr: the sign turns a descent direction into a parameter delta. */
export function scaleByLearningRate(lr: number): UpdateRule {
  return {
    name: 'lr',
    init: () => ({}),
    update: (updates) => ({ updates: mapNamed(updates, (u) => tf.mul(u, -lr)), state: {} }),
  };
}

/** Runs rules in order; each rule's state lives under its own slot names. */
export function chain(...rules: UpdateRule[]): UpdateRule {
  return {
    name: rules.map((r) => r.name).join('+'),
    init(params) {
      const state: OptimizerState = {};
      for (const rule of rules) Object.assign(state, rule.init(params));
      return state;
    },
    update(updates, state, ctx: StepContext) {
      const next: OptimizerState = {};
      let current = updates;
      for (const rule of rules) {
        const r = rule.update(current, state, ctx);
        current = r.updates;
        Object.assign(next, r.state);
      }
      return { updates: current, state: next };
    },
  };
}
