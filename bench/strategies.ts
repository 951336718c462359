// npm run bench:strategies — median time per training step of every
// strategy on the Split-MNIST MLP (784-400-400-10, batch 128, Adam), and its
// ratio to naive fine-tuning, on one backend, in one process, interleaved in
// rounds. Timed: the second task's epochs after its first (every strategy is
// then fully active: memories filled, penalties recorded; task-end work such
// as Fisher or herding is not in a step and not timed). Then the methods on a
// pre-trained backbone, whose cost is not per step (SimpleCIL and RanPAC take
// none; RanPAC and SLCA work at each task's end): the wall time of a whole
// run on the same MLP pre-trained on the other half of the data, against
// naive fine-tuning of it. One JSON line per backend. Not part of `npm test`.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { builtinPlugins } from '../plugins/index.js';
import { PluginRegistry } from '../src/plugin/registry.js';
import { validateExperiment } from '../src/spec/validate.js';
import { runEvents } from '../src/engine/session.js';
import { selectBackend, type BackendChoice } from '../src/tensor/backend.js';
import { renderTable } from '../src/report/format.js';
import type { RunEvent } from '../src/contracts/events.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const backendChoice = (args.get('backend') ?? 'auto') as BackendChoice;
const rounds = Number(args.get('rounds') ?? 2);
const EPOCHS = 3; // per task; the first of the second task is warm-up
const TRAIN = 5120; // two tasks of five digits, about 20 steps of 128 per epoch each

const STRATEGIES: Record<string, Record<string, unknown>> = {
  naive: { name: 'naive' },
  ewc: { name: 'ewc', lambda: 100, fisherSamples: 50 },
  si: { name: 'si' },
  mas: { name: 'mas', samples: 50 },
  lwf: { name: 'lwf' },
  replay: { name: 'replay', size: 500 },
  agem: { name: 'agem', size: 500, refBatchSize: 128 },
  gem: { name: 'gem', size: 500 },
  der: { name: 'der', size: 500 },
  derpp: { name: 'derpp', size: 500 },
  'er-ace': { name: 'er-ace', size: 500 },
  icarl: { name: 'icarl', size: 500 },
  gdumb: { name: 'gdumb', size: 500, passes: 6 },
  ewcpp: { name: 'ewcpp', lambda: 100 },
  rwalk: { name: 'rwalk', lambda: 100 },
  mir: { name: 'mir', size: 500 },
  gss: { name: 'gss', size: 500 },
  dgr: { name: 'dgr' },
};

