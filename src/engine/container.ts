import { dirname, isAbsolute, resolve } from 'node:path';
import { Container } from 'inversify';
import type { RunConfig } from '../contracts/run-config.js';
import type { PluginContext } from '../plugin/define-plugin.js';
import { COMPONENT_KINDS, type ComponentKind, type PluginKind } from '../plugin/kinds.js';
import type { Strategy } from '../contracts/strategy.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { BackendInfo } from '../tensor/backend.js';
import { Rng } from '../tensor/rng.js';
import { resolveTokenAsync } from '../contracts/token.js';
import type { Dataset } from '../contracts/data.js';
import type { TaskStream } from '../contracts/stream.js';
import { canonicalJson } from '../spec/validate.js';
import { AnchorStore } from '../optim/anchors.js';
import { scenarioView } from './scenario.js';
import { ANCHORS, AUGMENTATIONS, BACKEND, COMPONENT, PHASE_OPTIMIZERS, REGISTRY, ROOT_RNG, RUN_CONFIG, SCENARIO, STRATEGIES } from './tokens.js';
import type { Augmentation } from '../contracts/augmentation.js';
import type { Model } from '../contracts/model.js';
import { tf } from '../tensor/tf.js';
import { Evaluator } from './evaluate.js';
import { TaskTrainer } from './trainer.js';
import { TaskExamples } from './task-examples.js';

/** A component's factory failed; names the component so the user knows where to look. */
export class ComponentError extends Error {
  constructor(
    message: string,
    /** Where in the experiment: a kind, or `strategies[i]`. */
    readonly path = '',
    readonly cause?: unknown,
  ) {
    super(message);
  }
}

/**
 * The DI container of one run: its configuration, the backend, seeded RNG,
 * one binding per component kind (built lazily by the chosen plugin, once)
 * and the run's own services.
 */
/**
 * Data sets shared by the runs of one process: they are immutable host
 * arrays, and an experiment's runs (and its preflight) mostly use the same
 * one, which would otherwise be loaded — and held — once per run.
 */
export class DatasetCache {
  constructor(
    private readonly entries = new Map<string, Promise<Dataset>>(),
    /** Task streams by data set, stream and seed, when shared (see `sharingStreams`). */
    readonly streams?: Map<string, Promise<TaskStream>>,
  ) {}

  get(key: string, load: () => Promise<Dataset>): Promise<Dataset> {
    return cached(this.entries, key, load);
  }

  /**
   * The same data sets, and a stream cache of its own: for looking at many
   * runs without training them (the plan of `--together`, preflight), where
   * runs that differ only in strategy, scenario or optimizer would each build
   * — and, until the garbage collector catches up, hold — their own copy of
   * every task's examples (27 runs of Split MNIST: ~6 GB). Streams are
   * deterministic in the data set, the stream's options and the seed.
   */
  sharingStreams(): DatasetCache {
    return new DatasetCache(this.entries, new Map());
  }
}

function cached<T>(entries: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let entry = entries.get(key);
  if (!entry) {
    entry = load();
    entries.set(key, entry);
    entry.catch(() => entries.delete(key));
  }
  return entry;
}

