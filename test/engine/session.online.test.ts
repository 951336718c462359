// One pass over the stream in the real run loop: boundaries given or hidden,
// a gradual transition, and continual evaluation's rows.
import { beforeAll, describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import { runEvents } from '../../src/engine/session.js';
import { selectBackend, type BackendInfo } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import type { EvalEvent, RunEvent } from '../../src/contracts/events.js';
import { accuracyMatrix, summarize } from '../../src/metrics/continual.js';
import { tinyConfigs } from '../helpers.js';

let backend: BackendInfo;
beforeAll(async () => {
  backend = await selectBackend('auto');
});

// Three tasks of 120 training examples: 12 steps of 10 each.
const BASE = {
  name: 'online',
  dataset: { name: 'synthetic', classes: 6, features: 16, trainPerClass: 60, testPerClass: 30, separation: 6 },
  stream: { name: 'split', tasksOf: 2 },
  model: { name: 'mlp', hidden: [32] },
  optimizer: { name: 'sgd', lr: 0.1 },
  train: { batchSize: 10, logEvery: 1 },
  online: { boundaries: 'hidden' },
};

async function run(extra: object) {
  const { configs, registry } = tinyConfigs({ ...BASE, ...extra });
  const before = tf.memory().numTensors;
  const events: RunEvent[] = await lastValueFrom(runEvents(configs[0], registry, backend).pipe(toArray()));
  expect(events.at(-1)).toMatchObject({ type: 'run-end', status: 'completed' });
  expect(tf.memory().numTensors).toBe(before);
  const evals = events.filter((e): e is EvalEvent => e.type === 'eval');
  const rows = evals.map((e) => ({
    trained_task: e.trainedTask,
    eval_task: e.evalTask,
    eval_set: e.evalSet,
    accuracy: e.accuracy,
  }));
  const m = accuracyMatrix(rows)!;
  const of = <T extends RunEvent['type']>(type: T) =>
    events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);
  return { events, evals, summary: summarize(m.R, m.untrained), starts: of('task-start'), steps: of('step') };
}

describe('online training', () => {
  it('with boundaries hidden, strategies see one task and the run still evaluates at every boundary', async () => {
    const r = await run({ eval: { every: 5, subset: 20 } });
    expect(r.starts.map((s) => [s.task, s.examples, s.steps])).toEqual([[0, 360, 36]]);
    expect(r.steps.map((s) => s.task).every((t) => t === 0)).toBe(true);
    const boundary = r.evals.filter((e) => e.evalSet === 'test');
    // The untrained model, then after each task's last example (steps 12, 24, 36), every task.
    expect([...new Set(boundary.map((e) => `${e.trainedTask}@${e.seen}/${e.step}`))]).toEqual([
      '-1@0/0',
      '0@120/12',
      '1@240/24',
      '2@360/36',
    ]);
    const continual = r.evals.filter((e) => e.evalSet === 'continual');
    expect(continual.every((e) => e.examples === 20)).toBe(true);
    // Every 5 steps, and at each boundary; the task being trained labels each point.
    const points = [...new Set(continual.map((e) => `${e.step}:${e.trainedTask}`))];
    expect(points).toEqual(['0:-1', '5:0', '10:0', '12:0', '15:1', '20:1', '24:1', '25:2', '30:2', '35:2', '36:2']);
  });

  it('every strategy that needs no boundaries trains; online replay forgets less than fine-tuning', async () => {
    const naive = await run({});
    const replay = await run({ strategy: { name: 'replay', fill: 'online', size: 60, batchSize: 10 } });
    expect(replay.summary.acc).toBeGreaterThan(naive.summary.acc + 0.15);
    for (const strategy of [
      { name: 'mir', size: 60, candidates: 20 },
      { name: 'gss', size: 60 },
      { name: 'er-ace', size: 60 },
      { name: 'der', size: 60 },
    ]) {
      const r = await run({ strategy });
      expect(r.summary.acc).toBeGreaterThan(naive.summary.acc);
      // The first step has no memory to replay: every strategy sees the same first batch, hence the same loss.
      expect(r.steps[0].loss).toBeCloseTo(naive.steps[0].loss, 5);
    }
  });

  it('a gradual transition blends the tasks and keeps the boundaries where the tasks nominally end', async () => {
    const r = await run({ online: { boundaries: 'hidden', transition: 40 } });
    const boundary = r.evals.filter((e) => e.evalSet === 'test' && e.trainedTask >= 0);
    expect([...new Set(boundary.map((e) => e.seen))]).toEqual([120, 240, 360]);
  });

  it('with boundaries given, each task in one pass of its own, continual evaluation by examples', async () => {
    const r = await run({ online: {}, strategy: { name: 'ewc', lambda: 1 }, eval: { every: { examples: 60 } } });
    expect(r.starts.map((s) => [s.task, s.examples, s.steps])).toEqual([
      [0, 120, 12],
      [1, 120, 12],
      [2, 120, 12],
    ]);
    const seen = [...new Set(r.evals.filter((e) => e.evalSet === 'continual').map((e) => e.seen))];
    expect(seen).toEqual([0, 60, 120, 180, 240, 300, 360]);
  });
});
