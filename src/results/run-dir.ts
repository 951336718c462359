import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import type { RunStatus } from '../contracts/events.js';
import { syncFolder, writeFileDurably } from '../durable-files.js';

export const RUN_FILES = {
  run: 'run.json',
  evals: 'evals.arrow',
  steps: 'steps.arrow',
  constraints: 'constraints.arrow',
} as const;

export function runDir(out: string, experiment: string, runId: string): string {
  return join(out, experiment, runId);
}

export interface RunRecord {
  format: 'anchorage-run/1';
  runId: string;
  experiment: string;
  status: RunStatus;
  error?: string;
  seed: number;
  [key: string]: unknown;
}

export function readRunRecord(dir: string): RunRecord | undefined {
  const path = join(dir, RUN_FILES.run);
  if (!existsSync(path)) return undefined;
  try {
    const record = JSON.parse(readFileSync(path, 'utf8')) as RunRecord;
    return recordProblem(record) ? undefined : record;
  } catch {
    return undefined;
  }
}

/** What is wrong with a parsed run.json, if anything: the fields every reader relies on. */
function recordProblem(record: unknown): string | undefined {
  if (typeof record !== 'object' || record === null) return 'not an object';
  const r = record as Partial<RunRecord>;
  if (r.format !== 'anchorage-run/1') return `format is ${JSON.stringify(r.format)}, not "anchorage-run/1"`;
  if (typeof r.runId !== 'string' || typeof r.experiment !== 'string' || typeof r.status !== 'string')
    return 'runId, experiment or status is missing';
  return undefined;
}

/** Why a folder's run.json cannot be read as a run record (undefined when it can, or when there is none). */
export function recordFileProblem(dir: string): string | undefined {
  const path = join(dir, RUN_FILES.run);
  if (!existsSync(path)) return undefined;
  try {
    const p = recordProblem(JSON.parse(readFileSync(path, 'utf8')));
    return p ? `${RUN_FILES.run}: ${p}` : undefined;
  } catch (e) {
    return `${RUN_FILES.run} is not valid JSON (${(e as Error).message})`;
  }
}

/**
 * Why a run folder does not hold a complete run, or undefined when it does:
 * its record says `completed`, every table reads back, and evals.arrow has a
 * row for every (trained task, evaluated task) pair, the untrained model
 * included. A truncated or corrupt table makes the run incomplete (it is
 * redone), never a crash later.
 */
export function runProblem(dir: string): string | undefined {
  const record = readRunRecord(dir);
  if (!record) return `${RUN_FILES.run} is missing or not JSON`;
  if (record.status !== 'completed') return `status ${record.status}`;
  for (const file of [RUN_FILES.evals, RUN_FILES.steps, RUN_FILES.constraints]) {
    const path = join(dir, file);
    if (!existsSync(path)) return `${file} is missing`;
    let rows: number;
    try {
      rows = tableFromIPC(readFileSync(path)).numRows;
    } catch (e) {
      return `${file} does not read back (${(e as Error).message})`;
    }
    const tasks = Array.isArray(record.tasks) ? record.tasks.length : 0;
    // A run is evaluated before training and after every task; a soup (one model, made after the last task) before
    // and after.
    const soup = (record.config as { soup?: unknown } | undefined)?.soup !== undefined;
    const least = soup ? 2 * tasks : (tasks + 1) * tasks;
    if (file === RUN_FILES.evals && rows < least)
      return `${file} has ${rows} rows; a complete ${soup ? 'soup' : 'run'} of ${tasks} tasks has at least ${least}`;
  }
  return undefined;
}

/** A run whose record says `completed` and whose tables read back whole. */
export function isRunComplete(dir: string): boolean {
  return runProblem(dir) === undefined;
}

/** A run folder moved aside by a replace (`.<run>.old-<pid>-<time>`) and a run being written (`.tmp-`). */
const ASIDE = /^\.(.+)\.(old|tmp)-(\d+)-\d+$/;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Puts right what a process killed in the middle of a replace left in an experiment's folder: a run moved aside
 * whose replacement never arrived goes back in place; a run moved aside after its replacement arrived, and a
 * half-written run whose writer is gone, are removed. A writer still alive is left alone.
 */
export function recoverRunDirs(experimentDir: string): void {
  if (!existsSync(experimentDir)) return;
  for (const name of readdirSync(experimentDir)) {
    const m = ASIDE.exec(name);
    if (!m || processAlive(Number(m[3]))) continue;
    const aside = join(experimentDir, name);
    const run = join(experimentDir, m[1]);
    if (m[2] === 'old' && !existsSync(run)) renameSync(aside, run);
    else rmSync(aside, { recursive: true, force: true });
  }
}

/** What writing a run's files did: replaced (or created) its folder, or kept the complete run already there. */
export type RunWrite = 'written' | 'kept';

/**
 * Writes a run's files into a private temporary folder beside the target and
 * renames it into place, so a crash or a concurrent reader never sees a
 * half-written run. A complete run already there is replaced only by another
 * complete one: a rerun that was interrupted, diverged or failed keeps it.
 * A kill between the two renames of a replace leaves the old run aside,
 * where readers still find it and the next `run` puts it back
 * (recoverRunDirs).
 */
export function writeRunAtomically(
  dir: string,
  files: Record<string, Uint8Array | string>,
  status: RunStatus,
): RunWrite {
  const parent = join(dir, '..');
  mkdirSync(parent, { recursive: true });
  recoverRunDirs(parent);
  if (status !== 'completed' && isRunComplete(dir)) return 'kept';
  const base = dir.slice(parent.length + 1);
  const tmp = join(parent, `.${base}.tmp-${process.pid}-${Date.now()}`);
  mkdirSync(tmp);
  try {
    // run.json last: its presence marks the others as complete.
    const names = Object.keys(files).sort((a, b) => Number(a === RUN_FILES.run) - Number(b === RUN_FILES.run));
    for (const name of names) writeFileDurably(join(tmp, name), files[name]);
    syncFolder(tmp);
    if (existsSync(dir)) {
      const old = join(parent, `.${base}.old-${process.pid}-${Date.now()}`);
      renameSync(dir, old);
      renameSync(tmp, dir);
      syncFolder(parent);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, dir);
      syncFolder(parent);
    }
    return 'written';
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Every run folder under an experiment's results (or a whole results tree). A run moved aside by a replace that
 * was killed before its replacement arrived counts as the run (readers may not write: `run` puts it back).
 */
export function findRunDirs(root: string): string[] {
  if (!existsSync(root)) return [];
  if (existsSync(join(root, RUN_FILES.run))) return [root];
  const entries = readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory());
  const names = new Set(entries.map((d) => d.name));
  const stranded = entries.filter((d) => {
    const m = ASIDE.exec(d.name);
    return m?.[2] === 'old' && !names.has(m[1]) && existsSync(join(root, d.name, RUN_FILES.run));
  });
  return [
    ...entries.filter((d) => !d.name.startsWith('.')).flatMap((d) => findRunDirs(join(root, d.name))),
    ...stranded.map((d) => join(root, d.name)),
  ].sort();
}
