// What the benches share: the models they time, and anchorage's own training
// loop timed step by step (one task, every step logged: a read-back per step,
// as a bare loop does).
import { lastValueFrom, toArray } from 'rxjs';
import { builtinPlugins } from '../plugins/index.js';
import { PluginRegistry } from '../src/plugin/registry.js';
import { validateExperiment } from '../src/spec/validate.js';
import { runEvents } from '../src/run/run.js';
import { selectBackend, type BackendName } from '../src/tensor/backend.js';
import type { RunEvent } from '../src/run/events.js';

export const WARMUP = 5;
export const MODELS = {
  mlp: { name: 'mlp', hidden: [400, 400] },
  // The width of the PyTorch reference (784-256-256-10), for a like-for-like comparison.
  mlp256: { name: 'mlp', hidden: [256, 256] },
  cnn: { name: 'cnn', channels: [16, 32], hidden: 128 },
  resnet18: { name: 'resnet18', width: 20 },
} as const;
export type Kind = keyof typeof MODELS;
export const batchOf = (kind: Kind) => (kind === 'resnet18' ? 32 : 128);
/** MNIST for the MLPs and the CNN; CIFAR-size images (synthetic: nothing to download) for the ResNet. */
const CIFAR_LIKE = { name: 'synthetic', classes: 10, features: 32 * 32 * 3, imageShape: [32, 32, 3], testPerClass: 20, separation: 2 };

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const registry = new PluginRegistry(builtinPlugins);

/** ms of each of `steps` training steps of anchorage's loop after WARMUP steps, Adam (lr 1e-3, no weight decay). */
export async function frameworkStepTimes(backend: BackendName, kind: Kind, steps: number): Promise<number[]> {
  const info = await selectBackend(backend);
  const model = MODELS[kind];
  const batch = batchOf(kind);
  const spec = {
    name: 'bench',
    dataset: kind === 'resnet18' ? { ...CIFAR_LIKE, trainPerClass: Math.ceil((batch * (steps + WARMUP)) / 10) } : { name: 'mnist', trainLimit: batch * (steps + WARMUP) * 2, testLimit: 200 },
    stream: { name: 'split', tasksOf: 10 },
    model,
    optimizer: { name: 'adamw', lr: 1e-3, weightDecay: 0 },
    train: { steps: steps + WARMUP, batchSize: batch, logEvery: 1 },
    checkpoint: false,
  };
  const [config] = validateExperiment(spec, registry, `${process.cwd()}/bench/virtual.ts`);
  const events: RunEvent[] = await lastValueFrom(runEvents(config, registry, info).pipe(toArray()));
  const end = events.at(-1) as Extract<RunEvent, { type: 'run-end' }>;
  if (end.status !== 'completed') throw new Error(`${model.name} on ${backend}: ${end.error}`);
  return events.flatMap((e) => (e.type === 'step' ? [(batch * 1000) / e.examplesPerSecond] : [])).slice(WARMUP);
}
