// EWC++ and RWalk (Chaudhry et al., ECCV 2018, "Riemannian Walk for
// Incremental Learning"), shared by the `ewcpp` and `rwalk` plugins, with the
// paper's, its authors' code's and Avalanche's conventions. The diagonal
// Fisher is a running average over training, F ← α·g² + (1 − α)·F after every
// step (α weighs the newest squared gradient), instead of a pass over stored
// examples at each task's end; g is the gradient of the loss without this
// strategy's own penalty (the gradient the optimizer was given, less the
// penalty's closed-form gradient), as the authors' code takes the task loss's.
// RWalk adds a path-integral score per parameter: the loss drop Σ −g·Δθ over
// an interval of Δt steps, divided by ½·F·(θ − θ_start)² + ε over that
// interval (its KL distance), added to the score every Δt steps when
// positive; at a task's end the task's score is averaged with the earlier
// tasks'. After a task the penalty is c·Σ Ω·(θ − θ*)², θ* the weights then:
// EWC++ has Ω = F and c = λ/2; RWalk Ω = F + s̄ and c = λ, each of F and s̄
// divided by its largest entry over all parameters (`normalize`, as the
// authors' code and Avalanche do) so that λ does not depend on their scales.
import { tf } from '../tensor/tf.js';
import type { Snapshot } from '../contracts/snapshot.js';
import type { NamedTensors } from '../contracts/optimizer.js';
import type { Strategy, StrategyState } from '../contracts/strategy.js';
import { ImportancePenalty } from './penalty.js';
import { o } from '../plugin/options.js';

/** The option EWC++ and RWalk share: the running average's weight on the newest squared gradient. */
export const runningFisherAlpha = o.number({
  description: 'weight α of the newest squared gradient in the running Fisher, F ← α·g² + (1 − α)·F',
  default: 0.9,
  min: 0,
  max: 1,
  exclusiveMin: true,
});

export interface RunningFisherOptions {
  lambda: number;
  /** Weight of the newest squared gradient in the running average. */
  alpha: number;
  /** RWalk's path-integral score; absent: EWC++. */
  score?: {
    epsilon: number;
    /** Steps per score update (Δt). */
    interval: number;
    /** Divide the Fisher and the score each by its largest entry before they weigh the penalty. */
    normalize: boolean;
  };
}

/**
 * Step-state keys: the running Fisher, the weights before the step; RWalk: the task's score, the loss drop since the
 * interval began and the weights then.
 */
const F = 'fisher/';
const PREV = 'prev/';
const S = 'score/';
const GAIN = 'gain/';
const START = 'start/';
const KEYS = [F, PREV, S, GAIN, START];

/**
 * One step of the running Fisher and, for RWalk, of the score (inside the step): the new step state. `own`: the
 * closed-form gradient of this strategy's penalty at the weights before the step (already scaled by its factor),
 * taken off the optimizer's gradient; undefined while there is no penalty.
 */
export function runningFisherStep(
  { step, params, grads }: { step: number; params: NamedTensors; grads: NamedTensors },
  state: StrategyState,
  opts: RunningFisherOptions,
  own?: NamedTensors,
): Record<string, tf.Tensor> {
  const next: Record<string, tf.Tensor> = {};
  for (const [n, p] of Object.entries(params)) {
    const given = grads[n];
    // A frozen parameter (no gradient) keeps its Fisher and score.
    if (!given) {
      for (const k of KEYS) if (state[k + n]) next[k + n] = state[k + n];
      continue;
    }
    const g = own?.[n] ? tf.sub(given, own[n]) : given;
    const fisher = tf.add(tf.mul(tf.square(g), opts.alpha), tf.mul(state[F + n], 1 - opts.alpha));
    next[F + n] = fisher;
    next[PREV + n] = tf.clone(p);
    if (!opts.score) continue;
    const gain = tf.sub(state[GAIN + n], tf.mul(g, tf.sub(p, state[PREV + n])));
    if (step % opts.score.interval !== 0) {
      next[GAIN + n] = gain;
      next[S + n] = state[S + n];
      next[START + n] = state[START + n];
      continue;
    }
    const distance = tf.add(tf.mul(tf.mul(fisher, tf.square(tf.sub(p, state[START + n]))), 0.5), opts.score.epsilon);
    next[S + n] = tf.add(state[S + n], tf.relu(tf.div(gain, distance)));
    next[GAIN + n] = tf.zerosLike(p);
    next[START + n] = tf.clone(p);
  }
  return next;
}

