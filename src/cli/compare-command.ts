import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  GROUP_COLUMNS,
  SelectionError,
  compareRuns,
  formatComparison,
  selectionColumns,
  selectionRows,
  type Comparison,
  type Format,
  type GroupColumn,
} from '../report/compare.js';
import { SELECTION_COLUMNS, buildTable, encodeTable } from '../results/tables.js';
import { OutputError, outputProblem, writeOutputFile } from '../results/output-file.js';
import { tableFromIPC } from 'apache-arrow';
import { UsageError } from './exit-codes.js';
import type { CliIO } from './io.js';

/** An earlier selection table, which a new selection replaces. */
function isSelectionTable(existing: Buffer): boolean {
  try {
    return tableFromIPC(existing).schema.fields.some((f) => f.name === 'chosen');
  } catch {
    return false;
  }
}

export const DEFAULT_BY = 'experiment,scenario,optimizer,config';

export function compareCommand(
  args: { results: string; by?: string; format: Format; matrix?: number; select?: boolean },
  io: CliIO,
): number {
  if (!existsSync(args.results)) throw new UsageError(`no such results folder: ${args.results}`);
  if (!statSync(args.results).isDirectory())
    throw new UsageError(`${args.results} is a file; compare takes a results folder (e.g. results/split-mnist)`);
  const byText = args.by ?? (args.select ? selectionColumns(args.results).join(',') : DEFAULT_BY);
  const by = byText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = by.filter((c) => !(GROUP_COLUMNS as readonly string[]).includes(c));
  if (unknown.length)
    throw new UsageError(`--by: unknown column ${unknown.join(', ')}; columns: ${GROUP_COLUMNS.join(', ')}`);
  if (args.matrix !== undefined && (!Number.isInteger(args.matrix) || args.matrix < 1))
    throw new UsageError(`--matrix must be a group number >= 1`);
  let comparison: Comparison;
  try {
    comparison = compareRuns(args.results, by as GroupColumn[], { select: args.select });
  } catch (e) {
    if (e instanceof SelectionError) throw new UsageError(`--select: ${e.message}`);
    throw e;
  }
  if (comparison.groups.length === 0 && comparison.notComplete.length === 0)
    throw new UsageError(`no runs under ${args.results}`);
  if (args.select) {
    // The selection is recorded beside the runs: every candidate, its validation score, which was chosen.
    // A results folder the user may read but not write still gets its comparison printed.
    const path = join(args.results, 'selection.arrow');
    const problem = outputProblem(path, 'compare --select', isSelectionTable);
    try {
      if (problem) throw new OutputError(problem);
      writeOutputFile(path, encodeTable(buildTable(SELECTION_COLUMNS, selectionRows(comparison))));
      io.err?.(`selection recorded in ${path}\n`);
    } catch (e) {
      if (!(e instanceof OutputError)) throw e;
      io.err?.(`warning: the selection is not recorded: ${e.message}\n`);
    }
  }
  io.out(formatComparison(comparison, args.format, args.matrix) + '\n');
  return 0;
}
