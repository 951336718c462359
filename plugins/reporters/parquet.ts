// Parquet copies of a run's tables beside the Arrow files (evals.parquet, …),
// for tools that read Parquet but not Arrow IPC (DuckDB's Node package, Spark,
// pandas without pyarrow). Written with parquet-wasm once the run's folder is
// in place; the Arrow files stay the source of truth.
import { definePlugin, o, type OptionsInput, RUN_FILES } from '../../src/plugin-api.js';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC, tableToIPC } from 'apache-arrow';

const TABLES = ['evals', 'steps', 'constraints'] as const;
const options = {
  tables: o.strings({ description: `which tables to copy (${TABLES.join(', ')})`, default: [...TABLES] }),
};

declare module '../../src/plugin/kinds.js' {
  interface ReporterPlugins {
    parquet: OptionsInput<typeof options>;
  }
}

export default definePlugin({
  kind: 'reporter',
  name: 'parquet',
  description: "Parquet copies (evals.parquet, steps.parquet, constraints.parquet) of each finished run's tables",
  options,
  validate: (opts) =>
    opts.tables.flatMap((t, i) =>
      (TABLES as readonly string[]).includes(t)
        ? []
        : [{ path: `tables[${i}]`, message: `unknown table '${t}'; tables: ${TABLES.join(', ')}` }],
    ),
  async create(opts) {
    // Loaded only when asked for: its wasm module is a few MB.
    const { Table, writeParquet } = await import('parquet-wasm');
    return {
      name: 'parquet',
      onSweepEvent(e) {
        if (e.type !== 'run-finished') return;
        for (const table of opts.tables as (typeof TABLES)[number][]) {
          const source = join(e.dir, RUN_FILES[table]);
          if (!existsSync(source)) continue;
          const ipc = tableToIPC(tableFromIPC(readFileSync(source)), 'stream');
          const target = join(e.dir, `${table}.parquet`);
          writeFileSync(`${target}.tmp`, writeParquet(Table.fromIPCStream(ipc)));
          renameSync(`${target}.tmp`, target);
        }
      },
    };
  },
});
