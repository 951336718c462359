import { dirname, isAbsolute, resolve } from 'node:path';
import { Container } from 'inversify';
import type { RunConfig } from '../contracts/run-config.js';
import type { PluginContext } from '../plugin/define-plugin.js';
import { COMPONENT_KINDS, type ComponentKind, type PluginKind, type PluginKinds } from '../plugin/kinds.js';
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
import {
  ANCHORS,
  AUGMENTATIONS,
  BACKEND,
  COMPONENT,
  PHASE_OPTIMIZERS,
  REGISTRY,
  ROOT_RNG,
  RUN_CONFIG,
  SCENARIO,
  STRATEGIES,
} from './tokens.js';
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

/** What the bindings of one run's container share: its configuration, plugins, RNG and plugin contexts. */
interface Binding {
  container: Container;
  config: RunConfig;
  registry: PluginRegistry;
  rootRng: Rng;
  baseDir: string;
  context(kind: PluginKind): PluginContext;
  resolveKind<K extends ComponentKind>(kind: K): Promise<PluginKinds[K]>;
}

export function createRunContainer(
  config: RunConfig,
  registry: PluginRegistry,
  backend: BackendInfo,
  datasets?: DatasetCache,
): Container {
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
      const { outputs } = scenarioView(stream, config.scenario);
      return { featureShape: stream.featureShape, outputs, batchSize: config.train.batchSize };
    },
  });
  const b: Binding = { container, config, registry, rootRng, baseDir, context, resolveKind };
  for (const kind of COMPONENT_KINDS) bindComponent(b, kind, datasets);
  bindStrategies(b);
  bindAugmentations(b);
  bindPhaseOptimizers(b);
  container.bind(SCENARIO).toDynamicValue(async () => scenarioView(await resolveKind('stream'), config.scenario));
  container.bind(Evaluator).toSelf();
  container.bind(TaskTrainer).toSelf();
  container.bind(TaskExamples).toSelf();
  return container;
}

/** One component kind, built once by the chosen plugin; data sets and streams shared through `datasets`. */
function bindComponent(b: Binding, kind: ComponentKind, datasets: DatasetCache | undefined): void {
  const { config, context, baseDir } = b;
  const chosen = config.components[kind];
  const plugin = b.registry.get(kind, chosen.name);
  b.container.bind(COMPONENT[kind]).toDynamicValue(async () => {
    try {
      if (kind === 'dataset' && datasets) {
        const key = `${baseDir}\u0000${canonicalJson(chosen)}`;
        return await datasets.get(key, async () => (await plugin.create(chosen.options, context(kind))) as Dataset);
      }
      if (kind === 'stream' && datasets?.streams) {
        const streamKey = canonicalJson({ dataset: config.components.dataset, stream: chosen, seed: config.seed });
        const create = async () => (await plugin.create(chosen.options, context(kind))) as TaskStream;
        return await cached(datasets.streams, `${baseDir}\u0000${streamKey}`, create);
      }
      const built = await plugin.create(chosen.options, context(kind));
      if (kind !== 'model') return built;
      // Deterministic input transforms (normalize) are the model's input: every caller of the model gets them.
      const transforms = (await resolveTokenAsync(b.container, AUGMENTATIONS)).filter((a) => a.when === 'always');
      return transforms.length
        ? withInputTransforms(built as Model, transforms, (await b.resolveKind('stream')).featureShape)
        : built;
    } catch (e) {
      if (e instanceof ComponentError) throw e;
      throw new ComponentError(`${kind} '${chosen.name}': ${(e as Error).message}`, kind, e);
    }
  });
}

