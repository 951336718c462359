// npm run bench:continual-eval — what continual evaluation costs: the README's
// Split MNIST run (MLP 784-400-400-10, AdamW, batch 128, one epoch per task)
// with `eval: { every: 50, subset: 1000 }` against the same run without it,
// alternated in rounds in one process; wall time of whole runs (set-up,
// training, every evaluation), median over rounds, and the ratio. The target
// is at most 1.3×. One JSON line at the end. Not part of `npm test`.
//
//   npm run bench:continual-eval -- --rounds=3 [--backend=wasm]
import { lastValueFrom, toArray } from 'rxjs';
import { builtinPlugins } from '../plugins/index.js';
import { PluginRegistry } from '../src/plugin/registry.js';
import { validateExperiment } from '../src/spec/validate.js';
import { runEvents } from '../src/engine/session.js';
import { DatasetCache } from '../src/engine/container.js';
import { selectBackend, type BackendChoice } from '../src/tensor/backend.js';
import { renderTable } from '../src/report/format.js';
import type { RunEvent } from '../src/contracts/events.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const backendChoice = (args.get('backend') ?? 'auto') as BackendChoice;
const rounds = Number(args.get('rounds') ?? 3);

const SPEC = {
  name: 'bench-continual-eval',
  dataset: { name: 'mnist' },
  stream: { name: 'split', tasksOf: 2 },
  model: { name: 'mlp', hidden: [400, 400] },
  optimizer: { name: 'adamw', lr: 1e-3, weightDecay: 0 },
  train: { epochs: 1, batchSize: 128, logEvery: 20 },
};
const VARIANTS: Record<string, object> = {
  plain: SPEC,
  'every 50 steps, 1,000 per task': { ...SPEC, eval: { every: 50, subset: 1000 } },
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const backend = await selectBackend(backendChoice);
const registry = new PluginRegistry(builtinPlugins);
// The data set loaded once for every run, as a sweep shares it: the runs' times are training and evaluation.
const datasets = new DatasetCache();

async function secondsOf(spec: object): Promise<{ seconds: number; points: number }> {
  const [config] = validateExperiment(spec, registry, `${process.cwd()}/bench/virtual.ts`);
  const started = performance.now();
  const events: RunEvent[] = await lastValueFrom(runEvents(config, registry, backend, { datasets }).pipe(toArray()));
  const seconds = (performance.now() - started) / 1000;
  const end = events.at(-1) as Extract<RunEvent, { type: 'run-end' }>;
  if (end.status !== 'completed') throw new Error(end.error);
  const points = new Set(events.flatMap((e) => (e.type === 'eval' && e.evalSet === 'continual' ? [e.step] : []))).size;
  return { seconds, points };
}

await secondsOf(SPEC); // warm-up: the data set loaded, kernels compiled
const samples: Record<string, number[]> = Object.fromEntries(Object.keys(VARIANTS).map((k) => [k, []]));
const points: Record<string, number> = {};
for (let r = 0; r < rounds; r++) {
  // Alternate which goes first: a machine that slows down within a round favours neither.
  const order = r % 2 ? Object.keys(VARIANTS).reverse() : Object.keys(VARIANTS);
  for (const name of order) {
    const result = await secondsOf(VARIANTS[name]);
    samples[name].push(result.seconds);
    points[name] = result.points;
    process.stderr.write(`round ${r + 1}/${rounds}: ${name} ${result.seconds.toFixed(1)} s\n`);
  }
}
const seconds = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
const ratio = seconds['every 50 steps, 1,000 per task'] / seconds.plain;
console.log(
  `backend: ${backend.name} (${backend.detail}); Split MNIST, MLP 784-400-400-10, AdamW, batch 128, one epoch per ` +
    `task; median of ${rounds} whole runs each\n`,
);
console.log(
  renderTable([
    ['run', 'seconds', 'evaluation points', 'ratio to plain'],
    ...Object.keys(VARIANTS).map((k) => [
      k,
      seconds[k].toFixed(2),
      String(points[k]),
      (seconds[k] / seconds.plain).toFixed(2),
    ]),
  ]),
);
console.log(JSON.stringify({ backend: backend.name, rounds, seconds, points, ratio }));
