// The pretrain → fine-tune → compare path, and an interrupted sweep that
// finishes by running the same command again.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, runCli, scratchDir, writeExperiment, regex } from '../helpers.js';

const DATA = {
  name: 'synthetic',
  classes: 4,
  features: 64,
  trainPerClass: 40,
  testPerClass: 20,
  separation: 4,
  imageShape: [8, 8, 1],
};

describe('pretrain → fine-tune → compare', () => {
  it('saves a backbone, loads it with a fresh head that anchored methods leave free, and compares', () => {
    const dir = scratchDir('pretrain');
    const out = join(dir, 'results');
    const pre = runCli([
      'run',
      writeExperiment(
        dir,
        {
          name: 'pre',
          dataset: DATA,
          stream: { name: 'split', tasks: [[0, 1, 2, 3]] },
          axes: {
            model: [
              { name: 'mlp', hidden: [16] },
              { name: 'cnn', channels: [4], hidden: 8 },
            ],
          },
          optimizer: { name: 'adamw', lr: 0.02 },
          train: { epochs: 4, batchSize: 16 },
          saveModel: 'backbones/{model}',
        },
        'pre.ts',
      ),
      '--out',
      out,
      '--quiet',
    ]);
    expect(pre.code).toBe(0);
    for (const m of ['mlp', 'cnn']) expect(existsSync(join(out, 'backbones', m, 'model.json'))).toBe(true);

    const fine = runCli([
      'run',
      writeExperiment(
        dir,
        {
          name: 'fine',
          dataset: DATA,
          stream: { name: 'shifted', shifts: ['inversion-5'] },
          axes: {
            model: [
              { name: 'pretrained', path: 'results/backbones/mlp' },
              { name: 'pretrained', path: 'results/backbones/cnn', head: 'keep' },
            ],
            optimizer: [
              { name: 'adamw', lr: 0.01 },
              { name: 'ftp', lr: 0.01 },
            ],
          },
          sampler: { name: 'per-class', k: 10 },
          eval: { ood: [{ corruption: 'inversion', severity: 5 }] },
          train: { steps: 30, batchSize: 16, logEvery: 10 },
        },
        'fine.ts',
      ),
      '--out',
      out,
    ]);
    expect(fine.stderr).toBe('');
    expect(fine.code).toBe(0);
    // The mlp gets a fresh head (ftp leaves it free: 2 of 4 tensors constrained); the cnn keeps its own.
    expect(fine.stdout).toMatch(
      regex(
        /pretrained \[64\] fc1:16 head:4 -> 4 \(1,108 parameters, 2 /,
        /fresh\); ftp\(k=1, anchor=initial, constrained 2\/4 tensors\)/,
      ),
    );
    expect(fine.stdout).toMatch(/pretrained \[8,8,1\] conv1:4@3x3 fc1:8 head:4 -> 4 .*constrained 6\/6 tensors/);
    // With the file's own head, the untrained row is the pre-trained model: on the source domain (OOD set) it is good.
    const cmp = runCli(['compare', join(out, 'fine'), '--by', 'model,optimizer', '--format', 'json']);
    expect(cmp.code).toBe(0);
    const table = runCli(['compare', join(out, 'fine'), '--by', 'optimizer']).stdout;
    expect(table).toMatch(/ID before\s+ID after\s+OOD mean before\s+OOD mean after\s+inversion-5 after/);
  });

  it('a missing or malformed model file stops the experiment before training', () => {
    const dir = scratchDir('pretrain-bad');
    const r = runCli([
      'run',
      writeExperiment(dir, {
        name: 'fine',
        dataset: DATA,
        stream: { name: 'split', tasks: [[0, 1]] },
        model: { name: 'pretrained', path: 'nowhere' },
        optimizer: { name: 'adamw' },
      }),
      '--out',
      join(dir, 'r'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/model: .*nowhere: no such model file/);
  });
});

describe('an interrupted sweep', () => {
  it('finishes by running the same command again, without redoing finished runs', async () => {
    const dir = scratchDir('resume');
    const out = join(dir, 'results');
    const file = writeExperiment(dir, {
      name: 'resume',
      dataset: { ...DATA, trainPerClass: 200 },
      stream: { name: 'split', tasks: [[0, 1, 2, 3]] },
      model: { name: 'mlp', hidden: [64] },
      axes: {
        optimizer: [
          { name: 'adamw', lr: 0.01 },
          { name: 'sgd', lr: 0.05 },
          { name: 'l2sp', lr: 0.01 },
        ],
      },
      train: { epochs: 20, batchSize: 16, logEvery: 50 },
      seeds: [0, 1],
    });
    const child = spawn(process.execPath, [BIN, 'run', file, '--out', out, '--quiet'], { stdio: 'ignore' });
    const complete = () =>
      existsSync(join(out, 'resume'))
        ? readdirSync(join(out, 'resume')).filter(
            (d) => !d.startsWith('.') && existsSync(join(out, 'resume', d, 'run.json')),
          )
        : [];
    // No deadline: on a slow machine this just waits longer (vitest's timeout only guards a hang).
    while (complete().length < 2) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    const finished = complete();
    expect(finished.length).toBeGreaterThanOrEqual(2);
    expect(finished.length).toBeLessThan(6);
    const stamps = Object.fromEntries(
      finished.map((d) => [d, readFileSync(join(out, 'resume', d, 'run.json'), 'utf8')]),
    );

    const again = runCli(['run', file, '--out', out, '--quiet']);
    expect(again.code).toBe(0);
    expect(again.stdout.match(/skipped \(--rerun to run again\)/g)).toHaveLength(finished.length);
    expect(complete()).toHaveLength(6);
    for (const d of finished) expect(readFileSync(join(out, 'resume', d, 'run.json'), 'utf8')).toBe(stamps[d]);
  });

  it('--workers 2 runs the sweep over two processes with the same result as one', () => {
    const dir = scratchDir('workers');
    const spec = {
      name: 'w',
      dataset: DATA,
      stream: { name: 'split', tasks: [[0, 1, 2, 3]] },
      model: { name: 'mlp', hidden: [16] },
      axes: {
        optimizer: [
          { name: 'adamw', lr: 0.01 },
          { name: 'sgd', lr: 0.05 },
        ],
      },
      train: { epochs: 2, batchSize: 16 },
      seeds: [0, 1],
    };
    const file = writeExperiment(dir, spec);
    const two = runCli(['run', file, '--out', join(dir, 'two'), '--workers', '2']);
    expect(two.code).toBe(0);
    expect(two.stdout).toMatch(/\[worker 0\] shard 0\/2: 2 of 4 runs/);
    expect(two.stdout).toMatch(/\[worker 1\] shard 1\/2: 2 of 4 runs/);
    const one = runCli(['run', file, '--out', join(dir, 'one'), '--quiet']);
    const ids = (root: string) => readdirSync(join(dir, root, 'w')).sort();
    expect(ids('two')).toEqual(ids('one'));
    for (const id of ids('one'))
      expect(readFileSync(join(dir, 'two', 'w', id, 'evals.arrow'))).toEqual(
        readFileSync(join(dir, 'one', 'w', id, 'evals.arrow')),
      );
    expect(one.code).toBe(0);
  });
});
