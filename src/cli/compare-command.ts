import { existsSync, statSync } from 'node:fs';
import { GROUP_COLUMNS, compareRuns, formatComparison, type Format, type GroupColumn } from '../report/compare.js';
import { UsageError } from './exit-codes.js';
import type { CliIO } from './io.js';

export function compareCommand(args: { results: string; by: string; format: Format; matrix?: number }, io: CliIO): number {
  if (!existsSync(args.results)) throw new UsageError(`no such results folder: ${args.results}`);
  if (!statSync(args.results).isDirectory()) throw new UsageError(`${args.results} is a file; compare takes a results folder (e.g. results/split-mnist)`);
  const by = args.by.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = by.filter((c) => !(GROUP_COLUMNS as readonly string[]).includes(c));
  if (unknown.length) throw new UsageError(`--by: unknown column ${unknown.join(', ')}; columns: ${GROUP_COLUMNS.join(', ')}`);
  if (args.matrix !== undefined && (!Number.isInteger(args.matrix) || args.matrix < 1)) throw new UsageError(`--matrix must be a group number >= 1`);
  const comparison = compareRuns(args.results, by as GroupColumn[]);
  if (comparison.groups.length === 0 && comparison.notComplete.length === 0) throw new UsageError(`no runs under ${args.results}`);
  io.out(formatComparison(comparison, args.format, args.matrix) + '\n');
  return 0;
}
