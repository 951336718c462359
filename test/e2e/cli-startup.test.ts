// The CLI starts quickly because help and usage errors load nothing heavy:
// TensorFlow.js, Arrow and inversify are loaded by the commands that use
// them. Checked by what is loaded, not by timing (timings: docs/performance.md).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BIN, ROOT } from '../helpers.js';

function heavyLoaded(args: string[]): { loaded: string[]; status: number | null } {
  const r = spawnSync(
    process.execPath,
    ['--import', join(ROOT, 'test', 'fixtures', 'trace-imports.mjs'), BIN, ...args],
    { cwd: ROOT, encoding: 'utf8' },
  );
  return {
    loaded: [
      ...new Set(
        r.stderr
          .split('\n')
          .filter((l) => l.startsWith('LOADED '))
          .map((l) => l.slice(7)),
      ),
    ].sort(),
    status: r.status,
  };
}

describe('CLI start-up', () => {
  it('--help of every command and a usage error load neither TensorFlow.js, Arrow nor inversify', () => {
    for (const args of [
      ['--help'],
      ['run', '--help'],
      ['compare', '--help'],
      ['replay-optimizer', '--help'],
      ['frobnicate'],
    ]) {
      const r = heavyLoaded(args);
      expect(r.loaded, args.join(' ')).toEqual([]);
      expect(r.status).toBe(args[0] === 'frobnicate' ? 2 : 0);
    }
  });

  it('the trace of loaded packages does see a command that needs them (the check can fail)', () => {
    expect(heavyLoaded(['plugins']).loaded).toContain('@tensorflow/tfjs-core');
  });
});
