// One process trains a run at a time: two `anchorage run`s started on one
// results folder share the work instead of both training every run. The
// lock is a file beside the run folder holding the owner's pid; a lock whose
// process is gone (killed, crashed) is taken over.
import { openSync, readFileSync, rmSync, writeSync, closeSync, mkdirSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function lockPath(runDir: string): string {
  return join(dirname(runDir), `.${basename(runDir)}.lock`);
}

/** Takes the run's lock: a release function, or the pid of the live process that holds it. */
export function lockRun(runDir: string): { release: () => void } | { heldBy: number } {
  const path = lockPath(runDir);
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return { release: () => rmSync(path, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(path, 'utf8'));
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) return { heldBy: pid };
      rmSync(path, { force: true }); // stale: its process is gone
    }
  }
  return { heldBy: -1 };
}
