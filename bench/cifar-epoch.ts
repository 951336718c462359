// npm run bench:cifar-epoch — one Split CIFAR-10 task epoch on the reduced
// ResNet-18 as experiments/split-cifar10.ts trains it: 10,000 images of
// 32×32×3 (two classes of 5,000; synthetic, since nothing downloads), batch
// 32, random crops (padding 4), horizontal flips and normalisation, SGD. The
// epoch with anchorage's step kernels and on the op path
// (ANCHORAGE_STEP_KERNELS=0), alternated in rounds in one process; seconds of
// the training epoch (`epoch-end`), median over rounds. One JSON line at the
// end. Not part of `npm test`.
//
//   npm run bench:cifar-epoch -- --rounds=2 [--backend=tensorflow] [--images=10000]
import { lastValueFrom, toArray } from 'rxjs';
import { builtinPlugins } from '../plugins/index.js';
import { PluginRegistry } from '../src/plugin/registry.js';
import { validateExperiment } from '../src/spec/validate.js';
import { runEvents } from '../src/engine/session.js';
import { DatasetCache } from '../src/engine/container.js';
import { selectBackend, type BackendChoice } from '../src/tensor/backend.js';
import { STEP_KERNELS_ENV } from '../src/tensor/kernels/native-ops.js';
import { renderTable } from '../src/report/format.js';
import type { RunEvent } from '../src/contracts/events.js';
import { median } from './loops.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const rounds = Number(args.get('rounds') ?? 2);
const images = Number(args.get('images') ?? 10_000);
const backend = await selectBackend((args.get('backend') ?? 'auto') as BackendChoice);

const SPEC = {
  name: 'bench-cifar-epoch',
  dataset: {
    name: 'synthetic',
    classes: 2,
    features: 32 * 32 * 3,
    imageShape: [32, 32, 3],
    trainPerClass: images / 2,
    testPerClass: 50,
    separation: 2,
  },
  stream: { name: 'split', tasksOf: 2 },
  model: { name: 'resnet18', width: 20 },
  augment: [
    { name: 'random-crop', padding: 4 },
    { name: 'horizontal-flip' },
    { name: 'normalize', mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] },
  ],
  optimizer: { name: 'sgd', lr: 0.03 },
  train: { epochs: 1, batchSize: 32, logEvery: 100 },
  checkpoint: false,
};
const PATHS = { 'step kernels': undefined, 'op path': '0' } as const;

const registry = new PluginRegistry(builtinPlugins);
const datasets = new DatasetCache();
const [config] = validateExperiment(SPEC, registry, `${process.cwd()}/bench/virtual.ts`);

async function epochSeconds(path: keyof typeof PATHS): Promise<number> {
  const value = PATHS[path];
  if (value === undefined) delete process.env[STEP_KERNELS_ENV];
  else process.env[STEP_KERNELS_ENV] = value;
  const events: RunEvent[] = await lastValueFrom(runEvents(config, registry, backend, { datasets }).pipe(toArray()));
  delete process.env[STEP_KERNELS_ENV];
  const end = events.at(-1) as Extract<RunEvent, { type: 'run-end' }>;
  if (end.status !== 'completed') throw new Error(end.error);
  return (events.find((e) => e.type === 'epoch-end') as Extract<RunEvent, { type: 'epoch-end' }>).seconds;
}

const samples: Record<string, number[]> = { 'step kernels': [], 'op path': [] };
for (let r = 0; r < rounds; r++) {
  const order = (r % 2 ? Object.keys(PATHS).reverse() : Object.keys(PATHS)) as (keyof typeof PATHS)[];
  for (const path of order) {
    samples[path].push(await epochSeconds(path));
    process.stderr.write(`round ${r + 1}/${rounds}: ${path} ${samples[path].at(-1)!.toFixed(1)} s\n`);
  }
}
const seconds = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
console.log(
  `backend: ${backend.name} (${backend.detail}); reduced ResNet-18, ${images} images of 32×32×3, batch 32, ` +
    `crops + flips + normalize, SGD; one epoch, median of ${rounds} rounds\n`,
);
console.log(
  renderTable([
    ['path', 'epoch (s)', 'ms per step'],
    ...Object.entries(seconds).map(([k, s]) => [k, s.toFixed(1), ((1000 * s) / Math.ceil(images / 32)).toFixed(1)]),
  ]),
);
console.log(JSON.stringify({ bench: 'cifar-epoch', backend: backend.name, rounds, images, seconds }));
