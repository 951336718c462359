// Complete results are never lost: a rerun that does not complete keeps the
// complete run it would have replaced, and a replace killed between its two
// renames leaves the run where readers still find it and the next `run` puts
// it back.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TINY_SPEC, runCli, scratchDir, writeExperiment } from '../helpers.js';

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
