// Reporters as plugins: Parquet copies that DuckDB reads, TensorBoard event
// files (native TensorFlow; a clear error elsewhere), a user's reporter
// plugin seeing the sweep's events, and bad reporter input refused before
// training.
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { selectBackend } from '../../src/tensor/backend.js';
import { TINY_SPEC, runCli, scratchDir, writeExperiment } from '../helpers.js';

let backend: string;
beforeAll(async () => {
  backend = (await selectBackend('auto')).name;
});

const runFolder = (out: string) => {
  const root = join(out, 'tiny');
  return join(
    root,
    readdirSync(root).find((d) => d.includes('-s0-'))!,
  );
};

describe('reporters', () => {
  it('parquet: copies of every table beside the Arrow files, which DuckDB reads back row for row', async () => {
    const dir = scratchDir('parquet');
    const out = join(dir, 'results');
    const r = runCli([
      'run',
      writeExperiment(dir, { ...TINY_SPEC, reporters: [{ name: 'parquet' }] }),
      '--out',
      out,
      '--quiet',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const run = runFolder(out);
    expect(readdirSync(run).sort()).toEqual([
      'constraints.arrow',
      'constraints.parquet',
      'evals.arrow',
      'evals.parquet',
      'run.json',
      'steps.arrow',
      'steps.parquet',
    ]);
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create();
    const c = await db.connect();
    const rows = (
      await c.runAndReadAll(
        `select trained_task, eval_task, eval_set, accuracy from read_parquet('${join(run, 'evals.parquet')}') ` +
          `order by trained_task, eval_task`,
      )
    ).getRowObjects();
    const arrow = tableFromIPC(readFileSync(join(run, 'evals.arrow')))
      .toArray()
      .map((x) => x.toJSON())
      .sort((a, b) => a.trained_task - b.trained_task || a.eval_task - b.eval_task);
    expect(rows.map((x) => [x.trained_task, x.eval_task, x.eval_set, x.accuracy])).toEqual(
      arrow.map((x) => [x.trained_task, x.eval_task, x.eval_set, x.accuracy]),
    );
    const steps = (
      await c.runAndReadAll(
        `select count(*) as n, max(global_step) as last from read_parquet('${join(run, 'steps.parquet')}')`,
      )
    ).getRowObjects()[0];
    expect(Number(steps.n)).toBe(tableFromIPC(readFileSync(join(run, 'steps.arrow'))).numRows);
    expect(Number(steps.last)).toBe(24); // 2 tasks × 2 epochs × 6 steps
    c.closeSync();
  });

  it(
    'tensorboard: event files per run on native TensorFlow; on another backend a clear error and exit 2 before ' +
      'training',
    () => {
      const dir = scratchDir('tensorboard');
      const out = join(dir, 'results');
      const r = runCli(['run', writeExperiment(dir, TINY_SPEC), '--out', out, '--quiet', '--reporter', 'tensorboard']);
      if (backend === 'tensorflow') {
        expect(r.code, r.stderr).toBe(0);
        const logs = join(out, 'tiny', 'tensorboard');
        const [runLog] = readdirSync(logs);
        const [events] = readdirSync(join(logs, runLog));
        expect(events).toMatch(/^events\.out\.tfevents\./);
        const bytes = readFileSync(join(logs, runLog, events)).toString('latin1');
        for (const tag of [
          'train/loss',
          'train/learning_rate',
          'accuracy_test/task_0',
          'accuracy_test/task_1',
          'accuracy_test/mean_all_tasks',
        ])
          expect(bytes).toContain(tag);
      } else {
        expect(r.code).toBe(2);
        expect(r.stderr).toContain(
          `reporter 'tensorboard': the tensorboard reporter writes event files with tfjs-node's summary writer, ` +
            `which needs the native TensorFlow backend; this sweep runs on ${backend}`,
        );
        expect(existsSync(join(out, 'tiny'))).toBe(false);
      }
    },
  );

  it("a user's reporter plugin sees every sweep event and each run's events, and skips on a rerun", () => {
    const dir = scratchDir('user-reporter');
    writeFileSync(
      join(dir, 'recorder.ts'),
      `import { definePlugin, o } from 'anchorage';
import { appendFileSync } from 'node:fs';
export default definePlugin({
  kind: 'reporter',
  name: 'recorder',
  description: 'appends every event type to a file',
  options: { file: o.string({ description: 'where', nonEmpty: true }) },
  create: (opts, ctx) => ({
    name: 'recorder',
    onSweepEvent(e) {
      appendFileSync(opts.file, 'sweep ' + e.type + ' ' + ('runId' in e ? e.runId : ctx.experiment) + '\\n');
    },
    onRun(events, config) {
      let steps = 0;
      return new Promise((resolve) =>
        events.subscribe({
          next: (e) => {
            if (e.type === 'step') steps++;
          },
          complete: () => {
            appendFileSync(opts.file, 'run ' + config.runId + ' steps ' + steps + '\\n');
            resolve(undefined);
          },
        }),
      );
    },
  }),
});
`,
    );
    const log = join(dir, 'events.log');
    const spec = { ...TINY_SPEC, plugins: ['./recorder.ts'], reporters: [{ name: 'recorder', file: log }] };
    const file = writeExperiment(dir, spec);
    expect(runCli(['run', file, '--out', join(dir, 'results'), '--quiet', '--seeds', '0,1']).code).toBe(0);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    const ids = [...new Set(lines.filter((l) => l.startsWith('sweep run-started')).map((l) => l.split(' ')[2]))];
    expect(ids).toHaveLength(2);
    expect(lines).toEqual([
      'sweep sweep-start tiny',
      `sweep run-queued ${ids[0]}`,
      `sweep run-queued ${ids[1]}`,
      `sweep run-started ${ids[0]}`,
      `run ${ids[0]} steps 8`, // 12 steps per task, logged every 3rd
      `sweep run-finished ${ids[0]}`,
      `sweep run-started ${ids[1]}`,
      `run ${ids[1]} steps 8`,
      `sweep run-finished ${ids[1]}`,
      'sweep sweep-end tiny',
    ]);
    expect(runCli(['run', file, '--out', join(dir, 'results'), '--quiet', '--seeds', '0,1']).code).toBe(0);
    expect(readFileSync(log, 'utf8').trim().split('\n').slice(10)).toEqual([
      'sweep sweep-start tiny',
      `sweep run-queued ${ids[0]}`,
      `sweep run-queued ${ids[1]}`,
      `sweep run-skipped ${ids[0]}`,
      `sweep run-skipped ${ids[1]}`,
      'sweep sweep-end tiny',
    ]);
  });

  it('a reporter whose work never finishes is waited for a while, named, and the sweep goes on', () => {
    const dir = scratchDir('hanging-reporter');
    writeFileSync(
      join(dir, 'hangs.ts'),
      `import { definePlugin } from 'anchorage';
export default definePlugin({
  kind: 'reporter',
  name: 'hangs',
  description: 'never finishes',
  options: {},
  create: () => ({ name: 'hangs', onRun: () => new Promise<void>(() => undefined) }),
});
`,
    );
    const file = writeExperiment(dir, { ...TINY_SPEC, plugins: ['./hangs.ts'], reporters: [{ name: 'hangs' }] });
    const out = join(dir, 'results');
    const r = runCli(['run', file, '--out', out, '--seeds', '0,1', '--quiet'], {
      env: { ANCHORAGE_REPORTER_TIMEOUT_S: '1' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(
      r.stderr.match(/warning: reporter hangs failed: did not finish its work on run \S+ within 1 s/g),
    ).toHaveLength(2);
    expect(r.stderr).not.toMatch(/top-level await/);
    expect(readdirSync(join(out, 'tiny')).filter((d) => !d.startsWith('.'))).toHaveLength(2);
  });

  it('an unknown reporter or a wrong option is refused before training (exit 2)', () => {
    const dir = scratchDir('bad-reporter');
    const unknown = runCli([
      'run',
      writeExperiment(dir, TINY_SPEC),
      '--out',
      join(dir, 'results'),
      '--reporter',
      'wandb',
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      "--reporter wandb.name: unknown reporter 'wandb'; registered: arrow, parquet, progress, tensorboard",
    );
    const wrong = runCli([
      'run',
      writeExperiment(dir, { ...TINY_SPEC, reporters: [{ name: 'parquet', tables: ['evals', 'losses'] }] }, 'wrong.ts'),
      '--out',
      join(dir, 'results'),
    ]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("reporters[0].tables[1]: unknown table 'losses'; tables: evals, steps, constraints");
    expect(existsSync(join(dir, 'results'))).toBe(false);
  });
});
