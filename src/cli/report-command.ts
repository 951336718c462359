import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { OutputError, outputFolderProblem, outputProblem, writeOutputFile } from '../results/output-file.js';
import { GROUP_COLUMNS, compareRuns, type GroupColumn } from '../report/compare.js';
import { reportFigures } from '../report/figures.js';
import { reportHtml, type RenderedFigure } from '../report/html.js';
import { renderSvg, svgToPng } from '../report/render.js';
import { UsageError } from './exit-codes.js';
import type { CliIO } from './io.js';

export interface ReportArgs {
  results: string;
  by: string;
  out?: string;
  figures?: string;
  title?: string;
}

/** An earlier report of anchorage's, which a new one may replace. */
function isReport(existing: Buffer): boolean {
  const head = existing.subarray(0, 4096).toString('utf8');
  return head.startsWith('<!doctype html>') && head.includes('— anchorage report</title>');
}

/** Where the report and its figures go, checked before anything is computed. */
function outputs(args: ReportArgs): string {
  const out = resolve(args.out ?? join(args.results, 'report.html'));
  const problem = outputProblem(out, 'report', isReport);
  if (problem) throw new UsageError(`--out: ${problem}`);
  const figures = args.figures && outputFolderProblem(args.figures, 'report');
  if (figures) throw new UsageError(`--figures: ${figures}`);
  return out;
}

function write(path: string, data: string | Uint8Array, hint: string): void {
  try {
    writeOutputFile(path, data);
  } catch (e) {
    if (e instanceof OutputError) throw new UsageError(`${e.message}${hint}`);
    throw e;
  }
}

/** `anchorage report`: the comparison of `compare` as one self-contained HTML page of tables and figures. */
export async function reportCommand(args: ReportArgs, io: CliIO): Promise<number> {
  const started = performance.now();
  if (!existsSync(args.results)) throw new UsageError(`no such results folder: ${args.results}`);
  if (!statSync(args.results).isDirectory())
    throw new UsageError(`${args.results} is a file; report takes a results folder (e.g. results/three-scenarios)`);
  const out = outputs(args);
  let by = args.by
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = by.filter((c) => !(GROUP_COLUMNS as readonly string[]).includes(c));
  if (unknown.length)
    throw new UsageError(`--by: unknown column ${unknown.join(', ')}; columns: ${GROUP_COLUMNS.join(', ')}`);
  let comparison = compareRuns(args.results, by as GroupColumn[]);
  if (comparison.groups.length === 0 && comparison.notComplete.length === 0)
    throw new UsageError(`no runs under ${args.results}`);
  const warnings: string[] = [];
  const experiments = [...new Set(comparison.groups.flatMap((g) => g.runs.map((r) => r.columns.experiment)))].sort();
  if (experiments.length > 1 && !by.includes('experiment')) {
    // Averaging runs of different experiments together would mean nothing: they are kept apart.
    by = ['experiment', ...by];
    comparison = compareRuns(args.results, by as GroupColumn[]);
    warnings.push(
      `${args.results} holds runs of ${experiments.length} experiments (${experiments.join(', ')}); they are ` +
        `grouped by experiment as well.`,
    );
  }
  if (comparison.notComplete.length)
    warnings.push(
      `${comparison.notComplete.length} run${comparison.notComplete.length > 1 ? 's are' : ' is'} not complete ` +
        `and not averaged (listed at the end).`,
    );
  for (const w of warnings) io.err(`warning: ${w}\n`);

  const figures: RenderedFigure[] = [];
  for (const f of reportFigures(comparison)) figures.push({ ...f, svg: await renderSvg(f.spec) });
  const title = args.title ?? (experiments.length === 1 ? experiments[0] : basename(resolve(args.results)));
  const html = reportHtml({
    title,
    source: args.results,
    comparison,
    figures,
    warnings,
    generatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  });
  write(out, html, args.out ? '' : ' (give --out a file in a folder you can write)');
  if (args.figures) {
    for (const f of figures) {
      write(join(args.figures, `${f.id}.svg`), f.svg, '');
      write(join(args.figures, `${f.id}.png`), svgToPng(f.svg), '');
    }
  }
  const seconds = (performance.now() - started) / 1000;
  io.out(
    `report: ${out} (${figures.length} figures, ${(Buffer.byteLength(html) / 1024).toFixed(0)} KB) in ` +
      `${seconds.toFixed(1)} s\n`,
  );
  if (args.figures) io.out(`figures: ${resolve(args.figures)} (${figures.length} × SVG and PNG)\n`);
  return 0;
}
