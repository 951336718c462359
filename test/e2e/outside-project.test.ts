// Researchers keep experiments in their own projects: an experiment module
// outside the anchorage checkout loads and runs — without a package.json, or
// in an ES-module project that does not itself depend on anchorage — and
// `import ... from 'anchorage'` is the installation that runs it.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, ROOT, TINY_SPEC } from '../helpers.js';

function cli(cwd: string, args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("an experiment module in the user's own folder", () => {
  for (const [what, pkg] of [
    ['with no package.json', undefined],
    ['in an ES-module project without anchorage among its dependencies', { name: 'my-research', type: 'module' }],
  ] as const) {
    it(`runs and compares ${what}`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'anchorage-user-'));
      try {
        if (pkg) writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
        writeFileSync(
          join(dir, 'exp.ts'),
          `import { defineExperiment } from 'anchorage';\nexport default ` +
            `defineExperiment(${JSON.stringify({ ...TINY_SPEC, name: 'mine' })});\n`,
        );
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

describe('anchorage as a package', () => {
  it(
    'npm pack, installed into a fresh project, runs an ' +
      'experiment module that lives there and compares its results',
    () => {
      const work = mkdtempSync(join(tmpdir(), 'anchorage-pack-'));
      const npm = (args: string[], cwd: string) =>
        spawnSync('npm', args, {
          cwd,
          encoding: 'utf8',
          env: {
            ...process.env,
            npm_config_audit: 'false',
            npm_config_fund: 'false',
            npm_config_update_notifier: 'false',
          },
        });
      try {
        const packed = npm(['pack', '--pack-destination', work, '--silent'], ROOT);
        expect(packed.status, packed.stderr).toBe(0);
        const tarball = join(work, packed.stdout.trim().split('\n').at(-1)!);
        const project = join(work, 'my-research');
        mkdirSync(project);
        writeFileSync(
          join(project, 'package.json'),
          JSON.stringify({ name: 'my-research', private: true, type: 'module' }),
        );
        // The GPU build of TensorFlow is optional and its install script downloads: left out, as where there is no
        // network.
        const installed = npm(
          ['install', tarball, '--omit=optional', '--prefer-offline', '--no-package-lock'],
          project,
        );
        expect(installed.status, installed.stderr).toBe(0);
        // A plain JavaScript module, no TypeScript loader: the package's compiled entry and its declarations.
        const imported = spawnSync(
          process.execPath,
          ['-e', "import('anchorage').then((m) => console.log(typeof m.defineExperiment))"],
          { cwd: project, encoding: 'utf8' },
        );
        expect(imported.stderr).toBe('');
        expect(imported.stdout.trim()).toBe('function');
        const installedRoot = join(project, 'node_modules', 'anchorage');
        expect(existsSync(join(installedRoot, 'dist', 'src', 'index.d.ts'))).toBe(true);
        writeFileSync(
          join(project, 'exp.ts'),
          `import { defineExperiment } from 'anchorage';\nexport default ` +
            `defineExperiment(${JSON.stringify({ ...TINY_SPEC, name: 'packed' })});\n`,
        );
        const bin = join(project, 'node_modules', '.bin', 'anchorage');
        const run = spawnSync(bin, ['run', 'exp.ts', '--backend', 'wasm', '--quiet'], {
          cwd: project,
          encoding: 'utf8',
        });
        expect(run.status, run.stderr).toBe(0);
        expect(run.stdout).toContain('backend: wasm');
        expect(readdirSync(join(project, 'results', 'packed'))).toHaveLength(1);
        const compare = spawnSync(bin, ['compare', 'results/packed'], { cwd: project, encoding: 'utf8' });
        expect(compare.status, compare.stderr).toBe(0);
        expect(compare.stdout).toMatch(/packed\s+class-il\s+adamw/);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
  );
});

describe('the packed tarball', () => {
  it('ships the compiled package, the CLI and the example experiments, and no tests, benches or sources', () => {
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const [{ files }] = JSON.parse(r.stdout) as [{ files: { path: string }[] }];
    const paths = files.map((f) => f.path);
    expect(paths).toContain('bin/anchorage.js');
    expect(paths).toContain('dist/src/index.js');
    expect(paths).toContain('dist/src/index.d.ts');
    expect(paths).toContain('dist/src/native/row_kernels.cc');
    expect(paths).toContain('experiments/split-mnist.ts');
    const stray = paths.filter((p) => /^(test|bench|src|plugins|scripts|docs|results)\//.test(p) || p.endsWith('.map'));
    expect(stray).toEqual([]);
  });
});
