// npm run bench:torch — anchorage against PyTorch on this machine, side by
// side: the same model, batch and optimizer (bench/pytorch-step.py; Adam, batch 128
// on MNIST-size inputs, the ResNet at batch 32 on 32×32×3), PyTorch and
// anchorage on each available backend alternating over rounds, medians of
// the per-step times. Needs python3 with torch (Debian: apt-get install
// python3-torch; or ANCHORAGE_PYTHON=/path/to/python); skips with a line
// saying so otherwise. Never part of npm test.
//   npm run bench:torch -- --models=mlp256,mlp,cnn --rounds=3 --steps=30 --torch-threads=1
// With --op-path, anchorage also on its op path (ANCHORAGE_STEP_KERNELS=0: the
// layers and the loss as tfjs ops, without anchorage's step kernels) in the
// same rounds: the step before and after those kernels, side by side.
// With --ftp-reference=DIR (a checkout of the FTP authors' repository,
// GT-RIPL/FTP; or ANCHORAGE_FTP_REFERENCE), FTP too: the authors' AdamP
// against anchorage's ftp, each over its own side's Adam, in the same rounds
// (anchorage's two timed as bench:optimizers times them, an epoch with no
// logging: at a logging point FTP also reads its diagnostics back).
// Debian's torch multiplies matrices with whichever BLAS is installed: the
// reference one unless libopenblas0 is (the header line names it). Each side's
// cores busy (process CPU time over wall time) are in the table: the thread
// count each side was given, held.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { selectBackend, type BackendName } from '../src/tensor/backend.js';
import { STEP_KERNELS_ENV } from '../src/tensor/kernels/native-ops.js';
import { renderTable } from '../src/report/format.js';
import { ADAM, MODELS, WARMUP, batchOf, frameworkEpochMs, frameworkStepTimes, median, type Kind } from './loops.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const STEPS = Number(args.get('steps') ?? 30);
const ROUNDS = Number(args.get('rounds') ?? 3);
const TORCH_THREADS = Number(args.get('torch-threads') ?? 1);
const kinds = (args.get('models') ?? 'mlp256,mlp,cnn').split(',') as Kind[];
const ftpReference = args.get('ftp-reference') ?? process.env.ANCHORAGE_FTP_REFERENCE;
const opPath = args.has('op-path');
if (ftpReference && !existsSync(join(ftpReference, 'util', 'FTP.py')))
  throw new Error(`--ftp-reference: ${ftpReference} has no util/FTP.py (a checkout of GT-RIPL/FTP is meant)`);
/**
 * What each side runs: Adam, and with a reference the FTP authors' AdamP against anchorage's ftp over the same base.
 */
const optimizers: ('adam' | 'ftp')[] = ftpReference ? ['adam', 'ftp'] : ['adam'];
const FTP = { name: 'ftp', lr: 1e-3, weightDecay: 0 };
for (const k of kinds)
  if (!(k in MODELS)) throw new Error(`--models: unknown model ${k}; models: ${Object.keys(MODELS).join(', ')}`);

const python = [process.env.ANCHORAGE_PYTHON, 'python3', '/usr/bin/python3'].find(
  (p) => p && spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0,
);
if (!python) {
  console.log(
    'bench:torch skipped: no python3 with torch here (Debian: apt-get install python3-torch; or set ANCHORAGE_PYTHON)',
  );
  process.exit(0);
}

const backends: BackendName[] = [];
for (const b of ['tensorflow', 'wasm'] as BackendName[]) {
  if (args.get('backends') && !args.get('backends')!.split(',').includes(b)) continue;
  try {
    await selectBackend(b);
    backends.push(b);
  } catch {
    process.stderr.write(`${b}: not available\n`);
  }
}

