// SIGINT and SIGTERM stop a run after its current step on every backend: the
// run is recorded as interrupted and the command exits 1; with --workers the
// parent forwards the signal to every worker and waits for them. The runs
// are sized to take minutes, so a signal that is ignored fails the test by
// the run's status, not by a race with the clock.
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, ROOT, TINY_SPEC, scratchDir, writeExperiment } from '../helpers.js';

/** Starts the CLI; resolves `ready` at the first stdout line matching `when`, and `done` with the exit code. */
function start(args: string[], when: RegExp) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let seen = 0;
  const ready = new Promise<void>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const n = (out.match(new RegExp(when.source, 'g')) ?? []).length;
      if (n > seen) {
        seen = n;
        resolve();
      }
    });
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  // A safety net only: an ignored signal would let these runs go on for many minutes.
  const guard = setTimeout(() => child.kill('SIGKILL'), 300_000);
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>(
    (resolve) =>
      child.on('close', (code, signal) => {
        clearTimeout(guard);
        resolve({ code, signal, out, err });
      }),
  );
  return { child, ready, done, lines: () => out };
}

const LONG = { ...TINY_SPEC, train: { epochs: 20_000, batchSize: 16, logEvery: 3 } };

function records(out: string) {
  const dir = join(out, 'tiny');
  if (!existsSync(dir)) return [];
  // Run folders only: an interrupted run's checkpoint sits beside them as .<run-id>.checkpoint.
  return readdirSync(dir)
    .filter((d) => !d.startsWith('.'))
    .map(
      (d) =>
        JSON.parse(readFileSync(join(dir, d, 'run.json'), 'utf8')) as { status: string; timings: { steps: number } },
    );
}

/** A two-seed sweep over two workers, once both workers have started their shard; with the workers' pids. */
async function startWorkers(dir: string, out: string) {
  const run = start(
    ['run', writeExperiment(dir, LONG), '--out', out, '--seeds', '0,1', '--workers', '2'],
    /\[worker \d\] shard \d\/2/,
  );
  await run.ready;
  while ((run.lines().match(/\[worker \d\] shard/g) ?? []).length < 2) await new Promise((r) => setTimeout(r, 50));
  // The workers: this sweep's processes that run a shard.
  const workers = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((line) => line.includes(out) && line.includes('--shard'))
    .map((line) => Number.parseInt(line.trim(), 10));
  return { run, workers };
}

describe('signals', () => {
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    it(`${sig} stops a training run after its current step, records it as interrupted and exits 1`, async () => {
      const dir = scratchDir('signal');
      const out = join(dir, 'results');
      const run = start(['run', writeExperiment(dir, LONG), '--out', out], /step \d+\/\d+/);
      await run.ready; // training has started
      run.child.kill(sig);
      const r = await run.done;
      expect(r.signal).toBeNull(); // it exited by itself, not by the signal's default action
      expect(r.code).toBe(1);
      expect(r.err).toContain(`${sig}: stopping after the current step`);
      const [record] = records(out);
      expect(record.status).toBe('interrupted');
      expect(record.timings.steps).toBeLessThan(2 * 6 * 20_000);
    });
  }

  it('with --workers, the parent forwards SIGTERM to every worker and waits for them', async () => {
    const dir = scratchDir('signal-workers');
    const out = join(dir, 'results');
    const run = start(
      ['run', writeExperiment(dir, LONG), '--out', out, '--seeds', '0,1', '--workers', '2'],
      /\[worker \d\] shard \d\/2/,
    );
    await run.ready;
    // Both workers past their preflight: each has its signal handler.
    while ((run.lines().match(/\[worker \d\] shard/g) ?? []).length < 2) await new Promise((r) => setTimeout(r, 50));
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/SIGTERM: stopping every worker/);
    expect(r.err.match(/\[worker \d\] \s*SIGTERM: stopping after the current step/g)).toHaveLength(2);
    // Nothing trained to completion, and what was recorded says interrupted.
    for (const record of records(out)) expect(record.status).toBe('interrupted');
  });

  it(
    'with --workers, a worker killed outright (SIGKILL, as the out-of-memory killer does) is reported at once, ' +
      'and the others go on',
    async () => {
      const dir = scratchDir('signal-worker-killed');
      const out = join(dir, 'results');
      const { run, workers } = await startWorkers(dir, out);
      let r: Awaited<typeof run.done>;
      try {
        expect(workers).toHaveLength(2);
        process.kill(workers[0], 'SIGKILL');
        // The parent says so while the other worker still trains; then that one is stopped as a user would.
        let err = '';
        run.child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        while (!/killed by SIGKILL/.test(err)) await new Promise((r) => setTimeout(r, 50));
        expect(() => process.kill(workers[1], 0)).not.toThrow();
        run.child.kill('SIGTERM');
        r = await run.done;
      } finally {
        // A failed check must not leave these long runs training after the test.
        for (const pid of [run.child.pid!, ...workers]) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
      expect(r.code).toBe(1);
      expect(r.err).toMatch(
        /^\[worker \d\] killed by SIGKILL \(out of memory\? `dmesg` tells\); the other workers go on/m,
      );
      expect(r.err.match(/\[worker \d\] \s*SIGTERM: stopping after the current step/g)).toHaveLength(1);
    },
  );
});

