// npm run bench:torch — anchorage against PyTorch on this machine, side by
// side: the same model, batch and optimizer (bench/pytorch-step.py; Adam, batch 128
// on MNIST-size inputs, the ResNet at batch 32 on 32×32×3), PyTorch and
// anchorage on each available backend alternating over rounds, medians of
// the per-step times. Needs python3 with torch (Debian: apt-get install
// python3-torch; or ANCHORAGE_PYTHON=/path/to/python); skips with a line
// saying so otherwise. Never part of npm test.
//   npm run bench:torch -- --models=mlp256,mlp,cnn --rounds=3 --steps=30 --torch-threads=1
import { spawnSync } from 'node:child_process';
import { selectBackend, type BackendName } from '../src/tensor/backend.js';
import { renderTable } from '../src/report/format.js';
import { MODELS, WARMUP, batchOf, frameworkStepTimes, median, type Kind } from './loops.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const STEPS = Number(args.get('steps') ?? 30);
const ROUNDS = Number(args.get('rounds') ?? 3);
const TORCH_THREADS = Number(args.get('torch-threads') ?? 1);
const kinds = (args.get('models') ?? 'mlp256,mlp,cnn').split(',') as Kind[];
for (const k of kinds) if (!(k in MODELS)) throw new Error(`--models: unknown model ${k}; models: ${Object.keys(MODELS).join(', ')}`);

const python = [process.env.ANCHORAGE_PYTHON, 'python3', '/usr/bin/python3'].find((p) => p && spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
if (!python) {
  console.log('bench:torch skipped: no python3 with torch here (Debian: apt-get install python3-torch; or set ANCHORAGE_PYTHON)');
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

const torchMs = new Map<Kind, number[]>();
const oursMs = new Map<string, number[]>();
let torchVersion = '?';
for (let r = 0; r < ROUNDS; r++) {
  for (const kind of kinds) {
    const out = spawnSync(python, ['bench/pytorch-step.py', kind, String(STEPS), String(WARMUP), String(TORCH_THREADS)], { encoding: 'utf8' });
    if (out.status !== 0) throw new Error(`bench/pytorch-step.py ${kind}: ${out.stderr.slice(-400)}`);
    const res = JSON.parse(out.stdout.trim().split('\n').at(-1)!) as { ms: number[]; torch: string };
    torchVersion = res.torch;
    torchMs.set(kind, [...(torchMs.get(kind) ?? []), median(res.ms)]);
    for (const b of backends) {
      const key = `${b}|${kind}`;
      oursMs.set(key, [...(oursMs.get(key) ?? []), median(await frameworkStepTimes(b, kind, STEPS))]);
    }
    process.stderr.write(`round ${r + 1} ${kind}: torch ${torchMs.get(kind)!.at(-1)!.toFixed(2)} ms; ${backends.map((b) => `${b} ${oursMs.get(`${b}|${kind}`)!.at(-1)!.toFixed(2)} ms`).join('; ')}\n`);
  }
}
const results = kinds.map((kind) => {
  const torch = median(torchMs.get(kind)!);
  const ours = Object.fromEntries(backends.map((b) => [b, { ms: median(oursMs.get(`${b}|${kind}`)!), overTorch: median(oursMs.get(`${b}|${kind}`)!) / torch }]));
  return { model: kind, batch: batchOf(kind), torchMs: torch, ours };
});
console.log(`ms per training step, median over ${ROUNDS} alternating rounds of ${STEPS} steps (PyTorch ${torchVersion}, ${TORCH_THREADS} thread${TORCH_THREADS > 1 ? 's' : ''}; Adam)\n`);
console.log(
  renderTable([
    ['model', 'batch', 'PyTorch', ...backends.flatMap((b) => [b, `${b}/PyTorch`])],
    ...results.map((r) => [r.model, String(r.batch), r.torchMs.toFixed(2), ...backends.flatMap((b) => [r.ours[b].ms.toFixed(2), r.ours[b].overTorch.toFixed(2)])]),
  ]),
);
console.log(JSON.stringify({ bench: 'torch', torch: torchVersion, torchThreads: TORCH_THREADS, rounds: ROUNDS, steps: STEPS, results }));
