// RanPAC's classifier against an independent float64 computation on the same
// projected features: the weights after each task are the least-squares
// solution of [H; √λ·I]·W = [Y; 0] over every example so far (Householder QR,
// test/strategies/least-squares.ts), with the λ the task chose.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import { Rng } from '../../src/tensor/rng.js';
import { RidgeClassifier } from '../../src/strategies/ridge-classifier.js';
import { RIDGE_CANDIDATES } from '../../src/strategies/closed-form.js';
import type { TrainingSet } from '../../src/contracts/strategy.js';
import { leastSquares } from './least-squares.js';

beforeAll(async () => {
  await selectBackend('auto');
});

const DIM = 5;
const OUTPUTS = 4;

/** Two classes per task, each around its own centre. */
function taskSet(rng: Rng, classes: number[], perClass: number): TrainingSet {
  const count = classes.length * perClass;
  const features = new Float32Array(count * DIM);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = classes[i % classes.length];
    for (let d = 0; d < DIM; d++) features[i * DIM + d] = (d === labels[i] ? 2 : 0) + rng.normal();
  }
  return { features, labels, taskIds: new Int32Array(count), count };
}

const identity = (x: tf.Tensor) => x;

function projected(classifier: RidgeClassifier, sets: TrainingSet[]): { h: number[][]; y: number[][] } {
  const h: number[][] = [];
  const y: number[][] = [];
  for (const set of sets) {
    const values = tf.tidy(() => classifier.project(tf.tensor2d(set.features, [set.count, DIM]))).arraySync();
    h.push(...values);
    y.push(...Array.from(set.labels, (l) => Array.from({ length: OUTPUTS }, (_, c) => (c === l ? 1 : 0))));
  }
  return { h, y };
}

function expectRidgeSolution(classifier: RidgeClassifier, sets: TrainingSet[], width: number) {
  const { h, y } = projected(classifier, sets);
  const ridge = classifier.ridges.at(-1)!;
  const expected = leastSquares(
    [
      ...h,
      ...Array.from({ length: width }, (_, i) =>
        Array.from({ length: width }, (_, j) => (i === j ? Math.sqrt(ridge) : 0)),
      ),
    ],
    [...y, ...Array.from({ length: width }, () => new Array<number>(OUTPUTS).fill(0))],
  );
  const w = classifier.weightTensor!.arraySync();
  const scale = Math.max(...expected.flat().map(Math.abs));
  for (let i = 0; i < width; i++)
    for (let c = 0; c < OUTPUTS; c++) expect(Math.abs(w[i][c] - expected[i][c])).toBeLessThan(1e-4 * scale);
}

describe('RidgeClassifier', () => {
  it('after each task, holds the float64 ridge solution over every example so far (λ chosen per task)', () => {
    const rng = new Rng(1);
    const tasks = [taskSet(rng, [0, 1], 30), taskSet(rng, [2, 3], 30)];
    const width = 12;
    const classifier = new RidgeClassifier(DIM, width, OUTPUTS, 0, new Rng(7));
    classifier.add(tasks[0], identity, 'task0');
    expect(RIDGE_CANDIDATES).toContain(classifier.ridges[0]);
    expectRidgeSolution(classifier, tasks.slice(0, 1), width);
    classifier.add(tasks[1], identity, 'task1');
    expect(classifier.ridges).toHaveLength(2);
    expectRidgeSolution(classifier, tasks, width);
    classifier.dispose();
  });

  it('scores unseen classes −1e9 and classifies separable classes correctly', () => {
    const rng = new Rng(2);
    const set = taskSet(rng, [0, 1], 40);
    const classifier = new RidgeClassifier(DIM, 30, OUTPUTS, 1, new Rng(3));
    classifier.add(set, identity, 'task0');
    expect(classifier.ridges).toEqual([1]);
    const { scores, accuracy } = tf.tidy(() => {
      const s = classifier.scores(tf.tensor2d(set.features, [set.count, DIM]));
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(s, 1), tf.tensor1d(set.labels, 'int32')), 'float32'));
      return { scores: s.arraySync() as number[][], accuracy: hits.dataSync()[0] / set.count };
    });
    for (const row of scores) expect(row[2]).toBeLessThan(-1e8);
    expect(accuracy).toBeGreaterThan(0.9);
    classifier.dispose();
  });

  it('restores from its snapshot to the same weights, bit for bit', () => {
    const rng = new Rng(4);
    const a = new RidgeClassifier(DIM, 10, OUTPUTS, 0, new Rng(9));
    a.add(taskSet(rng, [0, 1], 25), identity, 'task0');
    const b = new RidgeClassifier(DIM, 10, OUTPUTS, 0, new Rng(9));
    b.restore(a.snapshot());
    expect(b.ridges).toEqual(a.ridges);
    expect(Array.from(b.weightTensor!.dataSync())).toEqual(Array.from(a.weightTensor!.dataSync()));
    a.dispose();
    b.dispose();
  });
});
