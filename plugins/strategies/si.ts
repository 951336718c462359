// SI — Synaptic Intelligence (Zenke, Poole & Ganguli, 2017). During a task
// each parameter's contribution to the drop in loss is integrated along the
// optimisation path, ω += −g·Δθ per step; at the task's end its importance
// is Ω += ω / ((θ_end − θ_start)² + ξ), and later tasks add
// c·Σ Ω·(θ − θ*)² to the loss (θ* the weights at the last task's end).
// As in van de Ven & Tolias' reference code, g is the gradient the optimizer
// was given (of the total loss, penalty included).
import { definePlugin, ImportancePenalty, o, type OptionsInput, tf } from '../../src/plugin-api.js';
import type { Snapshot } from '../../src/contracts/snapshot.js';
import type { NamedTensors } from '../../src/contracts/optimizer.js';

const options = {
  c: o.number({ description: 'strength of the surrogate loss (c)', default: 0.1, min: 0 }),
  xi: o.number({ description: 'damping ξ of the importance denominator', default: 0.1, min: 0, exclusiveMin: true }),
};

declare module '../../src/plugin/kinds.js' {
  interface StrategyPlugins {
    si: OptionsInput<typeof options>;
  }
}

/** Step-state keys: the running ω, the weights before the step, the weights at the task's start. */
const W = 'omega/';
const PREV = 'prev/';
const START = 'start/';

export default definePlugin({
  kind: 'strategy',
  name: 'si',
  description: 'Synaptic Intelligence: importance from the path integral of the gradient along training',
  options,
  create(opts) {
    const penalty = new ImportancePenalty();
    return {
      name: 'si',
      onTaskStart({ model }) {
        const state: Record<string, tf.Tensor> = {};
        for (const [n, v] of model.params) {
          state[W + n] = tf.zerosLike(v);
          state[PREV + n] = tf.clone(v);
          state[START + n] = tf.clone(v);
        }
        return { state };
      },
      afterStep({ params, grads, state }) {
        const next: Record<string, tf.Tensor> = {};
        for (const [n, p] of Object.entries(params)) {
          next[START + n] = state[START + n];
          // A frozen parameter (no gradient) does not move: its path integral stays.
          if (!grads[n]) {
            next[W + n] = state[W + n];
            next[PREV + n] = state[PREV + n];
            continue;
          }
          next[W + n] = tf.sub(state[W + n], tf.mul(grads[n], tf.sub(p, state[PREV + n])));
          next[PREV + n] = tf.clone(p);
        }
        return next;
      },
      onTaskEnd({ model, state }) {
        const omega: NamedTensors = {};
        for (const [n, v] of model.params)
          omega[n] = tf.tidy(() => tf.div(state[W + n], tf.add(tf.square(tf.sub(v, state[START + n])), opts.xi)));
        penalty.consolidate(omega, model, { decay: 1 });
      },
      loss({ params }) {
        if (opts.c === 0) return undefined;
        const term = penalty.term(params);
        return term ? tf.mul(term, opts.c) : undefined;
      },
      checkpoint: () => ({ penalty: penalty.snapshot() }),
      restore(s) {
        penalty.restore(s.penalty as Snapshot);
      },
      dispose: () => penalty.dispose(),
    };
  },
});
