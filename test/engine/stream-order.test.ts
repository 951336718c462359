// A stream with hidden boundaries as one segment: abrupt and gradual orders.
import { describe, expect, it } from 'vitest';
import { gradualSources, streamSegment, windowPositions } from '../../src/engine/stream-order.js';
import { Rng } from '../../src/tensor/rng.js';
import type { TrainingSet } from '../../src/contracts/strategy.js';
import type { Task } from '../../src/contracts/stream.js';

/** A task of `n` one-feature examples whose feature is its own id (task·1000 + row). */
function set(task: number, n: number): TrainingSet {
  return {
    features: Float32Array.from({ length: n }, (_, i) => task * 1000 + i),
    labels: new Int32Array(n).fill(task),
    taskIds: new Int32Array(n).fill(task),
    count: n,
  };
}

function task(index: number, n: number): Task {
  const s = set(index, n);
  return { index, name: `t${index}`, classes: [index], train: s, test: s };
}

describe('stream order', () => {
  it('without a transition: every task in turn, each in its given order; ends at each boundary', () => {
    const sets = [set(0, 3), set(1, 2), set(2, 4)];
    const segment = streamSegment([task(0, 3), task(1, 2), task(2, 4)], sets, 0, new Rng(1));
    expect(Array.from(segment.data.features)).toEqual([0, 1, 2, 1000, 1001, 2000, 2001, 2002, 2003]);
    expect(Array.from(segment.data.taskIds)).toEqual([0, 0, 0, 1, 1, 2, 2, 2, 2]);
    expect(segment.ends).toEqual([3, 5, 9]);
    expect(segment.task.classes).toEqual([0, 1, 2]);
  });

  it('a window takes exactly half of its positions from the next task, more of them late than early', () => {
    let early = 0;
    let late = 0;
    for (let seed = 0; seed < 200; seed++) {
      const next = windowPositions(10, new Rng(seed));
      expect(next.reduce((a, b) => a + b, 0)).toBe(10);
      early += next.slice(0, 5).reduce((a, b) => a + b, 0);
      late += next.slice(15).reduce((a, b) => a + b, 0);
    }
    expect(late).toBeGreaterThan(3 * early);
  });

  it('a gradual stream keeps each task whole, in its order, blended only inside the windows', () => {
    const counts = [40, 30, 50];
    const sources = gradualSources(counts, 20, new Rng(7));
    expect(sources.length).toBe(120);
    for (let k = 0; k < 3; k++) expect(sources.filter((s) => s === k).length).toBe(counts[k]);
    // Outside the windows around positions 40 and 70 one task alone.
    expect(Array.from(sources.slice(0, 30)).every((s) => s === 0)).toBe(true);
    expect(Array.from(sources.slice(50, 60)).every((s) => s === 1)).toBe(true);
    expect(Array.from(sources.slice(80)).every((s) => s === 2)).toBe(true);
    const segment = streamSegment(
      [task(0, 40), task(1, 30), task(2, 50)],
      [set(0, 40), set(1, 30), set(2, 50)],
      20,
      new Rng(7),
    );
    // Each task's examples appear in their own order.
    for (let k = 0; k < 3; k++) {
      const own = Array.from(segment.data.features).filter((f) => Math.floor(f / 1000) === k);
      expect(own).toEqual(own.slice().sort((a, b) => a - b));
    }
    expect(segment.ends).toEqual([40, 70, 120]);
  });

  it('the same seed gives the same stream', () => {
    expect(Array.from(gradualSources([30, 30], 16, new Rng(3)))).toEqual(
      Array.from(gradualSources([30, 30], 16, new Rng(3))),
    );
  });
});
