// Hidden task boundaries (`online.boundaries: 'hidden'`): the strategies see
// the stream as one task, whose training examples are every task's, one
// after another, each task's in the sampler's order — or, with a gradual
// transition, blended over a window around each boundary. The run keeps the
// boundaries to itself: it evaluates when the stream passes each of them.
import type { Rng } from '../tensor/rng.js';
import { concatTrainingSets, type TrainingSet } from '../contracts/strategy.js';
import type { Task } from '../contracts/stream.js';
import { commonFeatures, copyFeatures, takeExamples } from '../contracts/data.js';

/** The stream as one training set, in the order it is consumed, and where each task's share of it ends. */
export interface StreamSegment {
  /** What strategies are shown as the task. */
  readonly task: Task;
  /** Every task's examples in stream order (train on them in this order). */
  readonly data: TrainingSet;
  /** Per task, the examples of the stream up to its (nominal) boundary: the run evaluates when it passes one. */
  readonly ends: readonly number[];
}

/**
 * Which positions of a window of `2h` positions take the next task's examples: exactly `h` of them, drawn without
 * replacement with weights rising linearly across the window (Efraimidis & Spirakis' keys u^(1/w)), so that the next
 * task's share rises from 0 to 1 and each task keeps its own example count.
 */
export function windowPositions(h: number, rng: Rng): Uint8Array {
  const keys = Array.from({ length: 2 * h }, (_, i) => {
    let u = rng.next();
    while (u === 0) u = rng.next();
    return { i, key: Math.log(u) / ((i + 0.5) / (2 * h)) };
  });
  keys.sort((a, b) => b.key - a.key);
  const next = new Uint8Array(2 * h);
  for (const { i } of keys.slice(0, h)) next[i] = 1;
  return next;
}

/**
 * The order of a gradual stream: for each position, the task its example comes from. Task k's examples fill its own
 * stretch; around each boundary a window of `transition` positions (rounded down to even) mixes the two tasks, the
 * next one's share rising linearly. Needs every task to have at least `transition` examples.
 */
export function gradualSources(counts: readonly number[], transition: number, rng: Rng): Int32Array {
  const h = Math.floor(transition / 2);
  const total = counts.reduce((a, b) => a + b, 0);
  const sources = new Int32Array(total);
  let p = 0;
  for (let k = 0; k < counts.length; k++) {
    // Task k alone between the window it shares with task k-1 and the one it shares with task k+1.
    const own = counts[k] - (k > 0 ? h : 0) - (k < counts.length - 1 ? h : 0);
    sources.fill(k, p, p + own);
    p += own;
    if (k === counts.length - 1) break;
    const next = windowPositions(h, rng.fork(`window:${k}`));
    for (let i = 0; i < 2 * h; i++) sources[p + i] = next[i] ? k + 1 : k;
    p += 2 * h;
  }
  return sources;
}

/** Interleaves the tasks' sets by `sources` (each set's rows taken in their order). */
function interleave(sets: readonly TrainingSet[], sources: Int32Array, size: number): TrainingSet {
  const features = commonFeatures(sets, sources.length * size);
  const labels = new Int32Array(sources.length);
  const taskIds = new Int32Array(sources.length);
  const next = new Array<number>(sets.length).fill(0);
  sources.forEach((k, p) => {
    const r = next[k]++;
    copyFeatures(sets[k].features.subarray(r * size, (r + 1) * size), features, p * size);
    labels[p] = sets[k].labels[r];
    taskIds[p] = sets[k].taskIds[r];
  });
  return { features, labels, taskIds, count: sources.length };
}

/**
 * The stream as one segment. `ordered`: each task's training set in the order it is consumed (the sampler's first
 * epoch). `transition` > 0 blends neighbouring tasks (its randomness from `rng`).
 */
export function streamSegment(
  tasks: readonly Task[],
  ordered: readonly TrainingSet[],
  transition: number,
  rng: Rng,
): StreamSegment {
  const counts = ordered.map((s) => s.count);
  const first = ordered.find((s) => s.count > 0);
  const size = first ? first.features.length / first.count : 0;
  const data =
    transition > 0 ? interleave(ordered, gradualSources(counts, transition, rng), size) : concatTrainingSets(ordered);
  let end = 0;
  const ends = counts.map((c) => (end += c));
  const classes = [...new Set(tasks.flatMap((t) => t.classes))].sort((a, b) => a - b);
  const task: Task = {
    index: 0,
    name: `stream:${tasks.length} tasks, boundaries hidden`,
    classes,
    train: data,
    test: tasks[0].test,
  };
  return { task, data, ends };
}

/** A training set's rows in `order`. */
export function orderedTrainingSet(set: TrainingSet, order: Int32Array): TrainingSet {
  const size = set.count ? set.features.length / set.count : 0;
  const taken = takeExamples(set, order, size);
  return { ...taken, taskIds: Int32Array.from(order, (i) => set.taskIds[i]) };
}
