// The quadratic penalty that EWC, SI and MAS share: after a task, an
// importance Ω per parameter and the weights θ* reached; later tasks add
// Σ_k Σ Ω_k·(θ − θ*_k)² to the loss. Methods differ only in how Ω is
// estimated and whether a task's importance joins a running one. Kept term
// by term (checkpoints, importances) and summed as one (the step's cost).
import { tf } from '../tensor/tf.js';
import type { NamedTensors } from '../contracts/optimizer.js';
import type { Model } from '../contracts/model.js';
import type { Snapshot } from '../contracts/snapshot.js';

interface Consolidated {
  importance: NamedTensors;
  anchor: NamedTensors;
}

/**
 * Several terms as one: Σ_k Ω_k·(θ − θ*_k)² = A·(θ − m)² + c with A = Σ_k Ω_k,
 * m = Σ_k Ω_k θ*_k / A (0 where A is 0) and c = Σ_k Σ Ω_k·(θ*_k − m)² — the
 * same value and gradient (up to float32 round-off) for one term's cost per
 * step instead of one per task.
 */
interface Combined {
  weight: NamedTensors;
  centre: NamedTensors;
  offset: tf.Scalar;
}

export class ImportancePenalty {
  private terms: Consolidated[] = [];
  private combined?: Combined;

  get count(): number {
    return this.terms.length;
  }

  /**
   * Records a task's importance (tensors created outside any step, now owned
   * here) at the model's current weights. `merge`: one running term,
   * Ω ← decay·Ω_old + Ω_new, anchored at the latest weights (online EWC,
   * SI, MAS); otherwise one term per task (EWC as published).
   */
  consolidate(importance: NamedTensors, model: Model, merge: { decay: number } | false): void {
    const anchor: NamedTensors = {};
    for (const [n, v] of model.params) anchor[n] = tf.keep(tf.clone(v));
    for (const t of Object.values(importance)) tf.keep(t);
    if (merge && this.terms.length) {
      const old = this.terms.pop()!;
      const merged: NamedTensors = {};
      for (const n of Object.keys(importance))
        merged[n] = tf.keep(tf.tidy(() => tf.add(tf.mul(old.importance[n], merge.decay), importance[n])));
      tf.dispose([...Object.values(importance), ...Object.values(old.importance), ...Object.values(old.anchor)]);
      this.terms.push({ importance: merged, anchor });
    } else this.terms.push({ importance, anchor });
    this.combine();
  }

  /** Rebuilds the combined term from the recorded ones (outside any step). */
  private combine(): void {
    this.releaseCombined();
    if (this.terms.length < 2) return;
    const names = Object.keys(this.terms[0].importance);
    const weight: NamedTensors = {};
    const centre: NamedTensors = {};
    for (const n of names) {
      [weight[n], centre[n]] = tf.tidy(() => {
        const a = tf.addN(this.terms.map((t) => t.importance[n]));
        const b = tf.addN(this.terms.map((t) => tf.mul(t.importance[n], t.anchor[n])));
        const positive = tf.greater(a, 0);
        return [
          tf.keep(a),
          tf.keep(tf.where(positive, tf.div(b, tf.where(positive, a, tf.onesLike(a))), tf.zerosLike(a))),
        ];
      });
    }
    const offset = tf.keep(
      tf.tidy(() =>
        tf.addN(
          this.terms.flatMap((t) =>
            names.map((n) => tf.sum(tf.mul(t.importance[n], tf.square(tf.sub(t.anchor[n], centre[n]))))),
          ),
        ),
      ) as tf.Scalar,
    );
    this.combined = { weight, centre, offset };
  }

  private releaseCombined(): void {
    if (!this.combined) return;
    tf.dispose([...Object.values(this.combined.weight), ...Object.values(this.combined.centre), this.combined.offset]);
    this.combined = undefined;
  }

  /** Σ Ω·(θ − θ*)² over every recorded term (inside the tape), or undefined before the first. */
  term(params: NamedTensors): tf.Tensor | undefined {
    if (this.terms.length === 0) return undefined;
    const combined = this.combined;
    if (combined) {
      const parts = Object.entries(combined.weight).map(([n, w]) =>
        tf.sum(tf.mul(w, tf.square(tf.sub(params[n], combined.centre[n])))),
      );
      return tf.add(parts.length === 1 ? parts[0] : tf.addN(parts), combined.offset);
    }
    let total: tf.Tensor | undefined;
    for (const t of this.terms) {
      for (const [n, w] of Object.entries(t.importance)) {
        const part = tf.sum(tf.mul(w, tf.square(tf.sub(params[n], t.anchor[n]))));
        total = total ? tf.add(total, part) : part;
      }
    }
    return total;
  }

  /**
   * ∂/∂θ of `scale`·`term`, 2·scale·Σ_k Ω_k·(θ − θ*_k) (= 2·scale·A·(θ − m) combined),
   * by parameter name, or undefined before the first term: what a strategy subtracts to
   * recover the gradient of the loss without its own penalty.
   */
  gradient(params: NamedTensors, scale = 1): NamedTensors | undefined {
    if (this.terms.length === 0) return undefined;
    const weighted = this.combined ? [{ importance: this.combined.weight, anchor: this.combined.centre }] : this.terms;
    const out: NamedTensors = {};
    for (const n of Object.keys(weighted[0].importance)) {
      if (!params[n]) continue;
      const parts = weighted.map((t) => tf.mul(t.importance[n], tf.sub(params[n], t.anchor[n])));
      out[n] = tf.mul(parts.length === 1 ? parts[0] : tf.addN(parts), 2 * scale);
    }
    return out;
  }

  snapshot(): Snapshot {
    return { terms: this.terms.map((t) => ({ importance: { ...t.importance }, anchor: { ...t.anchor } })) };
  }

  /** Replaces the recorded terms with copies of a snapshot's. */
  restore(s: Snapshot): void {
    this.dispose();
    const copy = (named: Snapshot): NamedTensors =>
      Object.fromEntries(Object.entries(named).map(([n, t]) => [n, tf.keep(tf.clone(t as tf.Tensor))]));
    this.terms = (s.terms as Snapshot[]).map((t) => ({
      importance: copy(t.importance as Snapshot),
      anchor: copy(t.anchor as Snapshot),
    }));
    this.combine();
  }

  /** Σ_k Σ Ω_k·(θ − θ*_k)² term by term, one per recorded task (what the combined term equals; tests). */
  termByTerm(params: NamedTensors): tf.Tensor | undefined {
    const combined = this.combined;
    this.combined = undefined;
    try {
      return this.term(params);
    } finally {
      this.combined = combined;
    }
  }

  /** The importances as they stand (tests, diagnostics). */
  importances(): readonly NamedTensors[] {
    return this.terms.map((t) => t.importance);
  }

  dispose(): void {
    for (const t of this.terms) tf.dispose([...Object.values(t.importance), ...Object.values(t.anchor)]);
    this.terms = [];
    this.releaseCombined();
  }
}
