// The progress display as a reporter: one live status line on a terminal,
// plain lines elsewhere (what `anchorage run` shows unless --quiet).
import { definePlugin, type OptionsInput, showProgress } from '../../src/plugin-api.js';

const options = {};

declare module '../../src/plugin/kinds.js' {
  interface ReporterPlugins {
    progress: OptionsInput<typeof options>;
  }
}

export default definePlugin({
  kind: 'reporter',
  name: 'progress',
  description: "each run's tasks, steps, loss and speed as it trains (on by default; --quiet turns it off)",
  options,
  create: (_opts, ctx) => {
    // Runs trained together (--together) print at once: their lines then name their run.
    const concurrent = { count: 0 };
    return {
      name: 'progress',
      onRun(events) {
        showProgress(events, { tty: ctx.tty, write: ctx.write, concurrent });
      },
    };
  },
});
