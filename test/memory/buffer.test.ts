// The host memory's storage policies, on hand-made sets where the right
// contents can be stated exactly.
import { describe, expect, it } from 'vitest';
import { MemoryBuffer } from '../../src/memory/buffer.js';
import { herdingOrder } from '../../src/memory/herding.js';
import { Rng } from '../../src/tensor/rng.js';

/** Examples whose first feature is the label and second the index: contents can be checked row by row. */
const set = (labels: number[], task: number) => ({
  features: Float32Array.from(labels.flatMap((l, i) => [l, i])),
  labels: Int32Array.from(labels),
  taskIds: new Int32Array(labels.length).fill(task),
  count: labels.length,
});

function contents(b: MemoryBuffer) {
  const t = b.toTrainingSet();
  return { labels: [...t.labels], taskIds: [...t.taskIds], features: t.features };
}

describe('memory: reservoir and class-balanced', () => {
  it('reservoir keeps at most its capacity, a sample of everything seen', () => {
    const b = new MemoryBuffer(10, 'reservoir', new Rng(1));
    b.add(set(Array(50).fill(0), 0));
    b.add(set(Array(50).fill(1), 1));
    const c = contents(b);
    expect(b.count).toBe(10);
    expect(c.labels.filter((l) => l === 1).length).toBeGreaterThan(0);
    // Features travel with their labels.
    c.labels.forEach((l, i) => expect(c.features[i * 2]).toBe(l));
  });

  it('reservoir is uniform over the stream: each of 4 equal tasks holds about a quarter (1000 draws)', () => {
    const share = [0, 0, 0, 0];
    const rng = new Rng(7);
    for (let r = 0; r < 1000; r++) {
      const b = new MemoryBuffer(8, 'reservoir', rng.fork(`r${r}`));
      for (const t of [0, 1, 2, 3]) b.add(set(Array(25).fill(t), t));
      for (const t of contents(b).taskIds) share[t] += 1;
    }
    for (const s of share) expect(s / 8000).toBeCloseTo(0.25, 1);
  });

  it('class-balanced keeps an equal share per label', () => {
    const b = new MemoryBuffer(12, 'class-balanced', new Rng(1));
    b.add(set([...Array(30).fill(0), ...Array(30).fill(1)], 0));
    expect(contents(b).labels.filter((l) => l === 0)).toHaveLength(6);
    b.add(set([...Array(30).fill(2), ...Array(30).fill(3)], 1));
    const c = contents(b);
    for (const l of [0, 1, 2, 3]) expect(c.labels.filter((x) => x === l)).toHaveLength(3);
    c.labels.forEach((l, i) => expect(c.features[i * 2]).toBe(l));
    expect(c.taskIds.filter((t) => t === 1)).toHaveLength(6);
  });

  it('class-balanced keeps a share of every task in domain-IL, where all tasks have the same labels', () => {
    const b = new MemoryBuffer(20, 'class-balanced', new Rng(4));
    const domainSet = (task: number) => ({
      features: Float32Array.from({ length: 200 }, (_, i) => task * 1000 + i),
      labels: Int32Array.from({ length: 100 }, (_, i) => i % 2),
      taskIds: new Int32Array(100).fill(task),
      count: 100,
    });
    for (const t of [0, 1, 2, 3]) b.add(domainSet(t));
    const c = contents(b);
    expect(b.count).toBe(20);
    for (const l of [0, 1]) expect(c.labels.filter((x) => x === l)).toHaveLength(10);
    for (const t of [0, 1, 2, 3]) expect(c.taskIds.filter((x) => x === t).length).toBeGreaterThan(0);
  });

  it('rejects a class-balanced memory too small for one example per label', () => {
    const b = new MemoryBuffer(3, 'class-balanced', new Rng(1));
    expect(() => b.add(set([0, 1, 2, 3], 0))).toThrow(/cannot hold one example of each of 4 labels/);
  });
});

