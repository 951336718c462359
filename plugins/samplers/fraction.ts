import { definePlugin, o, type OptionsInput } from '../../src/plugin-api.js';
import { classOrders, shuffledOrder, takePerClass } from './stratified.js';

const options = {
  fraction: o.number({
    description: 'fraction of the training set to label (stratified by class), e.g. 0.01',
    min: 0,
    max: 1,
    exclusiveMin: true,
  }),
};

declare module '../../src/plugin/kinds.js' {
  interface SamplerPlugins {
    fraction: OptionsInput<typeof options>;
  }
}

/**
 * A fraction p of each task's training set, stratified by class (round(p·n_c)
 * per class, at least one), seeded and nested across fractions.
 */
export default definePlugin({
  kind: 'sampler',
  name: 'fraction',
  description: 'a stratified fraction of the training set; nested across fractions for one seed',
  options,
  create: (opts) => ({
    subset(task, rng) {
      const orders = classOrders(task, rng);
      const total = Math.round(opts.fraction * task.train.count);
      if (total < orders.size) {
        throw new Error(
          `fraction ${opts.fraction} of task ${task.name}'s ${task.train.count} examples is ${total}, fewer ` +
            `than its ${orders.size} classes`,
        );
      }
      return takePerClass(orders, (_label, n) => Math.max(1, Math.round(opts.fraction * n)));
    },
    order: (subset, _epoch, rng) => shuffledOrder(subset, rng),
  }),
});
