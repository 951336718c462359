// Schedules and the optimizer's defaults as a user meets them: in an
// experiment file, through the CLI, in steps.arrow and `anchorage plugins`.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { TINY_SPEC, runCli, scratchDir, writeExperiment, regex } from '../helpers.js';

describe('learning-rate schedules from the CLI', () => {
  it(
    'records the value each logged step used in steps.arrow ' + '(cosine restarted per task, step decay over the run)',
    () => {
      const dir = scratchDir('sched');
      const out = join(dir, 'results');
      const spec = {
        ...TINY_SPEC,
        train: { ...TINY_SPEC.train, logEvery: 1 },
        axes: {
          optimizer: [
            { name: 'sgd', lr: { schedule: 'cosine', value: 0.1, final: 0.01, restart: 'task' }, momentum: 0.9 },
            {
              name: 'ftp',
              lr: { schedule: 'step', value: 0.03, every: 5, gamma: 0.5 },
              weightDecay: { schedule: 'linear', from: 0, to: 0.01, steps: 10 },
              anchor: 'task-start',
            },
          ],
        },
      };
      const { optimizer: _, ...rest } = spec;
      const r = runCli(['run', writeExperiment(dir, rest), '--out', out, '--quiet']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const read = (prefix: string) => {
        const run = readdirSync(join(out, 'tiny')).find((d) => d.startsWith(prefix))!;
        return tableFromIPC(readFileSync(join(out, 'tiny', run, 'steps.arrow')))
          .toArray()
          .map((x) => x.toJSON() as { task: number; step: number; global_step: number; learning_rate: number });
      };
      // 2 tasks × 12 steps; cosine over each task's 12 steps from 0.1 to 0.01.
      const sgd = read('sgd-');
      expect(sgd).toHaveLength(24);
      for (const s of sgd)
        expect(s.learning_rate).toBeCloseTo(0.01 + (0.09 * (1 + Math.cos((Math.PI * (s.step - 1)) / 12))) / 2, 10);
      expect(sgd[12]).toMatchObject({ task: 1, step: 1, learning_rate: 0.1 }); // restarted
      const ftp = read('ftp-');
      for (const s of ftp) expect(s.learning_rate).toBeCloseTo(0.03 * 0.5 ** Math.floor((s.global_step - 1) / 5), 10);
      const record = JSON.parse(
        readFileSync(
          join(
            out,
            'tiny',
            readdirSync(join(out, 'tiny')).find((d) => d.startsWith('ftp-'))!,
            'run.json',
          ),
          'utf8',
        ),
      );
      expect(record.optimizer).toMatch(
        /on adamw\(lr=step\(value=0\.03, every=5, gamma=0\.5\), .*weightDecay=linear\(from=0, to=0\.01, steps=10\)/,
      );
    },
  );

  it('rejects impossible schedules with the field path and exit 2, before training', () => {
    const dir = scratchDir('sched-bad');
    const out = join(dir, 'results');
    const bad = writeExperiment(dir, {
      ...TINY_SPEC,
      optimizer: {
        name: 'adamw',
        lr: { schedule: 'multistep', value: 0.01, milestones: [20, 10] },
        weightDecay: { schedule: 'cosine', value: -1, steps: 5, warmup: 9 },
      },
    });
    const r = runCli(['run', bad, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/optimizer\.lr\.milestones\[1\]: milestones must increase, got 10 after 20/);
    expect(r.stderr).toMatch(/optimizer\.weightDecay\.value: must be >= 0, got -1/);
    expect(r.stderr).toMatch(
      /optimizer\.weightDecay\.warmup: a warm-up of 9 steps is longer than the schedule's 5 steps/,
    );
    expect(existsSync(out)).toBe(false);

    // Longer than the run: 2 tasks × 12 planned steps; known only with the data in hand (preflight).
    const long = writeExperiment(
      dir,
      { ...TINY_SPEC, optimizer: { name: 'adamw', lr: { schedule: 'linear', to: 0.03, steps: 100 } } },
      'long.ts',
    );
    const l = runCli(['run', long, '--out', out]);
    expect(l.code).toBe(2);
    expect(l.stderr).toMatch(/optimizer\.lr: a linear warm-up of 100 steps is longer than the run's 24 planned steps/);
    expect(existsSync(join(out, 'tiny'))).toBe(false);
  });

  it("lists the schedules and the anchored optimizers' defaults in `anchorage plugins`", () => {
    const r = runCli(['plugins']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/schedules \(any optimizer's lr or weightDecay/);
    expect(r.stdout).toMatch(/cosine — .*CosineAnnealingLR\(T_max=steps, eta_min=final\)/);
    expect(r.stdout).toMatch(/multistep — .*MultiStepLR/);
    expect(r.stdout).toMatch(
      regex(
        /ftp — [^\n]*\n(\s+\w+: [^\n]*\n)*\s+lr: [^\n]*\(default 0\.001 /,
        /with base adamw, 0\.01 with base sgd \(as the plain plugins\)\)/,
      ),
    );
    expect(r.stdout).toMatch(/weightDecay: [^\n]*\(default 0\.01 with base adamw, 0 with base sgd/);
    const json = JSON.parse(runCli(['plugins', '--json']).stdout) as { kind: string; name: string }[];
    expect(json.filter((p) => p.kind === 'schedule').map((p) => p.name)).toEqual([
      'constant',
      'linear',
      'cosine',
      'step',
      'multistep',
      'exponential',
    ]);
  });
});
