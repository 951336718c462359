// TensorFlow's library pages released after it loads: a process that loaded the native backend and ran an op holds a
// fraction of the library's pages that one with the release turned off holds, and computes the same. Each load is a
// process of its own (TensorFlow loads once per process). Needs native TensorFlow with the release built, on Linux
// (it reads /proc/self/smaps); elsewhere skipped with the reason.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { nativeBuild } from '../../src/native/load.js';
import { PAGES_ADDON } from '../../src/native/cache.js';
import { PAGES_ENV } from '../../src/native/library-pages.js';
import { ROOT } from '../helpers.js';

const dist = (path: string) => pathToFileURL(join(ROOT, 'dist', 'src', path)).href;
/** Loads the backend, runs a matrix product, and prints its sum and the library's resident KiB. */
const CHILD = `
import { readFileSync } from 'node:fs';
const { selectBackend } = await import(${JSON.stringify(dist('tensor/backend.js'))});
const { tf } = await import(${JSON.stringify(dist('tensor/tf.js'))});
await selectBackend('tensorflow');
const sum = tf.tidy(() => tf.sum(tf.matMul(tf.ones([64, 64]), tf.ones([64, 64]))).dataSync()[0]);
let kib = 0;
let library = false;
for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\\n')) {
  if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) library = line.includes('libtensorflow');
  else if (library && line.startsWith('Rss:')) kib += Number(line.split(/\\s+/)[1]);
}
console.log(JSON.stringify({ sum, kib }));
`;

function load(release: boolean): { sum: number; kib: number } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD], {
    encoding: 'utf8',
    env: { ...process.env, [PAGES_ENV]: release ? '1' : '0', TF_CPP_MIN_LOG_LEVEL: '2' },
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { sum: number; kib: number };
}

const entry = nativeBuild().entry;
const skip =
  process.platform !== 'linux'
    ? `the release reads /proc/self/smaps, which ${process.platform} lacks`
    : process.env.ANCHORAGE_BACKEND === 'wasm'
      ? 'the pages are native TensorFlow’s; this suite runs on wasm'
      : !entry
        ? 'no native TensorFlow build in the cache'
        : !existsSync(join(entry.dir, PAGES_ADDON))
          ? `the native build in ${entry.dir} has no library pages' release (run \`anchorage setup native\` again)`
          : !existsSync(join(ROOT, 'dist', 'src', 'tensor', 'backend.js'))
            ? 'the package is not built (npm run build)'
            : undefined;

describe("TensorFlow's library pages", () => {
  it.skipIf(skip)(
    `are released once the backend has loaded, and the backend computes as before${skip ? ` (skipped: ${skip})` : ''}`,
    () => {
      const kept = load(false);
      const released = load(true);
      expect(released.sum).toBe(64 * 64 * 64);
      expect(kept.sum).toBe(64 * 64 * 64);
      // Loading maps ~290 MiB of the library; released, what the op used maps again — a small part of it.
      expect(kept.kib).toBeGreaterThan(100 * 1024);
      expect(released.kib).toBeLessThan(kept.kib / 3);
    },
  );
});
