import { definePlugin, o, type OptionsInput } from '../../src/plugin-api.js';
import { classOrders, shuffledOrder, takePerClass } from './stratified.js';

const options = {
  k: o.integer({ description: 'labelled examples per class', min: 1 }),
};

declare module '../../src/plugin/kinds.js' {
  interface SamplerPlugins {
    'per-class': OptionsInput<typeof options>;
  }
}

/** k labelled examples of every class, seeded and nested across k. */
export default definePlugin({
  kind: 'sampler',
  name: 'per-class',
  description: 'k labelled examples per class; nested across k for one seed',
  options,
  create: (opts) => ({
    subset(task, rng) {
      const orders = classOrders(task, rng);
      for (const [label, order] of orders) {
        if (order.length < opts.k)
          throw new Error(
            `k = ${opts.k} but class ${label} of task ${task.name} has only ${order.length} training examples`,
          );
      }
      return takePerClass(orders, () => opts.k);
    },
    order: (subset, _epoch, rng) => shuffledOrder(subset, rng),
  }),
});
