// Whether results can be written where the user asked, checked before any
// training: an unwritable or full results folder must not be discovered
// only when the first run has finished training.
import { accessSync, constants, statSync, statfsSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';

/** Less free space than this is refused: a run's tables and record take a few MB at most, a checkpoint more. */
const MIN_FREE_BYTES = 64 * 2 ** 20;
const NAME_MAX = 255;

/** The problem with writing under `folder` (which may not exist yet), or undefined when there is none. */
export function resultsFolderProblem(folder: string): string | undefined {
  const path = resolve(folder);
  const long = path.split(sep).find((part) => Buffer.byteLength(part) > NAME_MAX);
  if (long) return `results folder ${path}: the name '${long.slice(0, 40)}…' is longer than ${NAME_MAX} bytes`;
  // The nearest part of the path that exists must be a folder we may write into.
  let existing = path;
  for (;;) {
    try {
      const st = statSync(existing);
      if (!st.isDirectory()) return `results folder ${path} is not a writable folder: ${existing} is a file`;
      break;
    } catch {
      const up = dirname(existing);
      if (up === existing) return `results folder ${path}: no part of the path exists`;
      existing = up;
    }
  }
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch {
    return `results folder ${path} is not a writable folder: no permission to write in ${existing}`;
  }
  try {
    const fs = statfsSync(existing);
    const free = Number(fs.bavail) * Number(fs.bsize);
    if (free < MIN_FREE_BYTES)
      return (
        `results folder ${path}: only ${(free / 2 ** 20).toFixed(1)} MB free on its disk (at least ` +
        `${MIN_FREE_BYTES / 2 ** 20} MB needed)`
      );
  } catch {
    /* the platform does not say: nothing to check */
  }
  return undefined;
}
