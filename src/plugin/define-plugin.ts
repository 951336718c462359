import type { Rng } from '../tensor/rng.js';
import type { StrategyRole } from '../contracts/strategy.js';
import type { ReporterContext } from '../contracts/reporter.js';
import type { Options, OptionSchema, OptionsInput, Problem } from './options.js';
import type { ComponentKind, PluginKind, PluginKinds, PluginRegistries } from './kinds.js';

/** What the model must consume and produce, after the scenario is applied. */
export interface ProblemShape {
  readonly featureShape: readonly number[];
  /** Width of the output layer (classes of the stream; the largest task's for domain-il). */
  readonly outputs: number;
  /** Examples of the stream in one training batch (the experiment's train.batchSize). */
  readonly batchSize: number;
}

/** What a plugin's factory may use: the run's seed, its RNG streams and the other components. */
export interface PluginContext {
  readonly seed: number;
  /** An independent random stream for this plugin; the label keeps streams apart. */
  rng(label: string): Rng;
  /** Another component of this run (built once, shared). */
  resolve<K extends ComponentKind>(kind: K): Promise<PluginKinds[K]>;
  /** Input and output sizes of this run's model. */
  problem(): Promise<ProblemShape>;
  /** A path as the experiment wrote it, resolved against the experiment file's folder. */
  resolvePath(path: string): string;
}

export interface PluginDefinition<K extends PluginKind = PluginKind, S extends OptionSchema = OptionSchema> {
  readonly kind: K;
  readonly name: string;
  readonly description: string;
  readonly options: S;
  /**
   * Strategies only: what this one decides exclusively; two strategies with a
   * role in common are rejected before training.
   */
  readonly roles?: readonly StrategyRole[];
  /**
   * Strategies only: whether it works when task boundaries are hidden (`online.boundaries: 'hidden'`): it learns from
   * the steps alone and needs no onTaskStart/onTaskEnd to mean a new task. Absent: it needs boundaries, and a run
   * that hides them is refused before training. A function decides by the options: true, or why not (what to set).
   */
  readonly taskFree?: true | ((options: Options<S>) => true | string);
  /** Checks across fields that the schema cannot express; paths relative to the options. */
  validate?(options: Options<S>): Problem[];
  /** Reporters are built once per sweep, with the sweep's context; every other kind per run. */
  create(
    options: Options<S>,
    ctx: K extends 'reporter' ? ReporterContext : PluginContext,
  ): PluginKinds[K] | Promise<PluginKinds[K]>;
}

/**
 * A plugin of any kind and options, as a list of plugins holds it: each
 * definition's `create` takes its own options type, which no wider type
 * accepts, so the registry checks kinds and options at run time instead.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyPluginDefinition = PluginDefinition<PluginKind, any>;

/**
 * An option's value that only the data or the model show to be wrong (a
 * buffer smaller than the number of classes): thrown from `create`, it is
 * reported before training under the option's path, e.g. `strategies[1].size`.
 */
export class OptionError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Declares a plugin. Built-in plugins use exactly this; so does a user's
 * plugin module (export the definition, name the module in the experiment's
 * `plugins`).
 */
export function definePlugin<K extends PluginKind, const S extends OptionSchema>(
  def: PluginDefinition<K, S>,
): PluginDefinition<K, S> {
  if (!/^[a-z][a-z0-9-]*$/.test(def.name)) {
    throw new Error(`plugin name '${def.name}' must be lower-case letters, digits and dashes`);
  }
  return Object.freeze(def);
}

const REF = Symbol.for('anchorage:plugin-ref');

/** A component chosen by a plugin definition object rather than by a built-in name. */
export type PluginRef<K extends PluginKind> = { readonly name: string; readonly [REF]: K } & Record<string, unknown>;

/**
 * Names a user plugin in an experiment with its options type-checked against
 * the plugin's own schema: `optimizer: use(myOptimizer, { lr: 0.1 })`.
 */
export function use<K extends PluginKind, S extends OptionSchema>(
  plugin: PluginDefinition<K, S>,
  options: OptionsInput<S>,
): PluginRef<K> {
  return { name: plugin.name, ...(options as object), [REF]: plugin.kind };
}

export type SpecOf<R> = { [N in keyof R & string]: { name: N } & R[N] }[keyof R & string];

/** How an experiment names a component: a registered name with its typed options. */
export type ComponentSpec<K extends PluginKind> = SpecOf<PluginRegistries[K]> | PluginRef<K>;
