// Writes that survive a power loss: a file's bytes reach the disk before a
// rename names it, and the rename itself before anything relies on it.
// Without the fsyncs a crash can leave a renamed file empty or short, which
// is what a reader (a resume, a report) would then trust.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Writes `data` to `path` and flushes it to the disk. */
export function writeFileDurably(path: string, data: Uint8Array | string): void {
  const fd = openSync(path, 'w');
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Flushes a folder's entries (names created, renamed or removed in it) to the disk. */
export function syncFolder(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replaces `path` with `data` through `tmp`: readers see the old file or the whole new one; `tmp` never stays. */
export function replaceFileDurably(path: string, data: Uint8Array | string, tmp = `${path}.tmp`): void {
  try {
    writeFileDurably(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  syncFolder(dirname(path));
}