describe('signals before training and a parent that dies', () => {
  it('Ctrl-C during the preflight ends the command at once and writes nothing', async () => {
    const dir = scratchDir('signal-preflight');
    const out = join(dir, 'results');
    // Rotating all of MNIST for each task keeps the preflight busy for many seconds.
    const spec = { ...LONG, dataset: { name: 'mnist' }, stream: { name: 'rotated', angles: [0, 15, 30, 45, 60, 75] } };
    const run = start(['run', writeExperiment(dir, spec), '--out', out], /backend:/);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(run.lines()).not.toMatch(/backend:/);
    run.child.kill('SIGINT');
    const r = await run.done;
    // Ended by the signal's default action: no handler waited for the data to load.
    expect(r.signal).toBe('SIGINT');
    expect(existsSync(join(out, 'tiny')) ? readdirSync(join(out, 'tiny')) : []).toEqual([]);
  });

  it('with --workers, the workers of a parent killed outright stop after their current step, recorded', async () => {
    const dir = scratchDir('signal-parent-killed');
    const out = join(dir, 'results');
    const { run, workers } = await startWorkers(dir, out);
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    try {
      expect(workers).toHaveLength(2);
      run.child.kill('SIGKILL');
      await run.done;
      // Left to themselves these runs would train for many minutes; the guard is only a safety net.
      const guard = Date.now() + 120_000;
      while (workers.some(alive) && Date.now() < guard) await new Promise((r) => setTimeout(r, 100));
      expect(workers.filter(alive)).toEqual([]);
    } finally {
      for (const pid of workers) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    expect(records(out).map((r) => r.status)).toEqual(['interrupted', 'interrupted']);
    // Each kept its checkpoint, so the same command resumes both.
    expect(readdirSync(join(out, 'tiny')).filter((d) => d.endsWith('.checkpoint'))).toHaveLength(2);
  });
});

describe('two processes on one results folder', () => {
  it(
    'the second skips the run the first is training (no doubled work), and a lock left by a killed process is ' +
      'taken over',
    async () => {
      const dir = scratchDir('lock');
      const out = join(dir, 'results');
      const file = writeExperiment(dir, LONG);
      const first = start(['run', file, '--out', out], /step \d+\/\d+/);
      await first.ready;
      const second = spawnSync(process.execPath, [BIN, 'run', file, '--out', out], { cwd: ROOT, encoding: 'utf8' });
      expect(second.stdout).toMatch(
        new RegExp(`run \\S+: being trained by another process \\(pid ${first.child.pid}; lock \\S+\\.lock, to remove`),
      );
      // It says why it exits 1: its run is not complete, another process holds it.
      expect(second.status).toBe(1);
      expect(second.stderr).toMatch(/1 run is being trained by another process \(\S+\): run the command again/);
      first.child.kill('SIGKILL'); // leaves its lock behind
      await first.done;
      // The lock's process is gone: a new run takes it over (and is stopped at once here: only the takeover is
      // checked).
      const third = start(['run', file, '--out', out], /step \d+\/\d+/);
      await third.ready;
      third.child.kill('SIGTERM');
      expect((await third.done).code).toBe(1);
      expect(records(out).map((r) => r.status)).toEqual(['interrupted']);
    },
  );

  it('a lock naming a live process that is not the one that took it (a reused pid) is taken over', async () => {
    const dir = scratchDir('lock-reused');
    const out = join(dir, 'results');
    const file = writeExperiment(dir, LONG);
    const first = start(['run', file, '--out', out], /step \d+\/\d+/);
    await first.ready;
    first.child.kill('SIGKILL');
    await first.done;
    const [lock] = readdirSync(join(out, 'tiny')).filter((f) => f.endsWith('.lock'));
    // The lock now names this test's own process — alive, but started at another time than the lock says.
    const owner = JSON.parse(readFileSync(join(out, 'tiny', lock), 'utf8')) as { pid: number; started: number };
    expect(owner.pid).toBe(first.child.pid);
    writeFileSync(join(out, 'tiny', lock), JSON.stringify({ ...owner, pid: process.pid, started: 1 }));
    const again = start(['run', file, '--out', out], /step \d+\/\d+/);
    await again.ready;
    again.child.kill('SIGTERM');
    expect((await again.done).code).toBe(1);
    expect(records(out).map((r) => r.status)).toEqual(['interrupted']);
  });
});
