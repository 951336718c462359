// What the benches share: the models they time, and anchorage's own training
// loop timed step by step (one task, every step logged: a read-back per step,
// as a bare loop does).
import { lastValueFrom, toArray } from 'rxjs';
import { builtinPlugins } from '../plugins/index.js';
import { PluginRegistry } from '../src/plugin/registry.js';
import { validateExperiment } from '../src/spec/validate.js';
import { runEvents } from '../src/engine/session.js';
import { selectBackend, type BackendName } from '../src/tensor/backend.js';
import type { RunEvent } from '../src/contracts/events.js';

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
const CIFAR_LIKE = {
  name: 'synthetic',
  classes: 10,
  features: 32 * 32 * 3,
  imageShape: [32, 32, 3],
  testPerClass: 20,
  separation: 2,
};

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const registry = new PluginRegistry(builtinPlugins);

/** AdamW with no weight decay: Adam (lr 1e-3), as bench/pytorch-step.py's. */
export const ADAM = { name: 'adamw', lr: 1e-3, weightDecay: 0 } as const;

/** One task of all ten classes: MNIST for the MLPs and the CNN, CIFAR-size synthetic images for the ResNet. */
function benchSpec(kind: Kind, examples: number, optimizer: Record<string, unknown>, train: Record<string, unknown>) {
  return {
    name: 'bench',
    dataset:
      kind === 'resnet18'
        ? { ...CIFAR_LIKE, trainPerClass: Math.ceil(examples / 10) }
        : { name: 'mnist', trainLimit: examples, testLimit: 200 },
    stream: { name: 'split', tasksOf: 10 },
    model: MODELS[kind],
    optimizer,
    train: { batchSize: batchOf(kind), ...train },
    checkpoint: false,
  };
}

async function run(backend: BackendName, kind: Kind, spec: ReturnType<typeof benchSpec>): Promise<RunEvent[]> {
  const info = await selectBackend(backend);
  const [config] = validateExperiment(spec, registry, `${process.cwd()}/bench/virtual.ts`);
  const events: RunEvent[] = await lastValueFrom(runEvents(config, registry, info).pipe(toArray()));
  const end = events.at(-1) as Extract<RunEvent, { type: 'run-end' }>;
  if (end.status !== 'completed')
    throw new Error(`${MODELS[kind].name} with ${String(spec.optimizer.name)} on ${backend}: ${end.error}`);
  return events;
}

/** ms of each of `steps` training steps of anchorage's loop after WARMUP steps, with `optimizer` (Adam by default). */
export async function frameworkStepTimes(
  backend: BackendName,
  kind: Kind,
  steps: number,
  optimizer: Record<string, unknown> = ADAM,
): Promise<number[]> {
  const batch = batchOf(kind);
  const events = await run(
    backend,
    kind,
    benchSpec(kind, batch * (steps + WARMUP) * 2, optimizer, { steps: steps + WARMUP, logEvery: 1 }),
  );
  return events.flatMap((e) => (e.type === 'step' ? [(batch * 1000) / e.examplesPerSecond] : [])).slice(WARMUP);
}

/**
 * ms per step over an epoch of `steps` steps after a warm-up epoch, logging nothing (as bench:optimizers times
 * them): an anchored optimizer's logging points also read its diagnostics back, which every-step logging would
 * add to its time.
 */
export async function frameworkEpochMs(
  backend: BackendName,
  kind: Kind,
  steps: number,
  optimizer: Record<string, unknown> = ADAM,
): Promise<number> {
  const events = await run(
    backend,
    kind,
    benchSpec(kind, batchOf(kind) * steps, optimizer, { epochs: 2, logEvery: 1_000_000 }),
  );
  const last = events.filter((e) => e.type === 'epoch-end').at(-1) as Extract<RunEvent, { type: 'epoch-end' }>;
  return (1000 * last.seconds) / last.steps;
}
