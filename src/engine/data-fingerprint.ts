// What a run reads from disk, fingerprinted: every file or folder a
// component's options name (a data set's files, a pre-trained model). A
// checkpoint records it, and a resume whose files changed since starts over
// rather than train the rest of the run on other data than the start.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { RunConfig } from '../contracts/run-config.js';

/** Path → fingerprint (size, modification time and a hash of the first 64 KiB of each file). */
export type DataFingerprint = Record<string, string>;

const HEAD = 64 * 1024;

function fileFingerprint(path: string): string {
  const stat = statSync(path);
  const head = Buffer.alloc(Math.min(HEAD, stat.size));
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, head.byteLength, 0);
  } finally {
    closeSync(fd);
  }
  return `${stat.size}:${Math.round(stat.mtimeMs)}:${createHash('sha256').update(head).digest('hex').slice(0, 16)}`;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? filesUnder(join(dir, d.name)) : d.isFile() ? [join(dir, d.name)] : [],
  );
}

function pathFingerprint(path: string): string {
  if (!statSync(path).isDirectory()) return fileFingerprint(path);
  const files = filesUnder(path).sort();
  return createHash('sha256')
    .update(files.map((f) => `${f}=${fileFingerprint(f)}`).join('\n'))
    .digest('hex')
    .slice(0, 16);
}

/** Every string option of the run's components that names an existing file or folder, fingerprinted. */
export function dataFingerprint(config: RunConfig): DataFingerprint {
  const base = dirname(config.experimentFile);
  const out: DataFingerprint = {};
  const visit = (v: unknown): void => {
    if (typeof v === 'string' && v.length > 0 && v.length < 4096) {
      const path = isAbsolute(v) ? v : resolve(base, v);
      if (/[\\/.]/.test(v) && existsSync(path)) out[path] = pathFingerprint(path);
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') Object.values(v).forEach(visit);
  };
  for (const component of Object.values(config.components)) visit(component.options);
  return out;
}

/** The paths whose fingerprints differ between two fingerprints, in order; empty when they agree. */
export function changedData(then: DataFingerprint, now: DataFingerprint): string[] {
  const paths = new Set([...Object.keys(then), ...Object.keys(now)]);
  return [...paths].sort().filter((p) => then[p] !== now[p]);
}

/** "a", "a and b", "a, b and c": the changed paths as a sentence names them. */
export function listOfPaths(paths: readonly string[]): string {
  return paths.length < 2 ? paths.join('') : `${paths.slice(0, -1).join(', ')} and ${paths[paths.length - 1]}`;
}
