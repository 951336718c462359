import type { Dataset } from '../contracts/data.js';
import type { Model } from '../contracts/model.js';
import type { OptimizerComponent } from '../contracts/optimizer.js';
import type { Sampler } from '../contracts/sampler.js';
import type { TaskStream } from '../contracts/stream.js';
import type { Strategy } from '../contracts/strategy.js';
import type { Reporter } from '../contracts/reporter.js';
import type { Augmentation } from '../contracts/augmentation.js';
import type { ComponentKind } from '../contracts/run-config.js';

/** What a plugin of each kind builds. */
export interface PluginKinds {
  dataset: Dataset;
  stream: TaskStream;
  sampler: Sampler;
  model: Model;
  optimizer: OptimizerComponent;
  strategy: Strategy;
  reporter: Reporter;
  augmentation: Augmentation;
}
export type PluginKind = keyof PluginKinds;
export const PLUGIN_KINDS: readonly PluginKind[] = [
  'dataset',
  'stream',
  'sampler',
  'model',
  'optimizer',
  'strategy',
  'augmentation',
  'reporter',
];
/**
 * Kinds of which a run has exactly one (a run has lists of strategies and augmentations; a sweep has a list of
 * reporters).
 */
export type { ComponentKind };
// The contract spells the kinds out: a compile error here if they stop being these plugin kinds.
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const COMPONENT_KINDS_AGREE: Same<
  ComponentKind,
  Exclude<PluginKind, 'strategy' | 'reporter' | 'augmentation'>
> = true;
export const COMPONENT_KINDS: readonly ComponentKind[] = ['dataset', 'stream', 'sampler', 'model', 'optimizer'];

/**
 * Option types of the registered plugins by name, per kind. Every built-in
 * plugin file adds itself here by declaration merging, which is what makes
 * `optimizer: { name: 'adamw', lr: 1e-3 }` type-checked in an editor.
 */

export interface DatasetPlugins {}
export interface StreamPlugins {}
export interface SamplerPlugins {}
export interface ModelPlugins {}
export interface OptimizerPlugins {}
export interface StrategyPlugins {}
export interface ReporterPlugins {}
export interface AugmentationPlugins {}

export interface PluginRegistries {
  dataset: DatasetPlugins;
  stream: StreamPlugins;
  sampler: SamplerPlugins;
  model: ModelPlugins;
  optimizer: OptimizerPlugins;
  strategy: StrategyPlugins;
  reporter: ReporterPlugins;
  augmentation: AugmentationPlugins;
}
