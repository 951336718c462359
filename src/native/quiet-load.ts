// TensorFlow's oneDNN notice kept off standard error. With oneDNN on, TensorFlow's libraries print "oneDNN custom
// operations are on…" from their static initialisers, through absl's logging before any log level is set, so no
// setting silences it; it would open every run's output. While the native backend loads, the stdio guard
// (stdio_guard.c, built by `anchorage setup native`) sends file descriptor 2 to a file; afterwards every line but
// the notice (and absl's preamble to it) goes on to stderr as it came.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface StdioGuard {
  quiet(path: string): number;
  restore(saved: number): void;
}

/** The lines TensorFlow prints at load that say nothing the run record does not (oneDNN: `backend.settings`). */
const NOTICE = [/oneDNN custom operations are on/, /^WARNING: All log messages before absl::InitializeLog\(\)/];

/** `text` without the oneDNN notice and absl's preamble to it. */
export function withoutNotice(text: string): string {
  return text
    .split(/(?<=\n)/)
    .filter((line) => !NOTICE.some((n) => n.test(line)))
    .join('');
}

/**
 * Runs `load` with standard error caught when oneDNN is on and `guard` (the addon's path) exists, then passes on
 * what it caught, less the notice; otherwise runs it as it is.
 */
export function quietLoad<T>(guard: string | undefined, load: () => T): T {
  if (process.env.TF_ENABLE_ONEDNN_OPTS !== '1' || !guard || !existsSync(guard)) return load();
  let addon: StdioGuard;
  let dir: string;
  try {
    const module = { exports: {} as StdioGuard };
    process.dlopen(module, guard);
    addon = module.exports;
    dir = mkdtempSync(join(tmpdir(), 'anchorage-load-'));
  } catch {
    return load();
  }
  const file = join(dir, 'stderr');
  const saved = addon.quiet(file);
  try {
    return load();
  } finally {
    if (saved >= 0) addon.restore(saved);
    try {
      const caught = withoutNotice(readFileSync(file, 'utf8'));
      if (caught) process.stderr.write(caught);
    } catch {
      // Nothing was written.
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
