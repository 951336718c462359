// Complete results are never lost: a rerun that does not complete keeps the
// complete run it would have replaced, and a replace killed between its two
// renames leaves the run where readers still find it and the next `run` puts
// it back.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, ROOT, TINY_SPEC, runCli, scratchDir, writeExperiment } from '../helpers.js';

/**
 * A strategy that misbehaves on demand: it throws at its first task when ANCHORAGE_TEST_FAIL is set (a run that
 * fails), and sleeps 100 ms after every step when ANCHORAGE_TEST_SLOW is set (a run long enough to interrupt).
 */
const ON_DEMAND = `import { definePlugin } from 'anchorage';
export const onDemand = definePlugin({
  kind: 'strategy',
  name: 'on-demand',
  description: 'fails or slows down when the environment asks',
  options: {},
  create: () => ({
    name: 'on-demand',
    onTaskStart: () => {
      if (process.env.ANCHORAGE_TEST_FAIL) throw new Error('failing as asked');
      return undefined;
    },
    afterStep: () => {
      if (process.env.ANCHORAGE_TEST_SLOW) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      return undefined;
    },
    checkpoint: () => ({}),
    restore: () => undefined,
  }),
});
`;

/** The tiny experiment with the on-demand strategy, in `dir`. */
function onDemandExperiment(dir: string, train: object = TINY_SPEC.train): string {
  writeFileSync(join(dir, 'on-demand.ts'), ON_DEMAND);
  const spec = { ...TINY_SPEC, plugins: ['./on-demand.ts'], strategy: { name: 'on-demand' }, train };
  return writeExperiment(dir, spec, 'experiment.ts');
}

function runFolders(out: string): string[] {
  const dir = join(out, 'tiny');
  return existsSync(dir) ? readdirSync(dir).filter((d) => !d.startsWith('.')) : [];
}

describe('complete results are never replaced by less', () => {
  it('a --rerun that fails keeps the complete run: its record and tables are the complete ones, exit 1', () => {
    const dir = scratchDir('rerun-fails');
    const file = onDemandExperiment(dir);
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
    const file = onDemandExperiment(dir, { ...TINY_SPEC.train, epochs: 20 });
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
