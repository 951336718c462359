// GEM's quadratic program (Lopez-Paz & Ranzato, 2017, eq. 10–13), solved
// exactly on the backend. Given the step's gradient g and the memory
// gradients G = [g_1 … g_t] of earlier tasks, GEM takes the projection
// z = Gᵀv + g whose dual variables v solve
//     min_v ½ vᵀ(GGᵀ + εI)v + (Gg)ᵀv   subject to  v ≥ margin
// (the reference code's `project2cone2`, with quadprog). With v = u + margin
// it is a non-negative quadratic program in u, whose KKT conditions single
// out one active set S: u_S = −P_SS⁻¹ c_S ≥ 0, u elsewhere 0, (Pu + c) ≥ 0
// off S. For t ≤ MAX_GEM_TASKS all 2^t sets are solved at once (a batched
// Gauss–Jordan elimination: P_SS is positive definite, so no pivoting) and
// the one that satisfies the conditions is taken — no iteration, no read-back.
import { tf } from '../tensor/tf.js';

export const MAX_GEM_TASKS = 10;

/** Every subset of t items as rows of 0/1 ([2^t, t]), on the host. */
export function subsets(t: number): Float32Array {
  const k = 1 << t;
  const out = new Float32Array(k * t);
  for (let s = 0; s < k; s++) for (let i = 0; i < t; i++) out[s * t + i] = (s >> i) & 1;
  return out;
}

/**
 * The dual solution v ([t]) for P = GGᵀ + εI ([t, t]) and q = Gg ([t]).
 * `masks` is `subsets(t)` uploaded once. Call inside a tidy.
 */
export function solveGemDual(P: tf.Tensor2D, q: tf.Tensor1D, margin: number, masks: tf.Tensor2D): tf.Tensor1D {
  const t = q.shape[0];
  const K = masks.shape[0];
  // c = q + P·(margin·1)
  const c = tf.add(q, tf.mul(tf.sum(P, 1), margin));
  const d = tf.reshape(masks, [K, t, 1]);
  const dT = tf.reshape(masks, [K, 1, t]);
  const eye = tf.reshape(tf.eye(t), [1, t, t]);
  // A_S = D P D + (I − D): the free block of P, identity on the fixed coordinates.
  const A = tf.add(tf.mul(tf.mul(d, dT), tf.reshape(P, [1, t, t])), tf.mul(eye, tf.sub(1, d)));
  const rhs = tf.neg(tf.mul(d, tf.reshape(c, [1, t, 1])));
  let aug = tf.concat([A, rhs], 2); // [K, t, t+1]
  const identity = tf.eye(t);
  for (let k = 0; k < t; k++) {
    const pivot = tf.div(tf.slice(aug, [0, k, 0], [K, 1, t + 1]), tf.slice(aug, [0, k, k], [K, 1, 1]));
    const col = tf.slice(aug, [0, 0, k], [K, t, 1]);
    const onRow = tf.reshape(tf.slice(identity, [k, 0], [1, t]), [1, t, 1]);
    aug = tf.add(tf.sub(aug, tf.mul(col, pivot)), tf.mul(onRow, pivot));
  }
  // [K, t]; tiny negatives from rounding clipped.
  const u = tf.relu(tf.reshape(tf.slice(aug, [0, 0, t], [K, t, 1]), [K, t]));
  const rawU = tf.reshape(tf.slice(aug, [0, 0, t], [K, t, 1]), [K, t]);
  const grad = tf.add(tf.matMul(u, P), tf.reshape(c, [1, t])); // (Pu + c) per set, P symmetric
  // Violation of the KKT conditions per set: negative u on S, negative (Pu + c) off S.
  const scale = tf.add(tf.max(tf.abs(c)), 1e-12);
  const violation = tf.add(
    tf.max(tf.mul(tf.relu(tf.neg(rawU)), masks), 1),
    tf.max(tf.mul(tf.relu(tf.neg(grad)), tf.sub(1, masks)), 1),
  );
  const best = tf.argMin(tf.div(violation, scale));
  return tf.add<tf.Tensor1D>(tf.reshape(tf.gather(u, best), [t]), margin);
}
