// Files that `report`, `compare --select` and `report --figures` write beside
// the runs: never into a run folder, never over a file that is not one of
// their own earlier outputs, always atomically, and a folder that cannot be
// written is one line naming it, with no temporary file left behind.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { replaceFileDurably } from '../durable-files.js';
import { RUN_FILES } from './run-dir.js';

/** A file anchorage cannot write where it was asked to: the user's to fix (exit 2). */
export class OutputError extends Error {}

/** The run folder that `path` lies in (itself or an ancestor holding a run.json), if any. */
export function enclosingRunDir(path: string): string | undefined {
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    if (existsSync(resolve(dir, RUN_FILES.run)) && statSync(dir).isDirectory()) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Why `path` may not receive an output of `what`: inside a run folder, a folder, below a file, or an existing file
 * that `isOwn` does not recognise as an earlier output of the same kind. Undefined when it may.
 */
export function outputProblem(path: string, what: string, isOwn: (existing: Buffer) => boolean): string | undefined {
  const target = resolve(path);
  const run = enclosingRunDir(dirname(target));
  if (run) return `${path} lies inside the run folder ${run}; ${what} never writes into a run's results`;
  if (existsSync(target)) {
    if (statSync(target).isDirectory()) return `${path} is a folder; give a file name`;
    if (!isOwn(readFileSync(target))) return `${path} exists and is not an earlier ${what}; it is left as it is`;
  }
  for (let dir = dirname(target); dirname(dir) !== dir; dir = dirname(dir))
    if (existsSync(dir)) return statSync(dir).isDirectory() ? undefined : `${dir} is a file, not a folder`;
  return undefined;
}

/** Why a folder for outputs may not be used: inside a run folder, or a file. Undefined when it may. */
export function outputFolderProblem(path: string, what: string): string | undefined {
  const target = resolve(path);
  const run = enclosingRunDir(target);
  if (run) return `${path} lies inside the run folder ${run}; ${what} never writes into a run's results`;
  for (let dir = target; dirname(dir) !== dir; dir = dirname(dir))
    if (existsSync(dir)) return statSync(dir).isDirectory() ? undefined : `${dir} is a file, not a folder`;
  return undefined;
}

/** Writes `data` to `path` through a temporary file renamed into place; on failure removes it and says why. */
export function writeOutputFile(path: string, data: string | Uint8Array): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    replaceFileDurably(path, data, `${path}.tmp-${process.pid}`);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new OutputError(`cannot write ${path}: ${err.code ?? err.message}`);
  }
}
