// The public API of anchorage, for experiment modules, plugin modules and
// programs that run experiments: everything plugin authors use
// (src/plugin-api.ts), defining experiments, running them and reading their
// results. Importing it registers the option types of the built-in plugins.
import '../plugins/index.js';

export * from './plugin-api.js';

// Experiments.
export { defineExperiment } from './spec/spec.js';
export type {
  ExperimentSpec,
  TrainSpec,
  EvalSpec,
  PhaseSpec,
  SelectSpec,
  OnlineSpec,
  CheckpointSpec,
  AxisFields,
} from './spec/spec.js';
export type * from './contracts/run-config.js';

// Contracts of the components.
export type { Dataset, Examples, FeatureArray } from './contracts/data.js';
export type { Task, TaskStream, Scenario } from './contracts/stream.js';
export { SCENARIOS } from './contracts/stream.js';
export type { ScenarioView } from './contracts/scenario.js';
export type { Sampler } from './contracts/sampler.js';
export type { Model } from './contracts/model.js';
export type { Augmentation } from './contracts/augmentation.js';
export type {
  UpdateRule,
  Projection,
  PeriodicPhase,
  StepContext,
  NamedTensors,
  OptimizerComponent,
  OptimizerState,
  Schedule,
  ScheduleCounters,
} from './contracts/optimizer.js';
export type * from './contracts/strategy.js';
export type { Reporter, ReporterContext } from './contracts/reporter.js';
export type { Snapshot, SnapshotValue } from './contracts/snapshot.js';
export type { BackendInfo, BackendName } from './contracts/backend.js';
export { concatTrainingSets, EMPTY_TRAINING_SET } from './contracts/strategy.js';
export { logitMask } from './contracts/scenario.js';

// Namespaces kept for modules written against them.
export * as transforms from './optim/transforms.js';
export * as masking from './optim/masking.js';
export * as losses from './strategies/losses.js';

// Running experiments and reading what they wrote.
export { Optimizer, type Diagnostics, type OptimizerCounters, type SavedOptimizerState } from './optim/optimizer.js';
export { AnchorStore } from './optim/anchors.js';
export { writeOptimizerState, readOptimizerState } from './optim/state-file.js';
export type * from './contracts/events.js';
export { RUN_STATUSES } from './contracts/events.js';
export { runEvents, type RunOptions } from './engine/session.js';
export { PluginRegistry } from './plugin/registry.js';
export { selectBackend } from './tensor/backend.js';
export * from './metrics/continual.js';
