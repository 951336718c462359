// Complete results are never lost: a rerun that does not complete keeps the
// complete run it would have replaced, and a replace killed between its two
// renames leaves the run where readers still find it and the next `run` puts
// it back.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, ROOT, TINY_SPEC, runCli, scratchDir, writeExperiment } from '../helpers.js';

/** A strategy that throws at its first task when ANCHORAGE_TEST_FAIL is set: a run that fails on demand. */
const FAILING = `import { definePlugin } from 'anchorage';
export const failing = definePlugin({
  kind: 'strategy',
  name: 'fails-on-demand',
  description: 'throws when ANCHORAGE_TEST_FAIL is set',
  options: {},
  create: () => ({
    name: 'fails-on-demand',
    onTaskStart: () => {
      if (process.env.ANCHORAGE_TEST_FAIL) throw new Error('failing as asked');
      return undefined;
    },
    checkpoint: () => ({}),
    restore: () => undefined,
  }),
});
`;

/** A strategy whose steps take 100 ms each when ANCHORAGE_TEST_SLOW is set: a run long enough to interrupt. */
const SLOW = `import { definePlugin } from 'anchorage';
export const slow = definePlugin({
  kind: 'strategy',
  name: 'slow-on-demand',
  description: 'sleeps after every step when ANCHORAGE_TEST_SLOW is set',
  options: {},
  create: () => ({
    name: 'slow-on-demand',
    afterStep: () => {
      if (process.env.ANCHORAGE_TEST_SLOW) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      return undefined;
    },
    checkpoint: () => ({}),
    restore: () => undefined,
  }),
});
`;

function runFolders(out: string): string[] {
  const dir = join(out, 'tiny');
  return existsSync(dir) ? readdirSync(dir).filter((d) => !d.startsWith('.')) : [];
}

describe('complete results are never replaced by less', () => {
  it('a --rerun that fails keeps the complete run: its record and tables are the complete ones, exit 1', () => {
    const dir = scratchDir('rerun-fails');
    writeFileSync(join(dir, 'failing.ts'), FAILING);
    const file = writeExperiment(
      dir,
      { ...TINY_SPEC, plugins: ['./failing.ts'], strategy: { name: 'fails-on-demand' } },
      'experiment.ts',
    );
    const out = join(dir, 'results');
    const first = runCli(['run', file, '--out', out, '--quiet']);
    expect(first.code, first.stderr).toBe(0);
    const [run] = runFolders(out);
    const before = readFileSync(join(out, 'tiny', run, 'evals.arrow'));
    const again = runCli(['run', file, '--out', out, '--quiet', '--rerun'], { env: { ANCHORAGE_TEST_FAIL: '1' } });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(
      `run ${run}: the rerun ended failed; the complete results in ${join(out, 'tiny', run)} are kept`,
    );
    const record = JSON.parse(readFileSync(join(out, 'tiny', run, 'run.json'), 'utf8')) as { status: string };
    expect(record.status).toBe('completed');
    expect(readFileSync(join(out, 'tiny', run, 'evals.arrow')).equals(before)).toBe(true);
    // And a plain run finds it complete.
    expect(runCli(['run', file, '--out', out]).stdout).toContain(`run ${run}: complete results exist`);
  });
});

describe('a rerun interrupted', () => {
  it('Ctrl-C during a --rerun keeps the complete run: its record and tables are the complete ones', async () => {
    const dir = scratchDir('rerun-interrupted');
    writeFileSync(join(dir, 'slow.ts'), SLOW);
    const spec = { ...TINY_SPEC, plugins: ['./slow.ts'], strategy: { name: 'slow-on-demand' } };
    const file = writeExperiment(dir, { ...spec, train: { ...TINY_SPEC.train, epochs: 20 } });
    const out = join(dir, 'results');
    const first = runCli(['run', file, '--out', out, '--quiet']);
    expect(first.code, first.stderr).toBe(0);
    const [run] = runFolders(out);
    const before = readFileSync(join(out, 'tiny', run, 'evals.arrow'));
    const child = spawn(process.execPath, [BIN, 'run', file, '--out', out, '--rerun'], {
      cwd: ROOT,
      env: { ...process.env, ANCHORAGE_TEST_SLOW: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let said = '';
    child.stderr.on('data', (d: Buffer) => (said += d.toString()));
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        if (/step \d+\/\d+/.test(d.toString())) resolve();
      }),
    );
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(1);
    expect(said).toContain(`run ${run}: the rerun ended interrupted; the complete results in`);
    const record = JSON.parse(readFileSync(join(out, 'tiny', run, 'run.json'), 'utf8')) as { status: string };
    expect(record.status).toBe('completed');
    expect(readFileSync(join(out, 'tiny', run, 'evals.arrow')).equals(before)).toBe(true);
  });
});

describe('a replace killed between its two renames', () => {
  it('leaves the run visible to compare, and the next run puts it back and clears what was half-written', () => {
    const dir = scratchDir('replace-killed');
    const file = writeExperiment(dir, TINY_SPEC);
    const out = join(dir, 'results');
    expect(runCli(['run', file, '--out', out, '--quiet']).code).toBe(0);
    const [run] = runFolders(out);
    const experiment = join(out, 'tiny');
    // What a kill -9 after the first rename of a replace leaves: the old run aside, the new one half-written, both
    // named for a process that no longer exists.
    const gone = 2 ** 22 + 12345;
    renameSync(join(experiment, run), join(experiment, `.${run}.old-${gone}-1`));
    mkdirSync(join(experiment, `.${run}.tmp-${gone}-2`));
    writeFileSync(join(experiment, `.${run}.tmp-${gone}-2`, 'evals.arrow'), 'half');
    const compared = runCli(['compare', experiment, '--format', 'json']);
    expect(compared.code, compared.stderr).toBe(0);
    expect((JSON.parse(compared.stdout) as { groups: { runs: string[] }[] }).groups[0].runs).toEqual([run]);
    const again = runCli(['run', file, '--out', out]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`run ${run}: complete results exist`);
    expect(readdirSync(experiment).filter((d) => /\.(old|tmp)-/.test(d))).toEqual([]);
    expect(runFolders(out)).toEqual([run]);
  });
});