describe('memory: herding, greedy-balanced (GDumb), per-task (GEM)', () => {
  it('herding picks, in order, the points whose running mean best matches the class mean (hand-worked)', () => {
    // Normalised features: a=(1,0), b=(0,1), c=(0.6,0.8), d=(0.8,0.6). Mean μ=(0.6,0.6).
    // k=1: |μ-a|²=0.72, |μ-b|²=0.72, |μ-c|²=0.04, |μ-d|²=0.04 → c (first of the tie).
    // k=2: (c+x)/2 vs μ: x=a → (0.8,0.4): 0.08; x=b → (0.3,0.9): 0.18; x=d → (0.7,0.7): 0.02 → d.
    // k=3: (c+d+x)/3: x=a → (0.8,0.467): 0.0578; x=b → (0.467,0.8): 0.0578 → a (first of the tie).
    const f = Float32Array.from([1, 0, 0, 1, 0.6, 0.8, 0.8, 0.6]);
    expect(herdingOrder(f, 2, 4)).toEqual([2, 3, 0, 1]);
    // Without ties: a, b, c alone, μ=(0.533,0.6): c (0.044), then a ((c+a)/2 → 0.111 against b's 0.144), then b.
    expect(herdingOrder(Float32Array.from([1, 0, 0, 1, 0.6, 0.8]), 2, 3)).toEqual([2, 0, 1]);
    // Scale does not matter: features are normalised first.
    expect(herdingOrder(Float32Array.from([3, 0, 0, 0.5, 6, 8]), 2, 3)).toEqual([2, 0, 1]);
  });

  it('herding memory: new labels herded from their features, old labels shrink to the head of their order', () => {
    const b = new MemoryBuffer(4, 'herding', new Rng(1));
    const first = set([0, 0, 0, 1, 1, 1], 0);
    // Label 0's features: rows 0..2; the herding order over them is decided by these embeddings.
    const emb = Float32Array.from([1, 0, 0.6, 0.8, 0, 1, 1, 0, 0.8, 0.6, 0, 1]);
    b.add(first, { embeddings: { values: emb, dim: 2 } });
    expect(contents(b).labels).toEqual([0, 0, 1, 1]);
    // Index feature of the kept rows: label 0 herds row 1 (0.6,0.8) first; label 1 herds row 4 (0.8,0.6) first.
    expect(contents(b).features[1]).toBe(1);
    expect(contents(b).features[5]).toBe(4);
    b.add(set([2, 2, 3, 3], 1), { embeddings: { values: Float32Array.from([1, 0, 0, 1, 1, 0, 0, 1]), dim: 2 } });
    const c = contents(b);
    expect(c.labels).toEqual([0, 1, 2, 3]);
    expect(c.features[1]).toBe(1); // label 0 kept the head of its order
    expect(() => b.add(set([4], 2))).toThrow(/herding policy needs the features/);
  });

  it('greedy-balanced fills, then evicts from the largest class only for a class under its share', () => {
    const b = new MemoryBuffer(6, 'greedy-balanced', new Rng(2));
    b.add(set(Array(10).fill(0), 0));
    expect(contents(b).labels).toEqual([0, 0, 0, 0, 0, 0]);
    b.add(set(Array(10).fill(1), 1));
    expect(contents(b).labels).toEqual([0, 0, 0, 1, 1, 1]);
    b.add(set(Array(10).fill(2), 2));
    expect(contents(b).labels).toEqual([0, 0, 1, 1, 2, 2]);
  });

  it('per-task keeps an equal share of each task', () => {
    const b = new MemoryBuffer(9, 'per-task', new Rng(3));
    b.add(set(Array(20).fill(0), 0));
    expect(b.count).toBe(9);
    b.add(set(Array(20).fill(1), 1));
    b.add(set(Array(20).fill(2), 2));
    const c = contents(b);
    for (const t of [0, 1, 2]) expect(c.taskIds.filter((x) => x === t)).toHaveLength(3);
  });
});

describe('memory: byte features', () => {
  it('stores byte examples as bytes, and a checkpoint round trip keeps them', () => {
    const bytes = { ...set([0, 1, 2, 3], 0), features: Uint8Array.from([0, 10, 1, 11, 2, 12, 3, 13]) };
    const b = new MemoryBuffer(3, 'reservoir', new Rng(4));
    b.add(bytes);
    const t = b.toTrainingSet();
    expect(t.features).toBeInstanceOf(Uint8Array);
    Array.from(t.labels).forEach((l, i) => expect([t.features[2 * i], t.features[2 * i + 1]]).toEqual([l, l + 10]));
    const copy = new MemoryBuffer(3, 'reservoir', new Rng(99));
    copy.restore(b.snapshot());
    expect(copy.toTrainingSet()).toEqual(t);
  });
});
