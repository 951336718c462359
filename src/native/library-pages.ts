// TensorFlow's library pages released once its load is done (library_pages.c, built by `anchorage setup native`).
// Loading the library touches 290 MiB of its file — symbol and relocation tables, and every op's and kernel's
// registration — of which training uses a tenth; the rest would stay in the process's resident set for the whole
// run. Released, those pages stay in the page cache (shared between workers) and map again on their next use.
// Node's own executable is released with them: its start-up (the snapshot, the module loader) leaves 40 MiB of its
// pages mapped, of which a run uses half. Both are released again as each task starts (releaseLibraryPages).
import { existsSync } from 'node:fs';

/** Set to 0 to keep every page the load touched mapped (the resident set as TensorFlow leaves it). */
export const PAGES_ENV = 'ANCHORAGE_RELEASE_LIBRARY_PAGES';

/** The mappings released: TensorFlow's shared libraries (libtensorflow_cc, libtensorflow_framework). */
const LIBRARY = 'libtensorflow';

/**
 * How often, while the library loads, its pages are released: often enough that the load's pages are never all
 * resident at once, seldom enough that the load, which reads some of them again, is not measurably slower (three
 * loads each on a 2-core machine: 0.36 to 0.69 s as it is, 0.38 to 0.47 s released every 20 ms; every 10 ms,
 * 0.57 to 0.65 s).
 */
const PERIOD_MS = 20;

interface PagesAddon {
  watch(pattern: string, periodMs: number): void;
  release(pattern: string): number;
}

/** The addon, once it has released the load's pages: what releaseLibraryPages() calls again. */
let released: PagesAddon | undefined;

/**
 * Releases the library's and node's pages again where they were released at load (else does nothing): a run's set-up
 * and a task's first steps map pages that later steps never use. The engine calls it as each task starts.
 */
export function releaseLibraryPages(): void {
  released?.release(LIBRARY);
  released?.release(process.execPath);
}

/**
 * Runs `load` (TensorFlow's), releasing the library's pages while it runs and once after, when `addon` (the
 * addon's path) exists; otherwise runs it as it is.
 */
export function releasingLibraryPages<T>(addon: string | undefined, load: () => T): T {
  if (process.env[PAGES_ENV] === '0' || !addon || !existsSync(addon)) return load();
  let pages: PagesAddon;
  try {
    const module = { exports: {} as PagesAddon };
    process.dlopen(module, addon);
    pages = module.exports;
  } catch {
    return load();
  }
  pages.watch(LIBRARY, PERIOD_MS);
  try {
    return load();
  } finally {
    released = pages;
    releaseLibraryPages();
  }
}
