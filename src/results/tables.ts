// Column layouts of the Arrow tables: long format, one row per fact, so that
// pyarrow, polars and DuckDB read them directly.
import {
  Float64,
  Int32,
  Table,
  Utf8,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
  type DataType,
  type Vector,
} from 'apache-arrow';
import { readFileSync } from 'node:fs';

type ColumnType = 'utf8' | 'int32' | 'int32?' | 'float64' | 'float64?';
const TYPES: Record<ColumnType, () => DataType> = {
  utf8: () => new Utf8(),
  int32: () => new Int32(),
  'int32?': () => new Int32(),
  float64: () => new Float64(),
  'float64?': () => new Float64(),
};

export const EVALS_COLUMNS = {
  run_id: 'utf8',
  trained_task: 'int32',
  eval_task: 'int32',
  eval_set: 'utf8',
  accuracy: 'float64',
  loss: 'float64',
  examples: 'int32',
  /** WiSE-FT's interpolation weight for rows of an interpolated model; null for every other row. */
  alpha: 'float64?',
  /** The run's optimizer steps when the model was scored; null on interpolated models' rows. */
  step: 'int32?',
  /** Training examples sampled from the stream when the model was scored; null on interpolated models' rows. */
  seen: 'int32?',
} as const satisfies Record<string, ColumnType>;

export const STEPS_COLUMNS = {
  run_id: 'utf8',
  task: 'int32',
  epoch: 'int32',
  step: 'int32',
  global_step: 'int32',
  /** The task's phase (index into the experiment's `phases`); 0 without phases. */
  phase: 'int32',
  loss: 'float64',
  learning_rate: 'float64',
  examples_per_second: 'float64',
} as const satisfies Record<string, ColumnType>;

export const CONSTRAINTS_COLUMNS = {
  run_id: 'utf8',
  task: 'int32',
  step: 'int32',
  global_step: 'int32',
  tensor: 'utf8',
  constraint: 'float64',
  distance: 'float64',
} as const satisfies Record<string, ColumnType>;

/**
 * `compare --select`: every candidate configuration of every group, its validation score, whether chosen, and its test
 * metrics.
 */
export const SELECTION_COLUMNS = {
  group: 'utf8',
  config_id: 'utf8',
  settings: 'utf8',
  chosen: 'int32',
  metric: 'utf8',
  judged_tasks: 'int32',
  seeds: 'int32',
  validation_mean: 'float64',
  validation_std: 'float64',
  test_acc_mean: 'float64',
  test_acc_std: 'float64',
  test_forgetting_mean: 'float64',
  test_forgetting_std: 'float64',
} as const satisfies Record<string, ColumnType>;

type Nullable = 'float64?' | 'int32?';
/** A row: nullable columns may be absent (tables written before the column existed read back without it). */
type RowOf<C extends Record<string, ColumnType>> = {
  [K in keyof C as C[K] extends Nullable ? never : K]: C[K] extends 'utf8' ? string : number;
} & { [K in keyof C as C[K] extends Nullable ? K : never]?: number | null };
export type EvalRow = RowOf<typeof EVALS_COLUMNS>;
export type StepRow = RowOf<typeof STEPS_COLUMNS>;
export type ConstraintRow = RowOf<typeof CONSTRAINTS_COLUMNS>;
export type SelectionRow = RowOf<typeof SELECTION_COLUMNS>;

/** Builds a typed table (also when there are no rows: the schema is still written). */
export function buildTable<C extends Record<string, ColumnType>>(columns: C, rows: readonly RowOf<C>[]): Table {
  const vectors: Record<string, Vector> = {};
  for (const [name, type] of Object.entries(columns)) {
    vectors[name] = vectorFromArray(
      rows.map((r) => (r as Record<string, unknown>)[name] ?? null) as never[],
      TYPES[type]() as never,
    );
  }
  return new Table(vectors);
}

export function encodeTable(table: Table): Uint8Array {
  return tableToIPC(table, 'file');
}

export function readTable(path: string): Table {
  return tableFromIPC(readFileSync(path));
}

export function readRows<T>(path: string): T[] {
  return readTable(path)
    .toArray()
    .map((r: { toJSON(): unknown }) => r.toJSON() as T);
}
