// The result tables: run.json, evals.arrow, steps.arrow, constraints.arrow per
// run, written atomically when the run ends. Always on — a run's results are
// these files (whether a run is complete, what compare and report read).
import { definePlugin, type OptionsInput, resultsReporter } from '../../src/plugin-api.js';

const options = {};

declare module '../../src/plugin/kinds.js' {
  interface ReporterPlugins {
    arrow: OptionsInput<typeof options>;
  }
}

export default definePlugin({
  kind: 'reporter',
  name: 'arrow',
  description: "each run's results as Arrow IPC tables and run.json (always on: they are the results)",
  options,
  create: (_opts, ctx) => resultsReporter(ctx.out),
});
