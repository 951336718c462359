// The device-resident reservoir (DER's memory): rows stored with the logits of their step, replayed only after it.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import { DeviceReservoir } from '../../src/memory/device.js';
import { Rng } from '../../src/tensor/rng.js';

const values = (t: tf.Tensor) => Array.from(t.dataSync());

beforeAll(async () => {
  await selectBackend('auto');
});

describe('DER memory on the backend', () => {
  it('stores the rows with the logits of their step and replays only rows stored before the step', () => {
    const reservoir = new DeviceReservoir(4, true, new Rng(3));
    let state: Record<string, tf.Tensor> = reservoir.initialState(2, 3);
    reservoir.planTask(3, 2, () => 2, 2);
    expect(reservoir.filled(1)).toBe(0);
    expect(reservoir.filled(2)).toBe(2);
    expect(reservoir.filled(3)).toBe(4);
    for (const step of [1, 2]) {
      const next = tf.tidy(() =>
        reservoir.insert(
          {
            step,
            size: 2,
            x: tf.tensor2d([step, 0, step, 1], [2, 2]),
            labels: tf.tensor1d([step, step], 'int32'),
            taskIds: tf.tensor1d([0, 0], 'int32'),
            logits: tf.tensor2d([step * 10, 0, 0, step * 10, 1, 1], [2, 3]),
          },
          state,
        ),
      );
      tf.dispose(Object.values(state).filter((t) => !Object.values(next).includes(t)));
      state = next;
    }
    // The first four rows fill slots 0..3 in order; each row keeps its own logits.
    expect(values(state.labels).slice(0, 4)).toEqual([1, 1, 2, 2]);
    expect(values(state.logits).slice(0, 12)).toEqual([10, 0, 0, 10, 1, 1, 20, 0, 0, 20, 1, 1]);
    const drawn = tf.tidy(() => {
      const d = reservoir.sample(3, state)!;
      return { x: values(d.x), logits: values(d.logits!), labels: values(d.labels) };
    });
    // Whatever rows were drawn, each comes with the logits stored for it.
    for (let r = 0; r < 2; r++) {
      const step = drawn.labels[r];
      expect(drawn.x[r * 2]).toBe(step);
      expect([step * 10, 0].includes(drawn.logits[r * 3])).toBe(true);
    }
    tf.dispose(Object.values(state));
    reservoir.dispose();
  });

  it("replays only earlier tasks' rows when asked, and none while the memory holds only the current task's", () => {
    const reservoir = new DeviceReservoir(6, false, new Rng(4));
    // Task 0: 3 steps of 2 rows fill slots 0..5; nothing of another task to replay.
    reservoir.planTask(3, 2, () => 2, 2, { task: 0 });
    expect([1, 2, 3].map((s) => reservoir.filled(s))).toEqual([0, 0, 0]);
    // Task 1: its rows replace task 0's (memory full: each row replaces a random slot, or none), so the rows a step
    // may replay never grow and start at all six.
    reservoir.planTask(4, 2, () => 2, 2, { task: 1 });
    const replayable = [1, 2, 3, 4].map((s) => reservoir.filled(s));
    expect(replayable[0]).toBe(6);
    for (let i = 1; i < 4; i++) expect(replayable[i]).toBeLessThanOrEqual(replayable[i - 1]);
    // Without exclusion every filled row is replayable.
    const plain = new DeviceReservoir(6, false, new Rng(4));
    plain.planTask(3, 2, () => 2, 2);
    expect([1, 2, 3].map((s) => plain.filled(s))).toEqual([0, 2, 4]);
    // The slots' tasks go into the snapshot, so a resumed run excludes the same rows.
    const copy = new DeviceReservoir(6, false, new Rng(0));
    copy.restore(reservoir.snapshot());
    expect(copy.snapshot()).toEqual(reservoir.snapshot());
    reservoir.dispose();
    plain.dispose();
  });
});
