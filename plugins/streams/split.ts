import { definePlugin, numpyPermutation, o, type OptionsInput, type Problem } from '../../src/plugin-api.js';
import { featureSize, takeExamples, type Examples } from '../../src/contracts/data.js';
import type { Task } from '../../src/contracts/stream.js';

const options = {
  tasksOf: o.integer({ description: 'classes per task when `tasks` is not given', default: 2, min: 1 }),
  tasks: o.integerGroups({
    description: 'explicit class list per task, e.g. [[0,1],[2,3]] (default: consecutive groups of tasksOf)',
    default: [],
    min: 0,
  }),
  classOrder: o.enum(['natural', 'seeded', 'van-de-ven'], {
    description:
      "order classes are grouped in: 0,1,2,…; a permutation drawn from the run's seed; or 'van-de-ven': the " +
      "order of van de Ven's continual-learning code (np.random.seed(seed); p = np.random.permutation(classes); " +
      'task k holds the classes p maps to k·tasksOf…; seed 0 keeps the natural order)',
    default: 'natural',
  }),
};

declare module '../../src/plugin/kinds.js' {
  interface StreamPlugins {
    split: OptionsInput<typeof options>;
  }
}

function indicesOf(labels: Int32Array, classes: ReadonlySet<number>): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < labels.length; i++) if (classes.has(labels[i])) out.push(i);
  return Int32Array.from(out);
}

/** Class-incremental splits of a data set: Split MNIST is `tasksOf: 2` over MNIST. */
export default definePlugin({
  kind: 'stream',
  name: 'split',
  description: "the dataset's classes divided into tasks (Split MNIST: 5 tasks of 2 digits)",
  options,
  validate(opts) {
    const problems: Problem[] = [];
    const seen = new Set<number>();
    opts.tasks.forEach((group, i) => {
      if (group.length === 0) problems.push({ path: `tasks[${i}]`, message: 'a task needs at least one class' });
      for (const c of group) {
        if (seen.has(c)) problems.push({ path: `tasks[${i}]`, message: `class ${c} appears in more than one task` });
        seen.add(c);
      }
    });
    return problems;
  },
  async create(opts, ctx) {
    const data = await ctx.resolve('dataset');
    let groups = opts.tasks;
    if (groups.length === 0) {
      const order = Array.from({ length: data.numClasses }, (_, i) => i);
      if (opts.classOrder === 'seeded') ctx.rng('class-order').shuffle(order);
      if (opts.classOrder === 'van-de-ven' && ctx.seed !== 0) {
        // Digit y is relabelled p[y]; listing classes by their new label gives the tasks' contents and order.
        const p = numpyPermutation(ctx.seed, data.numClasses);
        order.sort((a, b) => p[a] - p[b]);
      }
      if (data.numClasses % opts.tasksOf !== 0) {
        throw new Error(
          `stream.tasksOf: ${data.name} has ${data.numClasses} classes, not divisible into tasks of ${opts.tasksOf}`,
        );
      }
      groups = [];
      for (let i = 0; i < order.length; i += opts.tasksOf) groups.push(order.slice(i, i + opts.tasksOf));
    }
    for (const c of groups.flat()) {
      if (c >= data.numClasses)
        throw new Error(`stream.tasks: class ${c} does not exist in ${data.name} (classes 0..${data.numClasses - 1})`);
    }
    const size = featureSize(data.featureShape);
    // A task's training examples are the data set's rows of its classes, copied out when read; only the last
    // task's copy is kept (a run reads one task's many times in a row), so the stream holds one copy of the
    // data set, not two. Test sets are kept: every evaluation point reads every task's.
    let cached: { index: number; examples: Examples } | undefined;
    const tasks: Task[] = groups.map((classes, index) => {
      const set = new Set(classes);
      const rows = indicesOf(data.train.labels, set);
      const name = `t${index}:{${classes.join(',')}}`;
      const test = takeExamples(data.test, indicesOf(data.test.labels, set), size);
      if (rows.length === 0 || test.count === 0)
        throw new Error(
          `stream: task ${name} has no ${rows.length === 0 ? 'training' : 'test'} examples in ${data.name}`,
        );
      return {
        index,
        name,
        classes: [...classes],
        get train() {
          if (cached?.index !== index) cached = { index, examples: takeExamples(data.train, rows, size) };
          return cached.examples;
        },
        test,
      };
    });
    return { name: `split-${data.name}`, featureShape: data.featureShape, numClasses: data.numClasses, tasks };
  },
});