/** Whole runs on a pre-trained backbone (SGD, as SLCA trains). */
const ON_BACKBONE: Record<string, Record<string, unknown>> = {
  naive: { name: 'naive' },
  simplecil: { name: 'simplecil' },
  ranpac: { name: 'ranpac' },
  aper: { name: 'aper' },
  slca: { name: 'slca' },
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const backend = await selectBackend(backendChoice);
const registry = new PluginRegistry(builtinPlugins);

async function msPerStep(strategy: Record<string, unknown>): Promise<number[]> {
  const spec = {
    name: 'bench-strategies',
    dataset: { name: 'mnist', trainLimit: TRAIN, testLimit: 500 },
    stream: { name: 'split', tasksOf: 5 },
    model: { name: 'mlp', hidden: [400, 400] },
    optimizer: { name: 'adamw', lr: 1e-3, weightDecay: 0 },
    strategy,
    train: { epochs: EPOCHS, batchSize: 128, logEvery: 1_000_000 },
  };
  const [config] = validateExperiment(spec, registry, `${process.cwd()}/bench/virtual.ts`);
  const events: RunEvent[] = await lastValueFrom(runEvents(config, registry, backend).pipe(toArray()));
  const end = events.at(-1) as Extract<RunEvent, { type: 'run-end' }>;
  if (end.status !== 'completed') throw new Error(`${String(strategy.name)}: ${end.error}`);
  return events.flatMap((e) =>
    e.type === 'epoch-end' && e.task === 1 && e.epoch > 0 ? [(1000 * e.seconds) / e.steps] : [],
  );
}

const only = args.get('only')?.split(',');
for (const table of [STRATEGIES, ON_BACKBONE])
  for (const name of Object.keys(table)) if (only && name !== 'naive' && !only.includes(name)) delete table[name];

/** The MLP trained on digits 5–9, saved where the runs on a backbone load it. */
async function pretrainBackbone(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-backbone-'));
  const spec = {
    name: 'bench-backbone',
    dataset: { name: 'mnist', trainLimit: TRAIN, testLimit: 500 },
    stream: { name: 'split', tasks: [[5, 6, 7, 8, 9]] },
    model: { name: 'mlp', hidden: [400, 400] },
    optimizer: { name: 'adamw', lr: 1e-3, weightDecay: 0 },
    train: { epochs: 2, batchSize: 128, logEvery: 1_000_000 },
    saveModel: 'backbone',
  };
  const [config] = validateExperiment(spec, registry, `${process.cwd()}/bench/virtual.ts`);
  await lastValueFrom(runEvents(config, registry, backend, { out: dir }).pipe(toArray()));
  return join(dir, 'backbone');
}

/** Seconds of a whole run: digits 0–4 as two tasks, class-IL, on the backbone with a new head. */
async function runSeconds(backbone: string, strategy: Record<string, unknown>): Promise<number> {
  const spec = {
    name: 'bench-backbone-runs',
    dataset: { name: 'mnist', trainLimit: TRAIN, testLimit: 500 },
    stream: {
      name: 'split',
      tasks: [
        [0, 1],
        [2, 3, 4],
      ],
    },
    model: { name: 'pretrained', path: backbone },
    optimizer: { name: 'sgd', lr: 0.01, momentum: 0.9, weightDecay: 5e-4 },
    strategy,
    train: { epochs: EPOCHS, batchSize: 128, logEvery: 1_000_000 },
  };
  const [config] = validateExperiment(spec, registry, `${process.cwd()}/bench/virtual.ts`);
  const started = performance.now();
  const events: RunEvent[] = await lastValueFrom(runEvents(config, registry, backend).pipe(toArray()));
  const end = events.at(-1) as Extract<RunEvent, { type: 'run-end' }>;
  if (end.status !== 'completed') throw new Error(`${String(strategy.name)}: ${end.error}`);
  return (performance.now() - started) / 1000;
}

const samples: Record<string, number[]> = Object.fromEntries(Object.keys(STRATEGIES).map((k) => [k, []]));
const runs: Record<string, number[]> = Object.fromEntries(Object.keys(ON_BACKBONE).map((k) => [k, []]));
const backbone = Object.keys(ON_BACKBONE).length > 1 ? await pretrainBackbone() : undefined;
for (let r = 0; r < rounds; r++) {
  for (const [name, spec] of Object.entries(STRATEGIES)) {
    samples[name].push(...(await msPerStep(spec)));
    process.stderr.write(`round ${r + 1}/${rounds}: ${name} done\n`);
  }
  if (!backbone) continue;
  for (const [name, spec] of Object.entries(ON_BACKBONE)) {
    runs[name].push(await runSeconds(backbone, spec));
    process.stderr.write(`round ${r + 1}/${rounds}: ${name} on a backbone done\n`);
  }
}
const ms = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
const ratios = Object.fromEntries(Object.keys(ms).map((k) => [k, ms[k] / ms.naive]));
const seconds = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)]));
const runRatios = Object.fromEntries(Object.keys(seconds).map((k) => [k, seconds[k] / seconds.naive]));
console.log(
  `backend: ${backend.name} (${backend.detail}); MLP 784-400-400-10, batch 128, Adam; second task of two; ` +
    `median of ${samples.naive.length} epochs per strategy\n`,
);
console.log(
  renderTable([
    ['strategy', 'ms/step', 'ratio to naive'],
    ...Object.keys(ms).map((k) => [k, ms[k].toFixed(2), ratios[k].toFixed(2)]),
  ]),
);
if (backbone) {
  console.log(
    `\nwhole runs on the MLP pre-trained on digits 5–9: digits 0–4 in two tasks, ${EPOCHS} epochs each, SGD; ` +
      `median of ${rounds} runs\n`,
  );
  console.log(
    renderTable([
      ['strategy', 's/run', 'ratio to naive'],
      ...Object.keys(seconds).map((k) => [k, seconds[k].toFixed(2), runRatios[k].toFixed(2)]),
    ]),
  );
}
console.log(
  JSON.stringify({
    bench: 'strategies',
    backend: backend.name,
    backendDetail: backend.detail,
    msPerStep: ms,
    ratioToNaive: ratios,
    secondsPerRunOnBackbone: seconds,
    runRatioToNaive: runRatios,
    rounds,
  }),
);
