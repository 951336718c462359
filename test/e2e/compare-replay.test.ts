// `anchorage compare` and `anchorage replay-optimizer` as a user runs them.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { ROOT, TINY_SPEC, runCli, scratchDir, writeExperiment, regex } from '../helpers.js';

describe('anchorage compare', () => {
  it('groups runs, reports mean ± std over seeds in every format, and lists runs that did not complete', () => {
    const dir = scratchDir('compare');
    const out = join(dir, 'results');
    const { optimizer: _o, ...rest } = TINY_SPEC;
    const spec = {
      ...rest,
      axes: {
        optimizer: [
          { name: 'adamw', lr: 0.03 },
          { name: 'ftp', lr: 0.03, anchor: 'task-start' },
        ],
      },
    };
    const r = runCli(['run', writeExperiment(dir, spec), '--out', out, '--seeds', '0,1', '--quiet']);
    expect(r.code).toBe(0);
    // FTP's constraints were recorded and summarised.
    const ftpRun = readdirSync(join(out, 'tiny')).find((d) => d.startsWith('ftp-'))!;
    const constraints = tableFromIPC(readFileSync(join(out, 'tiny', ftpRun, 'constraints.arrow')));
    expect(constraints.schema.fields.map((f) => f.name)).toEqual([
      'run_id',
      'task',
      'step',
      'global_step',
      'tensor',
      'constraint',
      'distance',
    ]);
    expect(constraints.numRows).toBe(8 * 4); // 8 logged steps × 4 tensors
    expect(r.stdout).toMatch(/anchoring at the end[\s\S]*fc1\.weight\s+\d/);
    // A diverged run in the same folder.
    expect(
      runCli([
        'run',
        writeExperiment(dir, { ...TINY_SPEC, optimizer: { name: 'sgd', lr: 1e30 } }, 'nan.ts'),
        '--out',
        out,
        '--quiet',
      ]).code,
    ).toBe(1);

    const table = runCli(['compare', join(out, 'tiny'), '--by', 'optimizer', '--matrix', '2']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      /#\s+optimizer\s+runs\s+seeds\s+ACC\s+avg_inc_acc\s+BWT\s+FWT\s+forgetting_best_minus_final/,
    );
    expect(table.stdout).toMatch(/1\s+adamw\s+2\s+0 1\s+\d+\.\d ± \d+\.\d/);
    expect(table.stdout).toMatch(/2\s+ftp\s+2\s+0 1/);
    expect(table.stdout).toMatch(/mean accuracy matrix of group #2 \(ftp; 2 runs\)/);
    expect(table.stdout).toMatch(/not averaged \(1 run not complete\):\n\s+sgd-s0-[0-9a-f]+: diverged/);

    const json = JSON.parse(runCli(['compare', join(out, 'tiny'), '--by', 'optimizer', '--format', 'json']).stdout);
    expect(json.groups.map((g: { optimizer: string }) => g.optimizer)).toEqual(['adamw', 'ftp']);
    const adamw = json.groups[0];
    expect(adamw.runs).toHaveLength(2);
    expect(adamw.ACC.mean).toBeGreaterThan(0);
    expect(adamw.meanAccuracyMatrix).toHaveLength(2);
    expect(json.metrics.forgetting_best_minus_final).toMatch(/Chaudhry/);
    expect(json.notComplete).toEqual([expect.objectContaining({ status: 'diverged' })]);

    const csv = runCli(['compare', join(out, 'tiny'), '--by', 'optimizer', '--format', 'csv'])
      .stdout.trim()
      .split('\n');
    expect(csv[0]).toBe(
      'optimizer,runs,ACC_mean,ACC_std,avg_inc_acc_mean,avg_inc_acc_std,BWT_mean,BWT_std,FWT_mean,FWT_std,' +
        'forgetting_best_minus_final_mean,forgetting_best_minus_final_std',
    );
    expect(csv).toHaveLength(3);
    expect(runCli(['compare', join(out, 'tiny'), '--format', 'markdown']).stdout).toMatch(
      /^\| # \| experiment \| scenario \| optimizer \| config \|/,
    );
  });

  it('documents every metric formula in --help and rejects unknown columns', () => {
    const help = runCli(['compare', '--help']).stdout.replace(/\s+/g, ' ');
    expect(help).toMatch(
      regex(
        /forgetting_best_minus_final: average forgetting: mean_\{j<T\} /,
        /\(max_\{l<T\} R\[l\]\[j\] - R\[T\]\[j\]\) \(Chaudhry et al\. 2018/,
      ),
    );
    expect(help).toMatch(/BWT: backward transfer/);
    const bad = runCli(['compare', ROOT, '--by', 'colour']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--by: unknown column colour/);
  });
});

describe('anchorage replay-optimizer', () => {
  it('replays a golden trace into the documented result format', () => {
    const dir = scratchDir('replay');
    const trace = join(ROOT, 'test', 'fixtures', 'golden', 'sgd_ftp_momentum.json');
    const out = join(dir, 'result.json');
    const r = runCli(['replay-optimizer', trace, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/replayed 30 steps of sgd\+ftp/);
    const [, exponent] = /max relative error vs expected: \d\.\d+e([-+]\d+)/.exec(r.stdout)!;
    expect(Number(exponent)).toBeLessThanOrEqual(-5);
    const result = JSON.parse(readFileSync(out, 'utf8'));
    expect(result.steps).toHaveLength(30);
    expect(Object.keys(result.steps[0].params)).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'head.weight']);
    expect(result.steps[0].params['fc1.weight']).toHaveLength(24);
  });

  it('rejects a malformed trace with exit 2', () => {
    const dir = scratchDir('replay-bad');
    writeFileSync(
      join(dir, 't.json'),
      JSON.stringify({ format: 'optimizer-trace/1', optimizer: 'adamq', config: {}, params: [], steps: [] }),
    );
    const r = runCli(['replay-optimizer', join(dir, 't.json'), '--out', join(dir, 'o.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown optimizer 'adamq'/);
  });
});