/** Each tensor divided by the largest entry over all of them (outside a step; all zero stays zero). */
function normalized(named: NamedTensors): NamedTensors {
  return tf.tidy(() => {
    const all = Object.values(named);
    const largest = tf.maximum(tf.max(tf.stack(all.map((t) => tf.max(t)))), 1e-30);
    return Object.fromEntries(Object.entries(named).map(([n, t]) => [n, tf.div(t, largest)]));
  });
}

export function runningFisherStrategy(name: string, opts: RunningFisherOptions): Strategy {
  const penalty = new ImportancePenalty();
  /** c in c·Σ Ω·(θ − θ*)². */
  const factor = opts.score ? opts.lambda : opts.lambda / 2;
  /** RWalk: the score averaged over the tasks so far (outside the step state: it changes at task ends). */
  let averaged: NamedTensors | undefined;
  const release = () => {
    if (averaged) tf.dispose(Object.values(averaged));
    averaged = undefined;
  };
  return {
    name,
    onTaskStart({ model, state }) {
      const next: Record<string, tf.Tensor> = {};
      for (const [n, v] of model.params) {
        // The running Fisher carries over from task to task; the score and the path start afresh.
        next[F + n] = state[F + n] ?? tf.zerosLike(v);
        next[PREV + n] = tf.clone(v);
        if (!opts.score) continue;
        next[S + n] = tf.zerosLike(v);
        next[GAIN + n] = tf.zerosLike(v);
        next[START + n] = tf.clone(v);
      }
      return { state: next };
    },
    afterStep({ step, params, grads, state }) {
      const before: NamedTensors = {};
      for (const n of Object.keys(params)) before[n] = state[PREV + n];
      const own = opts.lambda > 0 ? penalty.gradient(before, factor) : undefined;
      return runningFisherStep({ step, params, grads }, state, opts, own);
    },
    onTaskEnd({ model, state }) {
      const names = [...model.params.keys()];
      const fisher: NamedTensors = Object.fromEntries(names.map((n) => [n, state[F + n]]));
      let importance: NamedTensors;
      if (opts.score) {
        const previous = averaged;
        averaged = {};
        for (const n of names)
          averaged[n] = tf.keep(
            tf.tidy(() => (previous ? tf.mul(tf.add(previous[n], state[S + n]), 0.5) : tf.clone(state[S + n]))),
          );
        if (previous) tf.dispose(Object.values(previous));
        const score = averaged;
        importance = tf.tidy(() => {
          const [f, s] = opts.score!.normalize ? [normalized(fisher), normalized(score)] : [fisher, score];
          return Object.fromEntries(names.map((n) => [n, tf.add(f[n], s[n])]));
        });
      } else importance = Object.fromEntries(names.map((n) => [n, tf.clone(fisher[n])]));
      // One term: this task's importance replaces the last, anchored at the weights now.
      penalty.consolidate(importance, model, { decay: 0 });
    },
    loss({ params }) {
      if (opts.lambda === 0) return undefined;
      const term = penalty.term(params);
      return term ? tf.mul(term, factor) : undefined;
    },
    checkpoint: () => ({ penalty: penalty.snapshot(), averaged: averaged ? { ...averaged } : null }),
    restore(s) {
      penalty.restore(s.penalty as Snapshot);
      release();
      const saved = s.averaged as Snapshot | null;
      if (saved) {
        const copies: NamedTensors = {};
        for (const [n, t] of Object.entries(saved)) copies[n] = tf.keep(tf.clone(t as tf.Tensor));
        averaged = copies;
      }
    },
    dispose() {
      penalty.dispose();
      release();
    },
  };
}
