// Herding (Welling, 2009), as iCaRL selects exemplars (Rebuffi et al., 2017,
// Algorithm 4): with L2-normalised features φ and their mean μ, the k-th
// exemplar is the unchosen example x that brings the mean of the chosen ones
// closest to μ: argmin ‖μ − (φ(x) + Σ_{j<k} φ(p_j)) / k‖. The result is a
// priority order: its first m entries are the best m exemplars.

/** Indices of the first `m` examples in herding order; `features` is [n × dim] row-major. */
export function herdingOrder(features: Float32Array, dim: number, m: number): number[] {
  const n = features.length / dim;
  if (!Number.isInteger(n)) throw new Error(`herding: ${features.length} values are not rows of ${dim}`);
  const phi = new Float64Array(features.length);
  const mu = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += features[i * dim + d] ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let d = 0; d < dim; d++) {
      phi[i * dim + d] = features[i * dim + d] / norm;
      mu[d] += phi[i * dim + d] / n;
    }
  }
  const chosen: number[] = [];
  const taken = new Uint8Array(n);
  const sum = new Float64Array(dim);
  for (let k = 1; k <= Math.min(m, n); k++) {
    let best = -1;
    let bestDist = Infinity;
    for (let i = 0; i < n; i++) {
      if (taken[i]) continue;
      let dist = 0;
      for (let d = 0; d < dim; d++) dist += (mu[d] - (sum[d] + phi[i * dim + d]) / k) ** 2;
      if (dist < bestDist) {
        bestDist = dist;
        best = i;
      }
    }
    taken[best] = 1;
    chosen.push(best);
    for (let d = 0; d < dim; d++) sum[d] += phi[best * dim + d];
  }
  return chosen;
}
