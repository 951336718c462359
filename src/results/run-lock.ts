// One process trains a run at a time: two `anchorage run`s started on one
// results folder share the work instead of both training every run. The
// lock is a file beside the run folder naming its owner — pid, host and the
// process's start time — so that a lock whose process is gone (killed,
// crashed), or whose pid now belongs to another process, is taken over.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';

/** Who holds a lock, as its file says. */
export interface LockOwner {
  pid: number;
  host: string;
  /** The process's start time (Linux: clock ticks after boot, /proc/<pid>/stat), or null where unknown. */
  started: number | null;
}

/** A live process holds the lock: who, and the lock file a user may remove once that process is gone. */
export interface LockHeld {
  heldBy: LockOwner;
  file: string;
}

/** A process's start time, or null where /proc does not say (another OS, a process that is gone). */
export function processStart(pid: number | 'self'): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    const start = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    return Number.isFinite(start) ? start : null;
  } catch {
    return null;
  }
}

function alive(owner: LockOwner): boolean {
  // Another machine sharing the folder: its processes cannot be checked from here.
  if (owner.host !== hostname()) return true;
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // The pid is in use; by the process that took the lock only if it started when that one did.
  const started = processStart(owner.pid);
  return owner.started === null || started === null || started === owner.started;
}

/** The owner a lock file names: JSON, or a bare pid as locks of earlier versions hold. */
function readOwner(path: string): LockOwner | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  if (/^\d+$/.test(text.trim())) return { pid: Number(text), host: hostname(), started: null };
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (Number.isInteger(o.pid) && typeof o.host === 'string')
      return { pid: o.pid!, host: o.host, started: typeof o.started === 'number' ? o.started : null };
  } catch {
    // Not a lock anchorage wrote (half-written by a process killed in between): stale.
  }
  return undefined;
}

/** How long a lock file may stay unreadable while the process that created it writes its owner. */
const BEING_WRITTEN_MS = 2000;

/**
 * The owner of a lock file another process may have only just created: `open('wx')` and the write of its owner are
 * two calls, and a file read between them is empty. An unreadable file younger than BEING_WRITTEN_MS is read again
 * until it says who holds it; one older than that was left by a process killed in between, and is stale.
 */
function settledOwner(path: string): LockOwner | undefined {
  for (;;) {
    const owner = readOwner(path);
    let age: number;
    try {
      age = Date.now() - statSync(path).mtimeMs;
    } catch {
      return owner; // removed meanwhile: its holder finished
    }
    if (owner || age > BEING_WRITTEN_MS) return owner;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}

export function lockPath(runDir: string): string {
  return join(dirname(runDir), `.${basename(runDir)}.lock`);
}

/** Takes the run's lock: a release function, or who holds it. */
export function lockRun(runDir: string): { release: () => void } | LockHeld {
  const path = lockPath(runDir);
  mkdirSync(dirname(path), { recursive: true });
  const me: LockOwner = { pid: process.pid, host: hostname(), started: processStart('self') };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      return { release: () => rmSync(path, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = settledOwner(path);
      if (owner && !(owner.pid === me.pid && owner.host === me.host) && alive(owner))
        return { heldBy: owner, file: path };
      rmSync(path, { force: true }); // stale: its process is gone
    }
  }
  return { heldBy: { pid: -1, host: hostname(), started: null }, file: path };
}

/** One line saying who holds a lock and how to free it. */
export function describeHolder(held: LockHeld): string {
  const { pid, host } = held.heldBy;
  return `pid ${pid}${host === hostname() ? '' : ` on ${host}`}; lock ${held.file}, to remove if that process is gone`;
}