/** The run's strategies, in their listed order (built together; one that fails frees those built before it). */
function bindStrategies(b: Binding): void {
  const { config } = b;
  b.container.bind(STRATEGIES).toDynamicValue(async () => {
    const built: Strategy[] = [];
    try {
      for (const [i, chosen] of config.strategies.entries()) {
        const path = config.strategies.length === 1 ? 'strategy' : `strategies[${i}]`;
        const plugin = b.registry.get('strategy', chosen.name);
        // The first strategy keeps the RNG streams a single strategy always had.
        const ctx = b.context('strategy');
        const labelled: PluginContext =
          i === 0 ? ctx : { ...ctx, rng: (label) => b.rootRng.fork(`strategy:${i}:${label}`) };
        try {
          built.push(await plugin.create(chosen.options, labelled));
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
}

/** The augmentations and input transforms, in order; they need images. */
function bindAugmentations(b: Binding): void {
  const { config } = b;
  b.container.bind(AUGMENTATIONS).toDynamicValue(async () => {
    const built: Augmentation[] = [];
    const shape = config.augment.length ? (await b.resolveKind('stream')).featureShape : [];
    for (const [i, chosen] of config.augment.entries()) {
      try {
        // Crops, flips and per-channel statistics mean nothing on a flat feature vector.
        if (shape.length !== 3)
          throw new Error(
            `augmentations need images [height, width, channels], but the examples have shape [${shape}] (a ` +
              `dataset option such as imageShape gives them one)`,
          );
        const rng = (label: string) => b.rootRng.fork(`augmentation:${i}:${label}`);
        built.push(
          await b.registry
            .get('augmentation', chosen.name)
            .create(chosen.options, { ...b.context('augmentation'), rng }),
        );
      } catch (e) {
        for (const a of built) a.dispose?.();
        throw new ComponentError(`augment[${i}] '${chosen.name}': ${(e as Error).message}`, `augment[${i}]`, e);
      }
    }
    return built;
  });
}

/** The optimizer component of each phase of a task, each with its own state. */
function bindPhaseOptimizers(b: Binding): void {
  const { config } = b;
  b.container.bind(PHASE_OPTIMIZERS).toDynamicValue(async () => {
    if (!config.phases) return [await b.resolveKind('optimizer')];
    const built = [];
    for (const [i, phase] of config.phases.entries()) {
      try {
        // Each phase gets its own component (and so its own state); the first keeps the run's RNG streams.
        const ctx = b.context('optimizer');
        const rng = (label: string) => b.rootRng.fork(`optimizer:phase${i}:${label}`);
        built.push(
          await b.registry
            .get('optimizer', phase.optimizer.name)
            .create(phase.optimizer.options, i === 0 ? ctx : { ...ctx, rng }),
        );
      } catch (e) {
        const path = `phases[${i}].optimizer`;
        throw new ComponentError(`${path} '${phase.optimizer.name}': ${(e as Error).message}`, path, e);
      }
    }
    return built;
  });
}

/**
 * The model with deterministic input transforms before every forward pass (flattened rows in, as the model takes them).
 */
function withInputTransforms(model: Model, transforms: Augmentation[], shape: readonly number[]): Model {
  const image = shape.length === 3 ? shape : [...shape, 1, 1].slice(0, 3);
  const transform = (x: tf.Tensor): tf.Tensor => {
    let t = tf.reshape<tf.Rank.R4>(x, [-1, image[0], image[1], image[2]]);
    for (const a of transforms) t = a.apply(t, 0);
    return tf.reshape(t, x.shape);
  };
  return {
    params: model.params,
    buffers: model.buffers,
    snapshot: model.snapshot ? () => model.snapshot!() : undefined,
    restore: model.restore ? (saved) => model.restore!(saved) : undefined,
    fresh: model.fresh,
    pretrained: model.pretrained,
    rowAxis: model.rowAxis,
    // A stacked pass over the layer graph applies the transform itself.
    architecture: model.architecture && { ...model.architecture, input: transform },
    forward: (x, training) => model.forward(transform(x), training),
    apply: model.apply ? (params, x, training) => model.apply!(params, transform(x), training) : undefined,
    features: model.features ? (x, training, params) => model.features!(transform(x), training, params) : undefined,
    describe: () => `${model.describe()}; input ${transforms.map((a) => a.name).join(', ')}`,
    dispose: () => model.dispose(),
  };
}
