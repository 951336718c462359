// The closed-form parts of the methods that learn on a frozen pre-trained
// backbone, on the host in float64: RanPAC's ridge classifier (McDonnell et
// al., 2023) and its choice of λ, and the class Gaussians SLCA's classifier
// alignment samples from (Zhang et al., 2023). The backend accumulates the
// Gram matrices (float32 matrix products over every training example); what
// is solved here is small (the projection width or the feature size squared)
// and happens once per task, never in a step.

/**
 * The lower Cholesky factor L (row-major n×n, A = L·Lᵀ) of a symmetric
 * positive-definite matrix. Throws when A is not positive definite (a ridge
 * of 0 on rank-deficient features).
 */
export function cholesky(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      // Rows i and j of L are contiguous: the inner product runs along memory.
      let s = a[ri + j];
      for (let k = 0; k < j; k++) s -= l[ri + k] * l[rj + k];
      if (i === j) {
        if (!(s > 0)) throw new Error(`the matrix is not positive definite (pivot ${i} is ${s})`);
        l[ri + i] = Math.sqrt(s);
      } else {
        l[ri + j] = s / l[rj + j];
      }
    }
  }
  return l;
}

/** Solves L·Lᵀ·X = B for X [n, k] (B row-major [n, k]) given the Cholesky factor L. */
export function choleskySolve(l: Float64Array, n: number, b: Float64Array, k: number): Float64Array {
  const x = Float64Array.from(b);
  // Forward: L·Y = B.
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < i; p++) {
      const lip = l[i * n + p];
      if (lip === 0) continue;
      for (let c = 0; c < k; c++) x[i * k + c] -= lip * x[p * k + c];
    }
    const d = l[i * n + i];
    for (let c = 0; c < k; c++) x[i * k + c] /= d;
  }
  // Backward: Lᵀ·X = Y.
  for (let i = n - 1; i >= 0; i--) {
    for (let p = i + 1; p < n; p++) {
      const lpi = l[p * n + i];
      if (lpi === 0) continue;
      for (let c = 0; c < k; c++) x[i * k + c] -= lpi * x[p * k + c];
    }
    const d = l[i * n + i];
    for (let c = 0; c < k; c++) x[i * k + c] /= d;
  }
  return x;
}

/** The normal equations of a least-squares fit H·W ≈ Y: G = HᵀH [m, m] and Q = HᵀY [m, k], row-major. */
export interface RidgeSystem {
  readonly gram: Float64Array;
  readonly q: Float64Array;
  readonly m: number;
  readonly k: number;
}

/** The ridge-regression weights W [m, k] = (G + λI)⁻¹·Q: the minimiser of ‖H·W − Y‖² + λ‖W‖². */
export function ridgeSolve({ gram, q, m, k }: RidgeSystem, ridge: number): Float64Array {
  const a = Float64Array.from(gram);
  for (let i = 0; i < m; i++) a[i * m + i] += ridge;
  return choleskySolve(cholesky(a, m), m, q, k);
}

/** RanPAC's candidates for λ: 10⁻⁸ … 10⁸. */
export const RIDGE_CANDIDATES: readonly number[] = Array.from({ length: 17 }, (_, i) => 10 ** (i - 8));

/** What a choice of λ was made from: the held-out rows' features and labels. */
export interface HeldOut {
  /** [rows, m] row-major. */
  readonly h: Float32Array | Float64Array;
  readonly labels: Int32Array;
  readonly rows: number;
}

/**
 * RanPAC's choice of λ: for each candidate, fit on one part of the task's
 * examples (`fit`) and score the mean squared error of the
 * held-out part's outputs against its one-hot targets (k classes); the
 * smallest error wins (the first, on ties). A candidate too small to solve
 * scores +∞.
 */
export function selectRidge(
  fit: RidgeSystem,
  heldOut: HeldOut,
  candidates: readonly number[] = RIDGE_CANDIDATES,
): { ridge: number; losses: number[] } {
  const { m, k } = fit;
  const losses = candidates.map((ridge) => {
    let w: Float64Array;
    try {
      w = ridgeSolve(fit, ridge);
    } catch {
      return Infinity;
    }
    let sum = 0;
    for (let r = 0; r < heldOut.rows; r++) {
      const row = r * m;
      for (let c = 0; c < k; c++) {
        let y = 0;
        for (let i = 0; i < m; i++) y += heldOut.h[row + i] * w[i * k + c];
        const target = heldOut.labels[r] === c ? 1 : 0;
        sum += (y - target) ** 2;
      }
    }
    return sum / Math.max(1, heldOut.rows * k);
  });
  let best = 0;
  for (let i = 1; i < losses.length; i++) if (losses[i] < losses[best]) best = i;
  if (!Number.isFinite(losses[best])) throw new Error('no ridge candidate gives a solvable system');
  return { ridge: candidates[best], losses };
}

/**
 * A class's covariance as SLCA samples from it: the unbiased estimate
 * S/(n − 1) + εI from the scatter matrix S = Σ(x − μ)(x − μ)ᵀ [d, d] of n ≥ 2
 * feature vectors (SLCA adds ε = 1e-4, which also keeps it positive definite
 * when n ≤ d), and its Cholesky factor, which turns standard normal draws z
 * into samples μ + L·z.
 */
export function classCovariance(
  scatter: Float64Array,
  d: number,
  n: number,
  epsilon: number,
): { covariance: Float64Array; factor: Float64Array } {
  if (n < 2) throw new Error(`a class covariance needs at least 2 examples, got ${n}`);
  const covariance = scatter.map((v) => v / (n - 1));
  for (let i = 0; i < d; i++) covariance[i * d + i] += epsilon;
  return { covariance, factor: cholesky(covariance, d) };
}
