// The public entry for plugin authors (`anchorage/plugin` in a project; the
// built-in plugins in plugins/ import only this and src/contracts): what a
// dataset, stream, sampler, model, optimizer, strategy, augmentation or
// reporter plugin builds with. The package's main entry (src/index.ts)
// re-exports all of it.

// Declaring a plugin and its options.
export { definePlugin, OptionError, use } from './plugin/define-plugin.js';
export type {
  AnyPluginDefinition,
  ComponentSpec,
  PluginContext,
  PluginDefinition,
  ProblemShape,
} from './plugin/define-plugin.js';
export { o } from './plugin/options.js';
export type { Options, OptionsInput, Problem } from './plugin/options.js';
export type * from './plugin/kinds.js';

// Tensors and randomness.
export { tf } from './tensor/tf.js';
export type { Tensor, Tensor4D, Variable } from './tensor/tf.js';
export { Rng } from './tensor/rng.js';
export { numpyPermutation } from './tensor/numpy-random.js';
export { variableGrads } from './tensor/grads.js';

// Optimizers: update rules, masks, per-row arithmetic, schedules, the fused kernels.
export {
  adamCoefficients,
  addDecayedWeights,
  chain,
  innerState,
  mapNamed,
  nestState,
  scaleByAdam,
  scaleByLearningRate,
  trace,
} from './optim/transforms.js';
export {
  byPatterns,
  inSet,
  masked,
  maskedPhase,
  maskedProjection,
  not,
  partition,
  type ParamSelector,
} from './optim/masking.js';
export { l2Norm, projectRows, rowAxisOf, rowL1, rowLayout, rowSums, type RowLayout } from './optim/rows.js';
export { matchesAny, unmatchedPatterns } from './optim/patterns.js';
export {
  describeSchedule,
  scheduleOption,
  toSchedule,
  type ScalarOrSchedule,
  type ScheduleSpec,
} from './optim/schedules.js';
export { rowKernels, type PartStep, type PartStepResult, type RowKernels } from './native/kernels.js';
export { summaryFileWriter, type SummaryWriter } from './native/load.js';

// Models built from a layer graph, and Layers files.
export { describeLayers, initParams } from './models/layer-graph.js';
export { INPUT } from './contracts/layers.js';
export type { Activation, LayerSpec } from './contracts/layers.js';
export { layerModel } from './models/layer-model.js';
export { readLayersModel } from './models/layers-file.js';

// Data: file formats and image transforms.
export { CIFAR_SHAPE, readCifarFiles } from './data/cifar.js';
export { loadIdxPair } from './data/idx.js';
export { rotateImages } from './data/images.js';
export { CORRUPTIONS, corrupt, type Corruption, type OodSpec } from './data/corruptions.js';

// Strategies: memories, importance penalties, losses, shared implementations.
export { MemoryBuffer, STORAGE_POLICIES, type MemoryEntry, type StoragePolicy } from './memory/buffer.js';
export { DeviceReservoir, MemoryBatches } from './memory/device.js';
export { herdingOrder } from './memory/herding.js';
export { ImportancePenalty } from './strategies/penalty.js';
export { dot, meanCrossEntropy, meanSquaredError, rowsOf } from './strategies/losses.js';
export { darkExperience, type DarkExperienceOptions } from './strategies/dark-experience.js';
export { MAX_GEM_TASKS, solveGemDual, subsets } from './strategies/gem-qp.js';

// Reporters: the result tables and the progress display.
export { resultsReporter } from './results/arrow-writer.js';
export { RUN_FILES } from './results/run-dir.js';
export { showProgress } from './report/progress.js';