export function createRunContainer(config: RunConfig, registry: PluginRegistry, backend: BackendInfo, datasets?: DatasetCache): Container {
  const container = new Container({ defaultScope: 'Singleton' });
  container.bind(RUN_CONFIG).toConstantValue(config);
  container.bind(REGISTRY).toConstantValue(registry);
  container.bind(BACKEND).toConstantValue(backend);
  const rootRng = new Rng(config.seed);
  container.bind(ROOT_RNG).toConstantValue(rootRng);
  container.bind(ANCHORS).toConstantValue(new AnchorStore());

  const baseDir = dirname(config.experimentFile);
  const resolveKind = <K extends ComponentKind>(kind: K) => resolveTokenAsync(container, COMPONENT[kind]);
  const context = (kind: PluginKind): PluginContext => ({
    seed: config.seed,
    rng: (label) => rootRng.fork(`${kind}:${label}`),
    resolve: resolveKind,
    resolvePath: (p) => (isAbsolute(p) ? p : resolve(baseDir, p)),
    problem: async () => {
      const stream = await resolveKind('stream');
      return { featureShape: stream.featureShape, outputs: scenarioView(stream, config.scenario).outputs };
    },
  });

  for (const kind of COMPONENT_KINDS) {
    const chosen = config.components[kind];
    const plugin = registry.get(kind, chosen.name);
    container.bind(COMPONENT[kind]).toDynamicValue(async () => {
      try {
        if (kind === 'dataset' && datasets) {
          const key = `${baseDir}\u0000${canonicalJson(chosen)}`;
          return await datasets.get(key, async () => (await plugin.create(chosen.options as never, context(kind))) as Dataset);
        }
        if (kind === 'stream' && datasets?.streams) {
          const key = `${baseDir}\u0000${canonicalJson({ dataset: config.components.dataset, stream: chosen, seed: config.seed })}`;
          return await cached(datasets.streams, key, async () => (await plugin.create(chosen.options as never, context(kind))) as TaskStream);
        }
        const built = await plugin.create(chosen.options as never, context(kind));
        if (kind !== 'model') return built;
        // Deterministic input transforms (normalize) are the model's input: every caller of the model gets them.
        const transforms = (await resolveTokenAsync(container, AUGMENTATIONS)).filter((a) => a.when === 'always');
        return transforms.length ? withInputTransforms(built as Model, transforms, (await resolveKind('stream')).featureShape) : built;
      } catch (e) {
        if (e instanceof ComponentError) throw e;
        throw new ComponentError(`${kind} '${chosen.name}': ${(e as Error).message}`, kind, e);
      }
    });
  }
  container.bind(STRATEGIES).toDynamicValue(async () => {
    const built: Strategy[] = [];
    try {
      for (const [i, chosen] of config.strategies.entries()) {
        const path = config.strategies.length === 1 ? 'strategy' : `strategies[${i}]`;
        const plugin = registry.get('strategy', chosen.name);
        // The first strategy keeps the RNG streams a single strategy always had.
        const ctx = context('strategy');
        const labelled: PluginContext = i === 0 ? ctx : { ...ctx, rng: (label) => rootRng.fork(`strategy:${i}:${label}`) };
        try {
          built.push(await plugin.create(chosen.options as never, labelled));
        } catch (e) {
          throw new ComponentError(`${path} '${chosen.name}': ${(e as Error).message}`, path, e);
        }
      }
      return built;
    } catch (e) {
      for (const s of built) s.dispose?.();
      throw e;
    }
  });
  container.bind(AUGMENTATIONS).toDynamicValue(async () => {
    const built: Augmentation[] = [];
    const shape = config.augment.length ? (await resolveKind('stream')).featureShape : [];
    for (const [i, chosen] of config.augment.entries()) {
      try {
        // Crops, flips and per-channel statistics mean nothing on a flat feature vector.
        if (shape.length !== 3) throw new Error(`augmentations need images [height, width, channels], but the examples have shape [${shape}] (a dataset option such as imageShape gives them one)`);
        built.push(await registry.get('augmentation', chosen.name).create(chosen.options as never, { ...context('augmentation'), rng: (label) => rootRng.fork(`augmentation:${i}:${label}`) }));
      } catch (e) {
        for (const a of built) a.dispose?.();
        throw new ComponentError(`augment[${i}] '${chosen.name}': ${(e as Error).message}`, `augment[${i}]`, e);
      }
    }
    return built;
  });
  container.bind(PHASE_OPTIMIZERS).toDynamicValue(async () => {
    if (!config.phases) return [await resolveKind('optimizer')];
    const plugin = (name: string) => registry.get('optimizer', name);
    const built = [];
    for (const [i, phase] of config.phases.entries()) {
      try {
        // Each phase gets its own component (and so its own state); the first keeps the run's RNG streams.
        const ctx = context('optimizer');
        built.push(await plugin(phase.optimizer.name).create(phase.optimizer.options as never, i === 0 ? ctx : { ...ctx, rng: (label) => rootRng.fork(`optimizer:phase${i}:${label}`) }));
      } catch (e) {
        throw new ComponentError(`phases[${i}].optimizer '${phase.optimizer.name}': ${(e as Error).message}`, `phases[${i}].optimizer`, e);
      }
    }
    return built;
  });
  container.bind(SCENARIO).toDynamicValue(async () => scenarioView(await resolveKind('stream'), config.scenario));
  container.bind(Evaluator).toSelf();
  container.bind(TaskTrainer).toSelf();
  container.bind(TaskExamples).toSelf();
  return container;
}

/** The model with deterministic input transforms before every forward pass (flattened rows in, as the model takes them). */
function withInputTransforms(model: Model, transforms: Augmentation[], shape: readonly number[]): Model {
  const image = shape.length === 3 ? shape : [...shape, 1, 1].slice(0, 3);
  const transform = (x: tf.Tensor): tf.Tensor => {
    let t = tf.reshape(x, [-1, image[0], image[1], image[2]]) as tf.Tensor4D;
    for (const a of transforms) t = a.apply(t, 0);
    return tf.reshape(t, x.shape);
  };
  return {
    params: model.params,
    buffers: model.buffers,
    snapshot: model.snapshot ? () => model.snapshot!() : undefined,
    restore: model.restore ? (saved) => model.restore!(saved) : undefined,
    fresh: model.fresh,
    rowAxis: model.rowAxis,
    // A stacked pass over the layer graph applies the transform itself.
    architecture: model.architecture && { ...model.architecture, input: transform },
    forward: (x, training) => model.forward(transform(x), training),
    apply: model.apply ? (params, x, training) => model.apply!(params, transform(x), training) : undefined,
    features: model.features ? (x, training) => model.features!(transform(x), training) : undefined,
    describe: () => `${model.describe()}; input ${transforms.map((a) => a.name).join(', ')}`,
    dispose: () => model.dispose(),
  };
}
