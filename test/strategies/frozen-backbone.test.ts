// The parts the methods on a pre-trained backbone share: the model check, the batched sums over a task's
// examples, and the prototype classifier against float64 class means and cosine scores.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import {
  pretrainedBackbone,
  PrototypeClassifier,
  readRows,
  sumOverRows,
} from '../../src/strategies/frozen-backbone.js';
import type { Model } from '../../src/contracts/model.js';
import type { TrainingSet } from '../../src/contracts/strategy.js';
import { regex } from '../helpers.js';

beforeAll(async () => {
  await selectBackend('auto');
});

const SET: TrainingSet = {
  features: Float32Array.from([1, 0, 3, 4, 0, 2, -1, 1, 2, 2]),
  labels: Int32Array.from([0, 1, 2, 0, 2]),
  taskIds: new Int32Array(5),
  count: 5,
};
const identity = (x: tf.Tensor) => x;

describe('pretrainedBackbone', () => {
  it('refuses a model without pre-trained weights, naming the strategy and what to use', () => {
    const model = {
      params: new Map(),
      rowAxis: {},
      describe: () => 'mlp 16-32-4',
      features: identity,
    } as unknown as Model;
    expect(() => pretrainedBackbone(model, 'ranpac')).toThrow(
      regex(
        /strategy 'ranpac' learns on a pre-trained backbone, and the model has no pre-trained weights /,
        /\(mlp 16-32-4\); use model 'pretrained'/,
      ),
    );
    expect(pretrainedBackbone({ ...model, pretrained: 'a/b' }, 'ranpac').pretrained).toBe('a/b');
  });
});

describe('sumOverRows and readRows', () => {
  it('sum and read the given rows in any batch size, in the given order', () => {
    const rows = Int32Array.from([4, 0, 2]);
    for (const batch of [1, 2, 500]) {
      const [s] = sumOverRows(SET, (x) => [tf.sum(x, 0)], rows, batch);
      expect(Array.from(s.dataSync())).toEqual([1 + 2 + 0, 0 + 2 + 2]);
      s.dispose();
      expect(Array.from(readRows(SET, rows, identity, batch).values)).toEqual([2, 2, 1, 0, 0, 2]);
    }
  });
});

describe('PrototypeClassifier', () => {
  it('holds each class mean over every task, scores by cosine, and never picks a class without examples', () => {
    const before = tf.memory().numTensors;
    const classifier = new PrototypeClassifier(4);
    classifier.add(SET, identity);
    // A second task adds one more example of class 1.
    classifier.add({ ...SET, features: Float32Array.from([0, -2]), labels: Int32Array.from([1]), count: 1 }, identity);
    const means = classifier.means();
    expect(Array.from(means.dataSync())).toEqual([
      (1 + -1) / 2,
      (0 + 1) / 2,
      (3 + 0) / 2,
      (4 - 2) / 2,
      (0 + 2) / 2,
      (2 + 2) / 2,
      0,
      0,
    ]);
    const x = [3, 1];
    const scores = tf.tidy(() => classifier.scores(tf.tensor2d([x])).dataSync());
    const cos = (a: number[], b: number[]) => (a[0] * b[0] + a[1] * b[1]) / Math.hypot(...a) / Math.hypot(...b);
    expect(scores[0]).toBeCloseTo(cos(x, [0, 0.5]), 5);
    expect(scores[1]).toBeCloseTo(cos(x, [1.5, 1]), 5);
    expect(scores[2]).toBeCloseTo(cos(x, [1, 2]), 5);
    expect(scores[3]).toBeLessThan(-1e8);
    const restored = new PrototypeClassifier(4);
    restored.restore(classifier.snapshot());
    const again = tf.tidy(() => restored.scores(tf.tensor2d([x])).dataSync());
    expect(Array.from(again)).toEqual(Array.from(scores));
    means.dispose();
    classifier.dispose();
    restored.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
