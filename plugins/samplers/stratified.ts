// What the low-label samplers share: a seeded order of each class's examples
// that does not depend on how many are taken, so that for one seed the 1%
// subset is contained in the 5% subset, which is contained in the 10% one.
import type { Rng } from '../../src/plugin-api.js';
import type { Task } from '../../src/contracts/stream.js';

/** Per class, the task's training indices in a seeded order (classes ascending). */
export function classOrders(task: Task, rng: Rng): Map<number, Int32Array> {
  const byClass = new Map<number, number[]>();
  task.train.labels.forEach((label, i) => {
    const list = byClass.get(label) ?? [];
    list.push(i);
    byClass.set(label, list);
  });
  const out = new Map<number, Int32Array>();
  for (const label of [...byClass.keys()].sort((a, b) => a - b))
    out.set(label, rng.fork(`class:${label}`).shuffle(Int32Array.from(byClass.get(label)!)));
  return out;
}

/** The first `take(class, available)` indices of each class's order, sorted. */
export function takePerClass(
  orders: Map<number, Int32Array>,
  take: (label: number, available: number) => number,
): Int32Array {
  const picked: number[] = [];
  for (const [label, order] of orders) picked.push(...order.subarray(0, take(label, order.length)));
  return Int32Array.from(picked.sort((a, b) => a - b));
}

export function shuffledOrder(subset: Int32Array, rng: Rng): Int32Array {
  return rng.shuffle(Int32Array.from(subset));
}
