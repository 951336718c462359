import { definePlugin, type OptionsInput } from '../../src/plugin-api.js';

const options = {};

declare module '../../src/plugin/kinds.js' {
  interface StrategyPlugins {
    naive: OptionsInput<typeof options>;
  }
}

/** Plain fine-tuning: each task trains on its own data only (the lower bound; van de Ven & Tolias' "None"). */
export default definePlugin({
  kind: 'strategy',
  name: 'naive',
  description: 'plain fine-tuning on each task in turn (the lower bound)',
  options,
  taskFree: true,
  create: () => ({ name: 'naive', checkpoint: () => ({}), restore() {} }),
});
