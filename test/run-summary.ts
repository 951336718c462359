// One run of a spec in this process, to completion, with the memory check every in-run test makes: the
// accuracy matrix, its summary and each task's planned steps.
import { expect } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import { runEvents } from '../src/engine/session.js';
import type { BackendInfo } from '../src/tensor/backend.js';
import { tf } from '../src/tensor/tf.js';
import type { RunEvent } from '../src/contracts/events.js';
import { accuracyMatrix, summarize } from '../src/metrics/continual.js';
import { tinyConfigs } from './helpers.js';

export interface RunSummary {
  events: RunEvent[];
  R: number[][];
  summary: ReturnType<typeof summarize>;
  /** Average accuracy after the last task. */
  acc: number;
  forgetting: number;
  taskStarts: Extract<RunEvent, { type: 'task-start' }>[];
  /** Steps each task trained. */
  steps: number[];
}

/** Runs the first configuration of `spec`; it must complete and leave no tensor behind. */
export async function runToSummary(spec: object, backend: BackendInfo): Promise<RunSummary> {
  const { configs, registry } = tinyConfigs(spec);
  const before = tf.memory().numTensors;
  const events = await lastValueFrom(runEvents(configs[0], registry, backend).pipe(toArray()));
  expect(events.at(-1)).toMatchObject({ type: 'run-end', status: 'completed' });
  expect(tf.memory().numTensors).toBe(before);
  const rows = events.flatMap((e) =>
    e.type === 'eval'
      ? [{ trained_task: e.trainedTask, eval_task: e.evalTask, eval_set: e.evalSet, accuracy: e.accuracy }]
      : [],
  );
  const m = accuracyMatrix(rows)!;
  const summary = summarize(m.R, m.untrained);
  const taskStarts = events.filter((e): e is Extract<RunEvent, { type: 'task-start' }> => e.type === 'task-start');
  return {
    events,
    R: m.R,
    summary,
    acc: summary.acc,
    forgetting: summary.forgetting,
    taskStarts,
    steps: taskStarts.map((t) => t.steps),
  };
}