/** What anchorage is timed as on a backend: its step, and with --op-path its step without the step kernels. */
const labelsOf = (b: BackendName) => (opPath ? [b, `${b} op path`] : [b]);
// Keyed by `optimizer|model` (PyTorch) and `optimizer|backend|model` (anchorage).
const torchMs = new Map<string, number[]>();
const oursMs = new Map<string, number[]>();
// Cores busy while timed (CPU time over wall time), per key as above.
const torchCores = new Map<string, number[]>();
const oursCores = new Map<string, number[]>();
/** Adds a sample; returns it (for the progress line). */
const push = (map: Map<string, number[]>, key: string, ms: number) => {
  map.set(key, [...(map.get(key) ?? []), ms]);
  return ms;
};
let torchVersion = '?';
let blas = '?';
for (let r = 0; r < ROUNDS; r++) {
  for (const kind of kinds) {
    for (const opt of optimizers) {
      const out = spawnSync(
        python,
        ['bench/pytorch-step.py', kind, String(STEPS), String(WARMUP), String(TORCH_THREADS), opt],
        {
          encoding: 'utf8',
          env: { ...process.env, ...(ftpReference && { ANCHORAGE_FTP_REFERENCE: ftpReference }) },
        },
      );
      if (out.status !== 0) throw new Error(`bench/pytorch-step.py ${kind} ${opt}: ${out.stderr.slice(-400)}`);
      const res = JSON.parse(out.stdout.trim().split('\n').at(-1)!) as {
        ms: number[];
        torch: string;
        blas: string;
        cpuPerWall: number;
      };
      torchVersion = res.torch;
      blas = res.blas;
      push(torchMs, `${opt}|${kind}`, median(res.ms));
      push(torchCores, `${opt}|${kind}`, res.cpuPerWall);
      const timed: string[] = [];
      for (const b of backends) {
        if (opt === 'adam')
          for (const label of labelsOf(b)) {
            if (label === b) delete process.env[STEP_KERNELS_ENV];
            else process.env[STEP_KERNELS_ENV] = '0';
            const [cpu, wall] = [process.cpuUsage(), performance.now()];
            const ms = median(await frameworkStepTimes(b, kind, STEPS));
            // The whole run's (data, set-up and evaluation included): the process's threads, all of them.
            const used = process.cpuUsage(cpu);
            push(oursCores, `adam|${label}|${kind}`, (used.user + used.system) / 1000 / (performance.now() - wall));
            delete process.env[STEP_KERNELS_ENV];
            timed.push(`${label} ${push(oursMs, `adam|${label}|${kind}`, ms).toFixed(2)} ms`);
          }
        if (ftpReference)
          if (ftpReference) {
            const epochMs = await frameworkEpochMs(b, kind, STEPS, opt === 'ftp' ? FTP : ADAM);
            timed.push(`${b} (epoch) ${push(oursMs, `${opt}-epoch|${b}|${kind}`, epochMs).toFixed(2)} ms`);
          }
      }
      process.stderr.write(
        `round ${r + 1} ${kind} ${opt}: torch ${torchMs.get(`${opt}|${kind}`)!.at(-1)!.toFixed(2)} ms; ` +
          `${timed.join('; ')}\n`,
      );
    }
  }
}
const torchOf = (opt: string, kind: Kind) => median(torchMs.get(`${opt}|${kind}`)!);
const columns = backends.flatMap(labelsOf);
const oursOf = (opt: string, b: string, kind: Kind) => median(oursMs.get(`${opt}|${b}|${kind}`)!);
const results = kinds.map((kind) => {
  const torch = torchOf('adam', kind);
  const ours = Object.fromEntries(
    columns.map((b) => [
      b,
      {
        ms: oursOf('adam', b, kind),
        overTorch: oursOf('adam', b, kind) / torch,
        cores: median(oursCores.get(`adam|${b}|${kind}`)!),
      },
    ]),
  );
  const ftp = ftpReference
    ? {
        torchMs: torchOf('ftp', kind),
        torchFtpOverAdam: torchOf('ftp', kind) / torch,
        ours: Object.fromEntries(
          backends.map((b) => [
            b,
            {
              adamwMs: oursOf('adam-epoch', b, kind),
              ms: oursOf('ftp-epoch', b, kind),
              ftpOverAdamw: oursOf('ftp-epoch', b, kind) / oursOf('adam-epoch', b, kind),
            },
          ]),
        ),
      }
    : undefined;
  return {
    model: kind,
    batch: batchOf(kind),
    torchMs: torch,
    torchCores: median(torchCores.get(`adam|${kind}`)!),
    ours,
    ...(ftp && { ftp }),
  };
});
console.log(
  `ms per training step, median over ${ROUNDS} alternating rounds of ${STEPS} steps (PyTorch ${torchVersion}, ` +
    `${TORCH_THREADS} thread${TORCH_THREADS > 1 ? 's' : ''}, BLAS: ${blas}; Adam); cores: CPU time over wall ` +
    `time (PyTorch's over its timed steps, anchorage's over its whole run)\n`,
);
if (/\/blas\/libblas/.test(blas))
  console.log(
    'note: PyTorch is multiplying matrices with the reference BLAS (Debian: apt-get install libopenblas0-pthread)\n',
  );
console.log(
  renderTable([
    ['model', 'batch', 'PyTorch', 'cores', ...columns.flatMap((b) => [b, 'cores', `${b}/PyTorch`])],
    ...results.map((r) => [
      r.model,
      String(r.batch),
      r.torchMs.toFixed(2),
      r.torchCores.toFixed(2),
      ...columns.flatMap((b) => [r.ours[b].ms.toFixed(2), r.ours[b].cores.toFixed(2), r.ours[b].overTorch.toFixed(2)]),
    ]),
  ]),
);
if (ftpReference) {
  console.log(
    `\nFTP over Adam on each side: the authors' AdamP (${ftpReference}) against torch.optim.Adam, per step as ` +
      `above; anchorage's ftp against its adamw (weight decay 0, every tensor projected), ms per step of an epoch ` +
      `of ${STEPS} steps with no logging\n`,
  );
  console.log(
    renderTable([
      [
        'model',
        'PyTorch Adam',
        "authors' FTP",
        'FTP/Adam',
        ...backends.flatMap((b) => [`${b} adamw`, `${b} ftp`, 'FTP/AdamW']),
      ],
      ...results.map((r) => [
        r.model,
        r.torchMs.toFixed(2),
        r.ftp!.torchMs.toFixed(2),
        r.ftp!.torchFtpOverAdam.toFixed(3),
        ...backends.flatMap((b) => [
          r.ftp!.ours[b].adamwMs.toFixed(2),
          r.ftp!.ours[b].ms.toFixed(2),
          r.ftp!.ours[b].ftpOverAdamw.toFixed(3),
        ]),
      ]),
    ]),
  );
}
console.log(
  JSON.stringify({
    bench: 'torch',
    torch: torchVersion,
    torchThreads: TORCH_THREADS,
    blas,
    rounds: ROUNDS,
    steps: STEPS,
    results,
  }),
);
