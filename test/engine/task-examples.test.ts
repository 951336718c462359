// The validation hold-out: seeded, class-stratified, never trained on, evaluated as eval set 'validation'.
import { beforeAll, describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import { runEvents } from '../../src/engine/session.js';
import { selectBackend, type BackendInfo } from '../../src/tensor/backend.js';
import type { RunEvent } from '../../src/contracts/events.js';
import { SELECT_SPEC as SPEC, tinyConfigs } from '../helpers.js';

let backend: BackendInfo;
beforeAll(async () => {
  backend = await selectBackend('auto');
});

describe('the validation hold-out', () => {
  it(
    'holds out a seeded, class-stratified fraction that is ' + 'never trained on and is evaluated after every task',
    async () => {
      const { configs, registry } = tinyConfigs(SPEC, [3]);
      const events: RunEvent[] = await lastValueFrom(runEvents(configs[0], registry, backend).pipe(toArray()));
      const start = events.find((e) => e.type === 'run-start') as Extract<RunEvent, { type: 'run-start' }>;
      // 2 classes of 30 per task: round(0.2 * 30) = 6 per class held out.
      for (const t of start.tasks) expect([t.trainExamples, t.validationExamples]).toEqual([48, 12]);
      const starts = events.filter((e): e is Extract<RunEvent, { type: 'task-start' }> => e.type === 'task-start');
      expect(starts.map((e) => e.examples)).toEqual([48, 48]);
      const validation = events.filter((e) => e.type === 'eval' && e.evalSet === 'validation') as Extract<
        RunEvent,
        { type: 'eval' }
      >[];
      // Before training, then after each of the 2 tasks, on each task's hold-out.
      expect(validation.map((e) => `${e.trainedTask}:${e.evalTask}:${e.examples}`)).toEqual([
        '-1:0:12',
        '-1:1:12',
        '0:0:12',
        '0:1:12',
        '1:0:12',
        '1:1:12',
      ]);

      // The same seed holds out the same examples: identical validation scores; another seed, other examples.
      const again: RunEvent[] = await lastValueFrom(runEvents(configs[0], registry, backend).pipe(toArray()));
      const scores = (ev: RunEvent[]) =>
        ev.flatMap((e) => (e.type === 'eval' && e.evalSet === 'validation' ? [e.accuracy, e.loss] : []));
      expect(scores(again)).toEqual(scores(events));
    },
  );

  it('changes the run id (it changes the training data) but leaves runs without `select` as they were', () => {
    const { select: _s, ...without } = SPEC;
    const a = tinyConfigs(SPEC, [1]).configs.map((c) => c.runId);
    const b = tinyConfigs(without, [1]).configs.map((c) => c.runId);
    expect(a.some((id) => b.includes(id))).toBe(false);
    expect(tinyConfigs(without, [1]).configs[0].select).toBeNull();
  });
});
