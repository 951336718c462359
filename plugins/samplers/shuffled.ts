import { definePlugin, type OptionsInput } from '../../src/plugin-api.js';

const options = {};

declare module '../../src/plugin/kinds.js' {
  interface SamplerPlugins {
    shuffled: OptionsInput<typeof options>;
  }
}

/** Every training example of the task, in a fresh seeded order each epoch. */
export default definePlugin({
  kind: 'sampler',
  name: 'shuffled',
  description: 'all training examples, reshuffled every epoch',
  options,
  create() {
    return {
      subset: (task) => Int32Array.from({ length: task.train.count }, (_, i) => i),
      order: (subset, _epoch, rng) => rng.shuffle(Int32Array.from(subset)),
    };
  },
});
