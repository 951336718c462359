// Metrics of continual evaluation: the accuracy of every task scored during
// training (eval set 'continual', `eval.every`), not only after each task.
// Pure functions of one run's rows; each says whose definition it follows.
// A point is one evaluation of every task at one moment of training: its
// examples seen, the task being trained (-1: none yet) and each task's
// accuracy. A task counts as "seen" at a point once its training has begun.

/** One run's continual-evaluation row, as evals.arrow holds it. */
export interface ContinualRow {
  readonly trained_task: number;
  readonly eval_task: number;
  readonly eval_set: string;
  readonly accuracy: number;
  readonly seen?: number | null;
  readonly alpha?: number | null;
}

export interface CurvePoint {
  /** Training examples seen when the point was scored. */
  readonly seen: number;
  /** The task being trained (the last one whose training had begun); -1 before training. */
  readonly task: number;
  /** Accuracy per task, by task index. */
  readonly accuracy: readonly number[];
}

/**
 * The run's points in training order from its 'continual' rows (undefined without any). Two evaluations at the same
 * moment (a due point that is also a task's end) count once.
 */
export function continualCurve(rows: readonly ContinualRow[], evalSet = 'continual'): CurvePoint[] | undefined {
  const sel = rows.filter((r) => r.eval_set === evalSet && r.alpha == null && r.seen != null);
  if (sel.length === 0) return undefined;
  const tasks = Math.max(...sel.map((r) => r.eval_task)) + 1;
  const points = new Map<string, { seen: number; task: number; accuracy: number[] }>();
  for (const r of sel) {
    const key = `${r.seen}:${r.trained_task}`;
    const p = points.get(key) ?? { seen: r.seen!, task: r.trained_task, accuracy: new Array<number>(tasks).fill(NaN) };
    p.accuracy[r.eval_task] = r.accuracy;
    points.set(key, p);
  }
  const ordered = [...points.values()].sort((a, b) => a.seen - b.seen || a.task - b.task);
  // The same moment scored as the end of one task and the start of the next keeps the later label.
  return ordered.filter((p, i) => i === ordered.length - 1 || ordered[i + 1].seen !== p.seen);
}

function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/** Anytime accuracy at a point: the mean accuracy over the tasks seen so far (NaN before training). */
export function anytimeAccuracy(p: CurvePoint): number {
  return p.task < 0 ? NaN : mean(p.accuracy.slice(0, p.task + 1));
}

/**
 * Average anytime accuracy (AAA; Caccia et al., ICLR 2022): the mean of the anytime accuracy over every point after
 * training began.
 */
export function averageAnytimeAccuracy(curve: readonly CurvePoint[]): number {
  return mean(curve.filter((p) => p.task >= 0).map(anytimeAccuracy));
}

/**
 * A_AUC (Koh et al., ICLR 2022): the area under the anytime-accuracy curve over training examples, Σ_n a(n)·Δn, each
 * point's accuracy times the examples since the previous point — divided by the examples seen, so it reads as an
 * accuracy.
 */
export function accuracyAuc(curve: readonly CurvePoint[]): number {
  let area = 0;
  let span = 0;
  for (let i = 1; i < curve.length; i++) {
    const a = anytimeAccuracy(curve[i]);
    const dn = curve[i].seen - curve[i - 1].seen;
    if (!Number.isFinite(a) || dn <= 0) continue;
    area += a * dn;
    span += dn;
  }
  return span > 0 ? area / span : NaN;
}

/** Per task, the last point at which it was the task being trained (its end); -1 for a task never trained. */
function taskEnds(curve: readonly CurvePoint[], tasks: number): number[] {
  const ends = new Array<number>(tasks).fill(-1);
  curve.forEach((p, i) => {
    if (p.task >= 0) ends[p.task] = i;
  });
  return ends;
}

/**
 * min-ACC (De Lange et al., ICLR 2023) after the last task T: mean over the earlier tasks j of the lowest accuracy on
 * j at any point after j's training ended.
 */
