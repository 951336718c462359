// Interrupted runs resume from their checkpoints through the CLI, as a user
// (or a scheduler) would stop and restart them: SIGKILL at a random step,
// SIGTERM, a corrupt checkpoint. The final evals.arrow is compared byte for
// byte with an uninterrupted run's. Kills are triggered by progress lines,
// never by the clock.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { Field, FixedSizeList, Float32, Int32, Table, makeVector, tableToIPC, vectorFromArray } from 'apache-arrow';
import { join } from 'node:path';
import { BIN, ROOT, runCli, scratchDir, writeExperiment } from '../helpers.js';

const SPEC = {
  name: 'resumable',
  dataset: { name: 'synthetic', classes: 6, features: 16, trainPerClass: 40, testPerClass: 20, separation: 4 },
  stream: { name: 'split', tasksOf: 2 },
  model: { name: 'mlp', hidden: [32] },
  optimizer: { name: 'adamw', lr: 0.01 },
  strategies: [
    { name: 'replay', size: 40 },
    { name: 'ewc', lambda: 5, fisherSamples: 40 },
  ],
  // 5 steps per epoch, 150 per task, 450 in all.
  train: { epochs: 30, batchSize: 16, logEvery: 5 },
  checkpoint: { everySteps: 20 },
};

/** Starts `anchorage run`; `after(n)` resolves once n progress lines of steps have been printed. */
function start(args: string[]) {
  const child = spawn(process.execPath, [BIN, 'run', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiting: { n: number; resolve: () => void }[] = [];
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    const seen = (out.match(/step \d+\/\d+/g) ?? []).length;
    for (const w of waiting.filter((w) => seen >= w.n)) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve();
    }
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>(
    (resolve) => child.on('close', (code, signal) => resolve({ code, signal, out, err })),
  );
  return { child, done, after: (n: number) => new Promise<void>((resolve) => waiting.push({ n, resolve })) };
}

function runFolder(out: string): string {
  const root = join(out, SPEC.name);
  const [run] = readdirSync(root).filter((d) => !d.startsWith('.'));
  return join(root, run);
}

function checkpointOf(out: string): string | undefined {
  const root = join(out, SPEC.name);
  return existsSync(root)
    ? readdirSync(root)
        .filter((d) => d.endsWith('.checkpoint'))
        .map((d) => join(root, d))[0]
    : undefined;
}

let experiment: string;
let reference: Buffer;
beforeAll(() => {
  const dir = scratchDir('ckpt-cli');
  experiment = writeExperiment(dir, SPEC);
  const r = runCli(['run', experiment, '--out', join(dir, 'whole'), '--quiet']);
  expect(r.code, r.stderr).toBe(0);
  reference = readFileSync(join(runFolder(join(dir, 'whole')), 'evals.arrow'));
  // A completed run leaves no checkpoint behind.
  expect(checkpointOf(join(dir, 'whole'))).toBeUndefined();
});

describe('resume from a checkpoint through the CLI', () => {
  it(
    'SIGKILL at a random step: the same command resumes and ' + 'evals.arrow is byte-identical to an uninterrupted run',
    async () => {
      const out = join(scratchDir('ckpt-kill'), 'results');
      // 90 progress lines in all; kill somewhere after the first periodic checkpoint.
      const lines = 6 + Math.floor(Math.random() * 70);
      const run = start([experiment, '--out', out]);
      await run.after(lines);
      run.child.kill('SIGKILL');
      const killed = await run.done;
      expect(killed.signal, `killed after ${lines} progress lines`).toBe('SIGKILL');
      const position = JSON.parse(readFileSync(join(checkpointOf(out)!, 'position.json'), 'utf8')) as {
        task: number;
        mid: { step: number } | null;
      };

      const again = runCli(['run', experiment, '--out', out]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toMatch(
        new RegExp(
          `resumed from its checkpoint: task ${position.task + 1}/3, ` +
            `${position.mid ? `after step ${position.mid.step}` : 'at its start'}`,
        ),
      );
      expect(
        Buffer.compare(readFileSync(join(runFolder(out), 'evals.arrow')), reference),
        `killed after ${lines} progress lines`,
      ).toBe(0);
      expect(checkpointOf(out)).toBeUndefined();
    },
  );

  it('SIGTERM writes a checkpoint at the step it stops after; the rerun resumes there and matches', async () => {
    const out = join(scratchDir('ckpt-term'), 'results');
    const run = start([experiment, '--out', out]);
    await run.after(37); // task 2, step 35
    run.child.kill('SIGTERM');
    const stopped = await run.done;
    expect(stopped.code).toBe(1);
    const at = /checkpoint \(interrupt\): task (\d), step (\d+)/.exec(stopped.out);
    expect(at, stopped.out.slice(-600)).not.toBeNull();
    const record = JSON.parse(readFileSync(join(runFolder(out), 'run.json'), 'utf8')) as { status: string };
    expect(record.status).toBe('interrupted');
    const position = JSON.parse(readFileSync(join(checkpointOf(out)!, 'position.json'), 'utf8')) as {
      task: number;
      mid: { step: number };
    };
    expect([position.task + 1, position.mid.step]).toEqual([Number(at![1]), Number(at![2])]);

    const again = runCli(['run', experiment, '--out', out]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`resumed from its checkpoint: task ${at![1]}/3, after step ${at![2]}`);
    expect(Buffer.compare(readFileSync(join(runFolder(out), 'evals.arrow')), reference)).toBe(0);
  });

  it('a corrupt checkpoint is reported by name and the run starts over, still matching', async () => {
    const out = join(scratchDir('ckpt-corrupt'), 'results');
    const run = start([experiment, '--out', out]);
    await run.after(40);
    run.child.kill('SIGKILL');
    await run.done;
    const dir = checkpointOf(out)!;
    const position = JSON.parse(readFileSync(join(dir, 'position.json'), 'utf8')) as { boundary: string };
    truncateSync(join(dir, position.boundary), 100);

    const again = runCli(['run', experiment, '--out', out]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(
      new RegExp(
        `warning: the checkpoint does not read back \\(.*${position.boundary.replace('.', '\\.')}.*\\); it is ` +
          `discarded; the run starts from the beginning`,
      ),
    );
    expect(again.stdout).not.toContain('resumed from');
    expect(Buffer.compare(readFileSync(join(runFolder(out), 'evals.arrow')), reference)).toBe(0);
  });

  it(
    '--rerun discards a checkpoint; --no-checkpoints writes ' + 'none; --keep-checkpoints keeps it after completion',
    async () => {
      const out = join(scratchDir('ckpt-flags'), 'results');
      const run = start([experiment, '--out', out]);
      await run.after(40);
      run.child.kill('SIGKILL');
      await run.done;
      expect(checkpointOf(out)).toBeDefined();
      const rerun = runCli(['run', experiment, '--out', out, '--rerun', '--keep-checkpoints']);
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(rerun.stdout).not.toContain('resumed from');
      const kept = checkpointOf(out)!;
      const position = JSON.parse(readFileSync(join(kept, 'position.json'), 'utf8')) as {
        task: number;
        mid: { step: number } | null;
      };
      expect(position.task).toBe(2); // the last task's, from this run

      const none = join(scratchDir('ckpt-none'), 'results');
      const plain = start([experiment, '--out', none, '--no-checkpoints']);
      await plain.after(40);
      plain.child.kill('SIGKILL');
      await plain.done;
      expect(checkpointOf(none)).toBeUndefined();
    },
  );

  it('rejects a malformed checkpoint option before training', () => {
    const dir = scratchDir('ckpt-bad');
    const bad = writeExperiment(dir, { ...SPEC, checkpoint: { everySteps: -1, keep: 'yes' } });
    const r = runCli(['run', bad, '--out', join(dir, 'results')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('checkpoint.everySteps: must be an integer >= 0, got -1');
    expect(r.stderr).toContain('checkpoint.keep: must be true or false, got "yes"');
    const flag = runCli(['run', experiment, '--out', join(dir, 'results'), '--checkpoint-every', '2.5']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--checkpoint-every must be an integer >= 0, got 2.5');
  });
});

/** Kills a run of `file` after `lines` progress lines, leaving its checkpoint; returns the results folder. */
async function killedAfter(file: string, lines: number, out = join(scratchDir('ckpt-fault'), 'results')) {
  const run = start([file, '--out', out]);
  await run.after(lines);
  run.child.kill('SIGKILL');
  await run.done;
  return out;
}

function editPosition(out: string, edit: (p: Record<string, unknown>) => void): Record<string, unknown> {
  const path = join(checkpointOf(out)!, 'position.json');
  const position = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  edit(position);
  writeFileSync(path, JSON.stringify(position));
  return position;
}

describe('checkpoints that fail safe', () => {
  it('a truncated point within a task (a power loss): the first rerun starts over and completes', async () => {
    const out = await killedAfter(experiment, 40);
    const { mid } = editPosition(out, () => undefined) as { mid: { file: string } | null };
    expect(mid).not.toBeNull();
    truncateSync(join(checkpointOf(out)!, mid!.file), 64);
    const again = runCli(['run', experiment, '--out', out]);
    expect(again.code, again.stderr + again.stdout.slice(-400)).toBe(0);
    expect(again.stdout).toMatch(/warning: the checkpoint does not read back .*; it is discarded/);
    expect(Buffer.compare(readFileSync(join(runFolder(out), 'evals.arrow')), reference)).toBe(0);
  });

  it('a position file edited by hand (a task the stream lacks, junk rows) is refused, run afresh', async () => {
    for (const [edit, message] of [
      [(p: Record<string, unknown>) => (p.task = 7), /does not fit this run \(it resumes task 8 of a stream of 3\)/],
      [(p: Record<string, unknown>) => (p.rows = [{ junk: 1 }]), /rows\[0\] is not a result row of this run/],
      [(p: Record<string, unknown>) => (p.mid = { file: 'step-0-1.ckpt', step: -5 }), /mid\.step -5 is not a step/],
    ] as const) {
      const out = await killedAfter(experiment, 40);
      editPosition(out, edit);
      const again = runCli(['run', experiment, '--out', out]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toMatch(message);
      expect(again.stdout).toContain('the run starts from the beginning');
      expect(Buffer.compare(readFileSync(join(runFolder(out), 'evals.arrow')), reference)).toBe(0);
    }
  });

  it('resuming on another backend than the checkpoint was written on says so, on screen and in run.json', async () => {
    const out = await killedAfter(experiment, 40);
    const { backend } = editPosition(out, (p) => (p.backend = 'cpu')) as { backend: string };
    const again = runCli(['run', experiment, '--out', out]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`warning: resumed on \\w+ from a checkpoint written on ${backend}`));
    const record = JSON.parse(readFileSync(join(runFolder(out), 'run.json'), 'utf8')) as { warnings: string[] };
    expect(record.warnings.join('\n')).toMatch(/resumed on \w+ from a checkpoint written on cpu/);
  });

  it('a checkpoint folder that cannot be written is a warning: the run completes, its results whole', () => {
    const out = join(scratchDir('ckpt-blocked'), 'results');
    // The run's checkpoint folder is taken by a file: every write fails, as on a full disk or a read-only folder.
    const whole = runCli(['run', experiment, '--out', join(out, '..', 'probe'), '--quiet']);
    expect(whole.code).toBe(0);
    const id = readdirSync(join(out, '..', 'probe', SPEC.name)).find((d) => !d.startsWith('.'))!;
    mkdirSync(join(out, SPEC.name), { recursive: true });
    writeFileSync(join(out, SPEC.name, `.${id}.checkpoint`), 'in the way');
    const r = runCli(['run', experiment, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/warning: checkpoint not written \(\w+\) in \S+; the run goes on without checkpoints/);
    expect(Buffer.compare(readFileSync(join(runFolder(out), 'evals.arrow')), reference)).toBe(0);
    // The place is the run's own (a dot-name in the results folder): once the run completes it is cleared.
    expect(existsSync(join(out, SPEC.name, `.${id}.checkpoint`))).toBe(false);
  });
});

/** An Arrow IPC file of `n` examples of 8 features over `classes` classes, the same for the same arguments. */
function arrowData(path: string, n: number, classes: number, shift: number): void {
  const rows = Array.from({ length: n }, (_, i) =>
    Array.from({ length: 8 }, (_, j) => ((i % classes) * 3 + j + shift) % 7),
  );
  const type = new FixedSizeList(8, new Field('item', new Float32()));
  const features = makeVector({
    type,
    length: n,
    nullCount: 0,
    child: makeVector(Float32Array.from(rows.flat())).data[0],
  } as never);
  const labels = vectorFromArray(
    Array.from({ length: n }, (_, i) => i % classes),
    new Int32(),
  );
  writeFileSync(path, tableToIPC(new Table({ features, label: labels }), 'file'));
}

describe('a resume on data that changed', () => {
  it('data files replaced since the checkpoint: the run starts over on the new data, saying which file', async () => {
    const dir = scratchDir('ckpt-data');
    arrowData(join(dir, 'train.arrow'), 240, 6, 0);
    arrowData(join(dir, 'test.arrow'), 60, 6, 1);
    const spec = { ...SPEC, dataset: { name: 'arrow', train: 'train.arrow', test: 'test.arrow' } };
    const file = writeExperiment(dir, spec);
    const out = await killedAfter(file, 40, join(dir, 'results'));
    // The same paths, other contents: a data set of 4 classes now (the head would have another shape).
    arrowData(join(dir, 'train.arrow'), 240, 4, 2);
    arrowData(join(dir, 'test.arrow'), 60, 4, 3);
    const again = runCli(['run', file, '--out', out]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(
      /warning: the checkpoint in \S+ does not fit this run \(\S*test\.arrow and \S*train\.arrow changed since/,
    );
    expect(again.stdout).not.toContain('resumed from');
    // Without the fingerprint (a checkpoint of an earlier version), the shapes tell.
    const out2 = await killedAfter(file, 40, join(dir, 'results-2'));
    arrowData(join(dir, 'train.arrow'), 240, 6, 0);
    arrowData(join(dir, 'test.arrow'), 60, 6, 1);
    editPosition(out2, (p) => delete p.data);
    const shapes = runCli(['run', file, '--out', out2]);
    expect(shapes.code, shapes.stderr).toBe(0);
    expect(shapes.stdout).toMatch(
      /does not fit this run \(parameter head\.weight is \[32, 4\] there, \[32, 6\] here\)/,
    );
  });
});
