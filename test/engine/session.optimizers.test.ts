// Every optimizer trains in the real run loop: memory flat, constraints
// recorded for the anchored ones, TPGM's validation split held out.
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

const OPTIMIZERS = [
  { name: 'adamw', lr: 0.03 },
  { name: 'sgd', lr: 0.1, momentum: 0.9 },
  { name: 'ftp', lr: 0.03, anchor: 'task-start' },
  { name: 'ftp', base: 'sgd', lr: 0.1, momentum: 0.9, k: 0.5 },
  { name: 'pgd', lr: 0.03, radius: 0.2 },
  { name: 'tpgm', lr: 0.03, valFraction: 0.25, projEvery: 2 },
  { name: 'l2sp', lr: 0.03, alpha: 0.1, exclude: ['head.*'] },
  { name: 'spd', lr: 0.03, lambda: 0.5, anchor: 'task-start' },
] as const;

describe.each(OPTIMIZERS)('$name in a run', (optimizer) => {
  it('completes with flat memory and the expected diagnostics', async () => {
    const spec = { ...TINY_SPEC, optimizer, train: { epochs: 2, batchSize: 16, logEvery: 1 } };
    const { configs, registry } = tinyConfigs(spec);
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    const events: RunEvent[] = await lastValueFrom(
      runEvents(configs[0], registry, backend).pipe(
        tap((e) => e.type === 'step' && counts.push(tf.memory().numTensors)),
        toArray(),
      ),
    );
    const end = events.at(-1)!;
    expect(end).toMatchObject({ type: 'run-end', status: 'completed' });
    expect(tf.memory().numTensors).toBe(before);
    // Flat within each task (after the first step of a task, which allocates that task's tensors).
    const tasks = events.filter((e) => e.type === 'step').map((e) => (e as { task: number }).task);
    for (const t of [0, 1]) expect(new Set(counts.filter((_, i) => tasks[i] === t)).size).toBe(1);

    const constraints = events.filter((e): e is Extract<RunEvent, { type: 'constraints' }> => e.type === 'constraints');
    if (optimizer.name === 'adamw' || optimizer.name === 'sgd') {
      expect(constraints).toHaveLength(0);
      return;
    }
    expect(constraints).toHaveLength(counts.length);
    const last = constraints.at(-1)!;
    expect(last.tensors.map((t) => t.tensor)).toEqual(['fc1.weight', 'fc1.bias', 'head.weight', 'head.bias']);
    for (const t of last.tensors) expect(t.distance).toBeGreaterThanOrEqual(0);
    const learned = ['ftp', 'pgd', 'tpgm'].includes(optimizer.name);
    for (const t of last.tensors) expect(Number.isFinite(t.constraint)).toBe(learned);

    if (optimizer.name === 'tpgm') {
      const start = events[0] as Extract<RunEvent, { type: 'run-start' }>;
      expect(start.tasks.map((t) => [t.trainExamples, t.validationExamples])).toEqual([
        [72, 24],
        [72, 24],
      ]);
    }
    if (optimizer.name === 'ftp' || optimizer.name === 'pgd') {
      // A row-wise L1 projection never lets a row drift past its radius (up to float error): then
      // ‖w − w0‖₂ ≤ ‖w − w0‖₁ = Σ_rows ‖row‖₁ ≤ rows × radius (PGD's constraint is its mean
      // radius).
      const rows: Record<string, number> = { 'fc1.weight': 32, 'fc1.bias': 1, 'head.weight': 4, 'head.bias': 1 };
      for (const t of last.tensors) {
        expect(t.constraint).toBeGreaterThan(0);
        expect(t.distance).toBeLessThanOrEqual(rows[t.tensor] * t.constraint * (1 + 1e-4) + 1e-6);
      }
    }
  });
});