export function minAccuracy(curve: readonly CurvePoint[]): number {
  const T = curve.at(-1)!.accuracy.length;
  const ends = taskEnds(curve, T);
  const mins: number[] = [];
  for (let j = 0; j < T - 1; j++)
    if (ends[j] >= 0 && ends[j] < curve.length - 1)
      mins.push(Math.min(...curve.slice(ends[j] + 1).map((p) => p.accuracy[j])));
  return mean(mins);
}

/**
 * WC-ACC (De Lange et al., ICLR 2023) after the last task T: (1/T)·a_T + (1 − 1/T)·min-ACC, a_T the final accuracy
 * on the last task — a lower bound on the accuracy of every task at any time.
 */
export function worstCaseAccuracy(curve: readonly CurvePoint[]): number {
  const last = curve.at(-1)!;
  const T = last.accuracy.length;
  if (T === 1) return last.accuracy[0];
  return last.accuracy[T - 1] / T + (1 - 1 / T) * minAccuracy(curve);
}

/**
 * Windowed forgetting WF^w (De Lange et al., ICLR 2023): per earlier task, the largest drop of its accuracy from one
 * point to a later one at most `window` points on, after its training ended; averaged over those tasks.
 */
export function windowedForgetting(curve: readonly CurvePoint[], window: number): number {
  const T = curve.at(-1)!.accuracy.length;
  const ends = taskEnds(curve, T);
  const drops: number[] = [];
  for (let j = 0; j < T - 1; j++) {
    if (ends[j] < 0) continue;
    let worst = 0;
    for (let n = ends[j]; n < curve.length; n++)
      for (let m = n + 1; m <= Math.min(n + window, curve.length - 1); m++)
        worst = Math.max(worst, curve[n].accuracy[j] - curve[m].accuracy[j]);
    drops.push(worst);
  }
  return mean(drops);
}

/**
 * The stability gap of each earlier task (De Lange et al., ICLR 2023): its accuracy at the end of its training minus
 * the lowest accuracy it falls to while the next task trains.
 */
export function stabilityGaps(curve: readonly CurvePoint[]): number[] {
  const T = curve.at(-1)!.accuracy.length;
  const ends = taskEnds(curve, T);
  return Array.from({ length: T - 1 }, (_, j) => {
    const during = curve.filter((p) => p.task === j + 1).map((p) => p.accuracy[j]);
    return ends[j] < 0 || during.length === 0 ? NaN : curve[ends[j]].accuracy[j] - Math.min(...during);
  });
}

/** Learning accuracy (Riemer et al., ICLR 2019): mean_k R[k][k], each task's accuracy right after it was learned. */
export function learningAccuracy(R: readonly (readonly number[])[]): number {
  return mean(R.map((row, k) => row[k]));
}

/**
 * Intransigence (Chaudhry et al., ECCV 2018): mean_k (a*_k − R[k][k]), a*_k the accuracy on task k of a reference
 * model trained on the data jointly; here the joint run's final accuracy on task k.
 */
export function intransigence(R: readonly (readonly number[])[], joint: readonly number[]): number {
  return mean(R.map((row, k) => joint[k] - row[k]));
}

export interface AnytimeSummary {
  /** Average anytime accuracy. */
  aaa: number;
  aAuc: number;
  minAcc: number;
  wcAcc: number;
  /** Windowed forgetting over `WF_WINDOW` points. */
  wf: number;
  /** Mean stability gap over the earlier tasks. */
  gap: number;
}

/** The window of windowed forgetting `compare` reports (in evaluation points). */
export const WF_WINDOW = 10;

export function summarizeCurve(curve: readonly CurvePoint[]): AnytimeSummary {
  return {
    aaa: averageAnytimeAccuracy(curve),
    aAuc: accuracyAuc(curve),
    minAcc: minAccuracy(curve),
    wcAcc: worstCaseAccuracy(curve),
    wf: windowedForgetting(curve, WF_WINDOW),
    gap: mean(stabilityGaps(curve).filter(Number.isFinite)),
  };
}
