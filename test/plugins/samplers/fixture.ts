// A task for the low-label samplers' tests: 3 classes of 100, 200 and 300 examples, interleaved.
import { resolveOptions } from '../../../src/plugin/options.js';
import type { Rng } from '../../../src/tensor/rng.js';
import type { Task } from '../../../src/contracts/stream.js';
import type { PluginContext } from '../../../src/plugin/define-plugin.js';
import type fraction from '../../../plugins/samplers/fraction.js';
import type perClass from '../../../plugins/samplers/per-class.js';

export const labels = Int32Array.from({ length: 600 }, (_, i) => (i % 6 === 0 ? 0 : i % 6 < 3 ? 1 : 2));
export const task: Task = {
  index: 0,
  name: 't0',
  classes: [0, 1, 2],
  train: { features: new Float32Array(600), labels, count: 600 },
  test: { features: new Float32Array(0), labels: new Int32Array(0), count: 0 },
};
const ctx = {} as PluginContext;
export const make = (plugin: typeof fraction | typeof perClass, input: object) =>
  plugin.create(resolveOptions(plugin.options as never, input as never, 's').options, ctx) as {
    subset: (t: Task, r: Rng) => Int32Array;
    order: (s: Int32Array, e: number, r: Rng) => Int32Array;
  };
/** Examples of each class among the indices. */
export const counts = (idx: Int32Array) => [0, 1, 2].map((c) => [...idx].filter((i) => labels[i] === c).length);
