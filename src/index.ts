// The public API of anchorage, for experiment modules and plugin modules.
import '../plugins/index.js';

export { defineExperiment } from './experiment/spec.js';
export type { ExperimentSpec, RunConfig, TrainSpec, EvalSpec } from './experiment/spec.js';
export { definePlugin, use } from './plugin/define-plugin.js';
export type { PluginContext, PluginDefinition, ComponentSpec, ProblemShape } from './plugin/define-plugin.js';
export { o } from './plugin/options.js';
export type { OptionsInput, Options } from './plugin/options.js';
export type * from './plugin/kinds.js';
export type { Dataset, Examples } from './contracts/data.js';
export type { Task, TaskStream, Scenario } from './contracts/stream.js';
export type { Sampler } from './contracts/sampler.js';
export type { Model } from './contracts/model.js';
export type { UpdateRule, Projection, PeriodicPhase, StepContext, NamedTensors, OptimizerComponent, OptimizerState } from './contracts/optimizer.js';
export type { Strategy, TaskContext, TrainingSet, ExtraBatch } from './contracts/strategy.js';
export { concatTrainingSets } from './contracts/strategy.js';
export type { LayerSpec } from './models/sequential.js';
export { sequentialModel } from './models/sequential-model.js';
export { CORRUPTIONS, type OodSpec } from './data/corruptions.js';
export * as transforms from './optim/transforms.js';
export type { RunEvent, RunStatus } from './run/events.js';
export { runEvents } from './run/run.js';
export { tf } from './tensor/tf.js';
export { Rng } from './tensor/rng.js';
export * from './metrics/continual.js';
