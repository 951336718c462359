import { beforeAll, describe, expect, it } from 'vitest';
import { lastValueFrom, tap, toArray } from 'rxjs';
import { runEvents } from '../../src/engine/session.js';
import { selectBackend, type BackendInfo } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import type { RunEvent } from '../../src/contracts/events.js';
import { TINY_SPEC, tinyConfigs } from '../helpers.js';

let backend: BackendInfo;
beforeAll(async () => {
  backend = await selectBackend('auto');
});

async function run(seed: number, spec: object = TINY_SPEC, onEvent?: (e: RunEvent) => void) {
  const { configs, registry } = tinyConfigs(spec, [seed]);
  return lastValueFrom(
    runEvents(configs[0], registry, backend).pipe(
      tap((e) => onEvent?.(e)),
      toArray(),
    ),
  );
}
const accuracies = (events: RunEvent[]) => events.flatMap((e) => (e.type === 'eval' ? [e.accuracy] : []));
const losses = (events: RunEvent[]) => events.flatMap((e) => (e.type === 'step' ? [e.loss] : []));

describe('determinism', () => {
  it('same seed, same backend: identical accuracies and losses', async () => {
    const a = await run(3);
    const b = await run(3);
    expect(accuracies(a)).toEqual(accuracies(b));
    expect(losses(a)).toEqual(losses(b));
  });

  it('different seeds: different initialisation and data order', async () => {
    const a = await run(0);
    const b = await run(1);
    // The untrained model's evaluation depends on initialisation only.
    const untrained = (ev: RunEvent[]) =>
      ev.flatMap((e) => (e.type === 'eval' && e.trainedTask === -1 ? [e.loss] : []));
    expect(untrained(a)).not.toEqual(untrained(b));
    expect(losses(a)).not.toEqual(losses(b));
  });
});

describe('memory', () => {
  it('numTensors is flat across steps and tasks', async () => {
    const spec = { ...TINY_SPEC, train: { epochs: 3, batchSize: 8, logEvery: 1 } };
    const before = tf.memory().numTensors;
    const atSteps: Record<number, number[]> = {};
    await run(0, spec, (e) => {
      if (e.type === 'step') (atSteps[e.task] ??= []).push(tf.memory().numTensors);
    });
    // Within a task: the same count at every step of every epoch.
    for (const counts of Object.values(atSteps)) expect(new Set(counts).size).toBe(1);
    // Across tasks: the same count too (task tensors are freed at task end, test sets are uploaded once).
    expect(atSteps[0][0]).toBe(atSteps[1][0]);
    expect(atSteps[0]).toHaveLength(36);
    // And everything is freed at the end of the run.
    expect(tf.memory().numTensors).toBe(before);
  });
});
