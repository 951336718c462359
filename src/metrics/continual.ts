// Continual-learning metrics as pure functions of the accuracy matrix.
// R[i][j] = accuracy on task j after training task i (0-based here; T tasks).
// Frameworks disagree on names and formulas, so every function says which
// paper's definition it implements.

export type AccuracyMatrix = readonly (readonly number[])[];

function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

function check(R: AccuracyMatrix): number {
  const T = R.length;
  if (T === 0 || R.some((row) => row.length !== T))
    throw new Error(
      `accuracy matrix must be square and non-empty, got ${T} rows of lengths ${R.map((r) => r.length).join(',')}`,
    );
  return T;
}

/** Final average accuracy: ACC = mean_j R[T][j]. */
export function finalAverageAccuracy(R: AccuracyMatrix): number {
  const T = check(R);
  return mean(R[T - 1]);
}

/** Average incremental accuracy (Rebuffi et al., 2017): mean_k mean_{j<=k} R[k][j]. */
export function averageIncrementalAccuracy(R: AccuracyMatrix): number {
  const T = check(R);
  return mean(Array.from({ length: T }, (_, k) => mean(R[k].slice(0, k + 1))));
}

/** Backward transfer (Lopez-Paz & Ranzato, 2017): mean_{j<T} (R[T][j] - R[j][j]). Negative means forgetting. */
export function backwardTransfer(R: AccuracyMatrix): number {
  const T = check(R);
  if (T < 2) return NaN;
  return mean(Array.from({ length: T - 1 }, (_, j) => R[T - 1][j] - R[j][j]));
}

/** Forward transfer (Lopez-Paz & Ranzato, 2017): mean_{j>=2} (R[j-1][j] - b_j), b the untrained model's accuracies. */
export function forwardTransfer(R: AccuracyMatrix, untrained: readonly number[]): number {
  const T = check(R);
  if (T < 2) return NaN;
  if (untrained.length !== T)
    throw new Error(`need the untrained accuracy of each of the ${T} tasks, got ${untrained.length}`);
  return mean(Array.from({ length: T - 1 }, (_, i) => R[i][i + 1] - untrained[i + 1]));
}

/**
 * Average forgetting (Chaudhry et al., 2018; as in Mammoth and PyCIL):
 * mean_{j<T} (max_{l<T} R[l][j] - R[T][j]), best-before-final minus final.
 * (Avalanche's "forgetting" is first-minus-last instead and can be negative.)
 */
export function averageForgetting(R: AccuracyMatrix): number {
  const T = check(R);
  if (T < 2) return NaN;
  return mean(
    Array.from({ length: T - 1 }, (_, j) => {
      let best = -Infinity;
      for (let l = j; l < T - 1; l++) best = Math.max(best, R[l][j]);
      return best - R[T - 1][j];
    }),
  );
}

export interface ContinualSummary {
  tasks: number;
  /** Final average accuracy (mean of the last row). */
  acc: number;
  /** Average incremental accuracy. */
  avgIncAcc: number;
  /** Backward transfer (Lopez-Paz & Ranzato). */
  bwt: number;
  /** Forward transfer (Lopez-Paz & Ranzato); NaN without untrained accuracies. */
  fwt: number;
  /** Average forgetting (Chaudhry et al.). */
  forgetting: number;
}

export function summarize(R: AccuracyMatrix, untrained?: readonly number[]): ContinualSummary {
  return {
    tasks: R.length,
    acc: finalAverageAccuracy(R),
    avgIncAcc: averageIncrementalAccuracy(R),
    bwt: backwardTransfer(R),
    fwt: untrained ? forwardTransfer(R, untrained) : NaN,
    forgetting: averageForgetting(R),
  };
}

/**
 * Builds R (and b) from long-format eval rows of one run and one eval set. A model made after the last task (a soup)
 * has only R's last row: `finalOnly` accepts that, leaving the other rows NaN, so ACC is defined and the metrics of
 * the sequence (forgetting, BWT, FWT) are NaN rather than invented.
 */
export function accuracyMatrix(
  rows: readonly {
    trained_task: number;
    eval_task: number;
    eval_set: string;
    accuracy: number;
    alpha?: number | null;
  }[],
  evalSet = 'test',
  finalOnly = false,
): { R: number[][]; untrained?: number[] } | undefined {
  // WiSE-FT's interpolated models (rows with an alpha) are not the run's own.
  const sel = rows.filter((r) => r.eval_set === evalSet && r.alpha == null);
  const tasks = new Set(sel.map((r) => r.eval_task));
  const T = tasks.size;
  if (T === 0) return undefined;
  const R: number[][] = Array.from({ length: T }, () => new Array<number>(T).fill(NaN));
  const b = new Array<number>(T).fill(NaN);
  for (const r of sel) {
    if (r.eval_task >= T) return undefined;
    if (r.trained_task === -1) b[r.eval_task] = r.accuracy;
    else if (r.trained_task < T) R[r.trained_task][r.eval_task] = r.accuracy;
  }
  if ((finalOnly ? [R[T - 1]] : R).some((row) => row.some(Number.isNaN))) return undefined;
  return { R, untrained: b.some(Number.isNaN) ? undefined : b };
}
