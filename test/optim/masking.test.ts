// Masks and partitions give rules, and state, to some parameters only; the weight-decay mask and the projection
// under a mask.
import { beforeAll, describe, expect, it } from 'vitest';
import { runRule } from './rule-fixture.js';
import { selectBackend } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import type { NamedTensors, StepContext } from '../../src/contracts/optimizer.js';
import { addDecayedWeights, chain, scaleByLearningRate, trace } from '../../src/optim/transforms.js';
import { byPatterns, masked, maskedProjection, not, partition } from '../../src/optim/masking.js';
import { FTP_GAMMA, STACKED, ftpProjection } from '../../plugins/optimizers/ftp.js';
import { ftpNativeStep } from '../../plugins/optimizers/ftp-native.js';

beforeAll(async () => {
  await selectBackend('auto');
});

describe('masked and partition', () => {
  it('masked applies a rule to the selected parameters only, with state for them alone', () => {
    tf.tidy(() => {
      const rule = chain(masked(trace({ momentum: 0.9 }), byPatterns(['fc.*'])), scaleByLearningRate(1));
      const { updates, slots } = runRule(rule, { 'fc.weight': [0], 'head.bias': [0] }, [[1], [1]]);
      expect(slots).toEqual(['0:masked(momentum)/momentum.buf/fc.weight']);
      expect(updates[1]['fc.weight'][0]).toBeCloseTo(-1.9, 6);
      expect(updates[1]['head.bias'][0]).toBeCloseTo(-1, 6); // passed through: no momentum
    });
  });

  it('the decay mask is masked(addDecayedWeights): excluded parameters get no decay', () => {
    tf.tidy(() => {
      const rule = masked(addDecayedWeights(0.5), not(byPatterns(['*.bias'])));
      const { updates } = runRule(rule, { 'fc.weight': [2], 'fc.bias': [2] }, [[0]]);
      expect(updates[0]).toEqual({ 'fc.weight': [1], 'fc.bias': [0] });
    });
  });

  it('partition gives each group its own rule and state, and rejects parameters in no group', () => {
    tf.tidy(() => {
      const rule = partition(
        {
          label: 'body',
          select: byPatterns(['fc.*']),
          rule: chain(trace({ momentum: 0.5 }), scaleByLearningRate(0.1)),
        },
        { label: 'head', select: byPatterns(['head.*']), rule: scaleByLearningRate(1) },
      );
      const { updates, slots } = runRule(rule, { 'fc.weight': [0], 'head.weight': [0] }, [
        [1, 1],
        [1, 1],
      ]);
      expect(slots).toEqual(['body/0:momentum/momentum.buf/fc.weight']);
      expect(updates[1]['fc.weight'][0]).toBeCloseTo(-0.15, 6);
      expect(updates[1]['head.weight'][0]).toBeCloseTo(-1, 6);
      expect(() => rule.init({ 'fc.weight': tf.zeros([1]), other: tf.zeros([1]) })).toThrow(
        /parameter other in no group/,
      );
    });
    expect(() =>
      partition(
        { label: 'a', select: () => true, rule: scaleByLearningRate(1) },
        { label: 'a', select: () => true, rule: scaleByLearningRate(1) },
      ),
    ).toThrow(/label 'a' is used twice/);
  });

  it(
    'a masked projection from updates: the selected parameters projected as from their sum, the others given ' +
      'params + updates',
    () => {
      tf.tidy(() => {
        const anchor: NamedTensors = {
          'fc.weight': tf.tensor2d([
            [0.1, -0.2],
            [0.3, 0.4],
          ]),
          'head.weight': tf.tensor1d([0.5, -0.5]),
        };
        const updates: NamedTensors = {
          'fc.weight': tf.tensor2d([
            [0.5, 0.1],
            [-0.4, 0.2],
          ]),
          'head.weight': tf.tensor1d([0.25, 0.125]),
        };
        const reference = ftpProjection(1);
        const projection = maskedProjection(
          { ...reference, projectStep: ftpNativeStep(1, reference, { gamma: FTP_GAMMA, key: STACKED }) },
          byPatterns(['fc.*']),
        );
        const state = projection.init(anchor, { 'fc.weight': 1 });
        const ctx: StepContext = {
          step: 1,
          taskStep: 1,
          taskSteps: 1,
          anchorStep: 1,
          params: anchor,
          rawGrads: updates,
          anchor,
          rowAxis: { 'fc.weight': 1 },
        };
        const fromUpdates = projection.projectStep!(updates, state, ctx);
        const fromSum = projection.project(
          {
            'fc.weight': tf.add(anchor['fc.weight'], updates['fc.weight']),
            'head.weight': tf.add(anchor['head.weight'], updates['head.weight']),
          },
          state,
          ctx,
        );
        for (const name of ['fc.weight', 'head.weight'])
          expect(Array.from(fromUpdates.params[name].dataSync())).toEqual(Array.from(fromSum.params[name].dataSync()));
        // The head is not anchored: its step is the update; the body's rows are held at FTP's first-step radius.
        expect(Array.from(fromUpdates.params['head.weight'].dataSync())).toEqual([0.75, -0.375]);
        expect(tf.max(tf.abs(tf.sub(fromUpdates.params['fc.weight'], anchor['fc.weight']))).dataSync()[0]).toBeLessThan(
          1e-7,
        );
      });
    },
  );
});
