// Researchers keep experiments in their own projects: an experiment module
// outside the anchorage checkout loads and runs — without a package.json, or
// in an ES-module project that does not itself depend on anchorage — and
// `import ... from 'anchorage'` is the installation that runs it.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, TINY_SPEC } from '../helpers.js';

function cli(cwd: string, args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('an experiment module in the user\'s own folder', () => {
  for (const [what, pkg] of [
    ['with no package.json', undefined],
    ['in an ES-module project without anchorage among its dependencies', { name: 'my-research', type: 'module' }],
  ] as const) {
    it(`runs and compares ${what}`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'anchorage-user-'));
      try {
        if (pkg) writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
        writeFileSync(join(dir, 'exp.ts'), `import { defineExperiment } from 'anchorage';\nexport default defineExperiment(${JSON.stringify({ ...TINY_SPEC, name: 'mine' })});\n`);
        const r = cli(dir, ['run', 'exp.ts', '--quiet']);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(readdirSync(join(dir, 'results', 'mine'))).toHaveLength(1);
        const c = cli(dir, ['compare', 'results/mine']);
        expect(c.code).toBe(0);
        expect(c.stdout).toMatch(/mine\s+class-il\s+adamw/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
