import { beforeAll, describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import { runEvents } from '../../src/engine/session.js';
import { selectBackend, type BackendInfo } from '../../src/tensor/backend.js';
import type { RunEvent } from '../../src/contracts/events.js';
import { TINY_SPEC, tinyConfigs } from '../helpers.js';

let backend: BackendInfo;
beforeAll(async () => {
  backend = await selectBackend('auto');
});

describe('the run event stream', () => {
  it('emits typed events in order with plain-number content', async () => {
    const { configs, registry } = tinyConfigs();
    const events: RunEvent[] = await lastValueFrom(runEvents(configs[0], registry, backend).pipe(toArray()));
    const types = events.map((e) => e.type);
    // 2 tasks × 96 examples / batch 16 = 6 steps per epoch, 2 epochs = 12 steps; logged every 3rd.
    const expected = [
      'run-start',
      ...['eval', 'eval'],
      ...[0, 1].flatMap(() => [
        'task-start',
        'step',
        'step',
        'epoch-end',
        'step',
        'step',
        'epoch-end',
        'eval',
        'eval',
        'task-end',
      ]),
      'run-end',
    ];
    expect(types).toEqual(expected);
    const start = events[0] as Extract<RunEvent, { type: 'run-start' }>;
    expect(start.backend.name).toBe(backend.name);
    expect(start.tasks.map((t) => t.classes)).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect(start.model).toMatch(/mlp \[16\] fc1:32 head:4 -> 4 \(676 parameters\)/);

    const steps = events.filter((e): e is Extract<RunEvent, { type: 'step' }> => e.type === 'step');
    expect(steps.map((s) => [s.task, s.epoch, s.step])).toEqual([
      [0, 0, 3],
      [0, 0, 6],
      [0, 1, 9],
      [0, 1, 12],
      [1, 0, 3],
      [1, 0, 6],
      [1, 1, 9],
      [1, 1, 12],
    ]);
    expect(steps.map((s) => s.globalStep)).toEqual([3, 6, 9, 12, 15, 18, 21, 24]);
    for (const s of steps) {
      expect(Number.isFinite(s.loss)).toBe(true);
      expect(s.learningRate).toBe(3e-2);
      expect(s.examplesPerSecond).toBeGreaterThan(0);
    }
    // The loss falls within the first task.
    expect(steps[3].loss).toBeLessThan(steps[0].loss);

    const evals = events.filter((e): e is Extract<RunEvent, { type: 'eval' }> => e.type === 'eval');
    expect(evals.map((e) => [e.trainedTask, e.evalTask])).toEqual([
      [-1, 0],
      [-1, 1],
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ]);
    expect(evals.every((e) => e.examples === 48 && e.evalSet === 'test')).toBe(true);
    expect(evals[2].accuracy).toBeGreaterThan(0.9); // task 0 learned
    expect(evals[5].accuracy).toBeGreaterThan(0.9); // task 1 learned
    expect(evals[4].accuracy).toBeLessThan(0.5); // class-incremental: task 0 forgotten

    const end = events.at(-1) as Extract<RunEvent, { type: 'run-end' }>;
    expect(end).toMatchObject({ status: 'completed', steps: 24 });
    // No tensors in events: they serialise to JSON unchanged.
    expect(JSON.parse(JSON.stringify(events))).toEqual(events);
  });

  it('ends with a failed run-end naming the component when a plugin cannot be built', async () => {
    const { configs, registry } = tinyConfigs({
      ...TINY_SPEC,
      stream: {
        name: 'split',
        tasks: [
          [0, 1],
          [2, 7],
        ],
      },
    });
    const events = await lastValueFrom(runEvents(configs[0], registry, backend).pipe(toArray()));
    expect(events.map((e) => e.type)).toEqual(['run-start', 'run-end']);
    expect(events[1]).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/^stream 'split': .*class 7 does not exist in synthetic/),
    });
  });

  it('stops at the next step when unsubscribed or aborted, as interrupted', async () => {
    const { configs, registry } = tinyConfigs();
    const controller = new AbortController();
    const seen: RunEvent[] = [];
    await new Promise<void>((resolve) =>
      runEvents(configs[0], registry, backend, { signal: controller.signal }).subscribe({
        next: (e) => {
          seen.push(e);
          if (e.type === 'step') controller.abort();
        },
        complete: resolve,
      }),
    );
    expect(seen.filter((e) => e.type === 'step')).toHaveLength(1);
    expect(seen.at(-1)).toMatchObject({ type: 'run-end', status: 'interrupted' });
  });
});
