// i-Blurry-N-M (Koh et al., ICLR 2022, §3): a class-incremental stream whose
// boundaries are blurred. N % of the classes are disjoint (each seen in one
// task only); the others are blurry: each belongs to one task, which holds
// most of its training examples, while M % of them are spread over the other
// tasks. Every task's test split is its own classes' test examples. Which
// class is which, and which examples move, is drawn from the run's seed.
import { definePlugin, o, type OptionsInput, type Problem } from '../../src/plugin-api.js';
import { featureSize, takeExamples } from '../../src/contracts/data.js';
import type { Task } from '../../src/contracts/stream.js';

const options = {
  tasks: o.integer({ description: 'number of tasks', default: 5, min: 1 }),
  disjoint: o.number({
    description: 'N: percentage of classes that are disjoint (one task each)',
    default: 50,
    min: 0,
    max: 100,
  }),
  blurry: o.number({
    description: "M: percentage of each blurry class's training examples spread over the other tasks",
    default: 10,
    min: 0,
    max: 100,
  }),
  classOrder: o.enum(['natural', 'seeded'], {
    description:
      'which classes are disjoint and which task owns each: in order 0,1,2,…, or a permutation drawn from ' +
      "the run's seed",
    default: 'seeded',
  }),
};

declare module '../../src/plugin/kinds.js' {
  interface StreamPlugins {
    blurry: OptionsInput<typeof options>;
  }
}

/** `items` in `parts` consecutive groups whose sizes differ by at most one. */
function groups<T>(items: readonly T[], parts: number): T[][] {
  return Array.from({ length: parts }, (_, k) =>
    items.slice(Math.floor((k * items.length) / parts), Math.floor(((k + 1) * items.length) / parts)),
  );
}

export default definePlugin({
  kind: 'stream',
  name: 'blurry',
  description: 'i-Blurry-N-M: N % of classes disjoint, M % of each blurry class in other tasks (Koh et al., 2022)',
  options,
  validate(opts) {
    const problems: Problem[] = [];
    if (opts.tasks < 2 && opts.blurry > 0)
      problems.push({ path: 'blurry', message: 'a blurry class needs another task to spread into: tasks >= 2' });
    return problems;
  },
  async create(opts, ctx) {
    const data = await ctx.resolve('dataset');
    const rng = ctx.rng('blurry');
    const order = Array.from({ length: data.numClasses }, (_, i) => i);
    if (opts.classOrder === 'seeded') rng.fork('class-order').shuffle(order);
    const nDisjoint = Math.round((data.numClasses * opts.disjoint) / 100);
    const disjoint = groups(order.slice(0, nDisjoint), opts.tasks);
    const blurry = groups(order.slice(nDisjoint), opts.tasks);
    const owner = new Map<number, number>();
    for (let k = 0; k < opts.tasks; k++) {
      if (disjoint[k].length + blurry[k].length === 0)
        throw new Error(`stream.tasks: ${data.numClasses} classes cannot give each of ${opts.tasks} tasks one`);
      for (const c of [...disjoint[k], ...blurry[k]]) owner.set(c, k);
    }
    const isBlurry = new Set(order.slice(nDisjoint));
    // Each training example's task: its class's owner, or for M % of a blurry class's examples another task.
    const byTask: number[][] = Array.from({ length: opts.tasks }, () => []);
    const moves = rng.fork('moves');
    const byClass = new Map<number, number[]>();
    data.train.labels.forEach((l, i) => (byClass.get(l) ?? byClass.set(l, []).get(l)!).push(i));
    for (const c of order) {
      const rows = moves.shuffle(Int32Array.from(byClass.get(c) ?? []));
      const moved = isBlurry.has(c) ? Math.round((rows.length * opts.blurry) / 100) : 0;
      rows.forEach((i, n) => {
        const own = owner.get(c)!;
        const other = n < moved ? (own + 1 + moves.int(opts.tasks - 1)) % opts.tasks : own;
        byTask[other].push(i);
      });
    }
    const size = featureSize(data.featureShape);
    const tasks: Task[] = byTask.map((rows, index) => {
      const own = [...disjoint[index], ...blurry[index]].sort((a, b) => a - b);
      const train = takeExamples(data.train, Int32Array.from(rows.sort((a, b) => a - b)), size);
      const testRows = Int32Array.from(
        [...data.test.labels.keys()].filter((i) => owner.get(data.test.labels[i]) === index),
      );
      const present = [...new Set(train.labels)].sort((a, b) => a - b);
      return {
        index,
        name: `t${index}:{${own.join(',')}}`,
        classes: [...new Set([...own, ...present])].sort((a, b) => a - b),
        train,
        test: takeExamples(data.test, testRows, size),
      };
    });
    for (const t of tasks)
      if (t.train.count === 0 || t.test.count === 0)
        throw new Error(
          `stream: task ${t.name} has no ${t.train.count === 0 ? 'training' : 'test'} examples in ${data.name}`,
        );
    const name = `blurry${opts.disjoint}-${opts.blurry}-${data.name}`;
    return { name, featureShape: data.featureShape, numClasses: data.numClasses, tasks };
  },
});
