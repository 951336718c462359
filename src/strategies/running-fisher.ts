// EWC++ and RWalk (Chaudhry et al., ECCV 2018, "Riemannian Walk for
// Incremental Learning"), shared by the `ewcpp` and `rwalk` plugins. The
// diagonal Fisher is a running average over training, F ← α·F + (1 − α)·g²
// after every step (g: the gradient the optimizer was given), instead of a
// pass over stored examples at each task's end. RWalk adds to it a
// path-integral score per parameter, s += (−g·Δθ) / (½·F·Δθ² + ε) each step
// (negative contributions count as zero: an importance is never negative),
// averaged with the earlier tasks' score at each task's end. After a task the
// penalty is c·Σ Ω·(θ − θ*)², θ* the weights then: EWC++ has Ω = F and c = λ/2,
// RWalk Ω = F + s̄ and c = λ, as the paper writes them.
import { tf } from '../tensor/tf.js';
import type { Snapshot } from '../contracts/snapshot.js';
import type { NamedTensors } from '../contracts/optimizer.js';
import type { Strategy, StrategyState } from '../contracts/strategy.js';
import { ImportancePenalty } from './penalty.js';
import { o } from '../plugin/options.js';

/** The option EWC++ and RWalk share: the running average's weight on the old Fisher. */
export const runningFisherAlpha = o.number({
  description: 'weight of the old Fisher in the running average F ← α·F + (1 − α)·g²',
  default: 0.9,
  min: 0,
  max: 1,
  exclusiveMax: true,
});

export interface RunningFisherOptions {
  lambda: number;
  /** Weight of the old Fisher in the running average. */
  alpha: number;
  /** RWalk's path-integral score; absent: EWC++. */
  score?: { epsilon: number };
}

/** Step-state keys: the running Fisher, the task's score, the weights before the step. */
const F = 'fisher/';
const S = 'score/';
const PREV = 'prev/';

/** One step of the running Fisher and, for RWalk, of the score (inside the step): the new step state. */
export function runningFisherStep(
  params: NamedTensors,
  grads: NamedTensors,
  state: StrategyState,
  opts: RunningFisherOptions,
): Record<string, tf.Tensor> {
  const next: Record<string, tf.Tensor> = {};
  for (const [n, p] of Object.entries(params)) {
    const g = grads[n];
    // A frozen parameter (no gradient) keeps its Fisher and score.
    if (!g) {
      for (const k of [F, S, PREV]) if (state[k + n]) next[k + n] = state[k + n];
      continue;
    }
    const fisher = tf.add(tf.mul(state[F + n], opts.alpha), tf.mul(tf.square(g), 1 - opts.alpha));
    next[F + n] = fisher;
    if (!opts.score) continue;
    const moved = tf.sub(p, state[PREV + n]);
    const gain = tf.neg(tf.mul(g, moved));
    const curvature = tf.add(tf.mul(tf.mul(fisher, tf.square(moved)), 0.5), opts.score.epsilon);
    next[S + n] = tf.add(state[S + n], tf.relu(tf.div(gain, curvature)));
    next[PREV + n] = tf.clone(p);
  }
  return next;
}

export function runningFisherStrategy(name: string, opts: RunningFisherOptions): Strategy {
  const penalty = new ImportancePenalty();
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
        if (!opts.score) continue;
        next[S + n] = tf.zerosLike(v);
        next[PREV + n] = tf.clone(v);
      }
      return { state: next };
    },
    afterStep: ({ params, grads, state }) => runningFisherStep(params, grads, state, opts),
    onTaskEnd({ model, state }) {
      const importance: NamedTensors = {};
      if (opts.score) {
        const previous = averaged;
        averaged = {};
        for (const n of model.params.keys())
          averaged[n] = tf.keep(
            tf.tidy(() => (previous ? tf.mul(tf.add(previous[n], state[S + n]), 0.5) : tf.clone(state[S + n]))),
          );
        if (previous) tf.dispose(Object.values(previous));
      }
      for (const n of model.params.keys())
        importance[n] = tf.tidy(() => (averaged ? tf.add(state[F + n], averaged[n]) : tf.clone(state[F + n])));
      // One term: this task's importance replaces the last, anchored at the weights now.
      penalty.consolidate(importance, model, { decay: 0 });
    },
    loss({ params }) {
      if (opts.lambda === 0) return undefined;
      const term = penalty.term(params);
      return term ? tf.mul(term, opts.score ? opts.lambda : opts.lambda / 2) : undefined;
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
