// The public entry for plugin authors (a plugin module imports it as
// `anchorage`, whose entry re-exports all of it; the built-in plugins in
// plugins/ import only this and src/contracts): what a
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
  PluginRef,
  ProblemShape,
  SpecOf,
} from './plugin/define-plugin.js';
export { o } from './plugin/options.js';
export type {
  Field,
  FieldBase,
  FieldType,
  HasDefault,
  NumberOpts,
  Options,
  OptionSchema,
  OptionsInput,
  Problem,
} from './plugin/options.js';
export type * from './plugin/kinds.js';

// Tensors and randomness.
export { tf } from './tensor/tf.js';
export { formatBytes, memoryLimit, memoryProblem, requireMemory, type MemoryLimit } from './memory/budget.js';
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
  SCHEDULE_KINDS,
  scheduleOption,
  toSchedule,
  type ScalarOrSchedule,
  type ScheduleKind,
  type ScheduleName,
  type ScheduleSpec,
} from './optim/schedules.js';
export {
  rowKernels,
  fusedAnchorPull,
  fusedSpd,
  fusedScale,
  fusedAdd,
  type AddKernel,
  type ScaleKernel,
  type AnchorPullKernel,
  type SpdKernel,
  type AdamKernel,
  type PartStep,
  type PartStepResult,
  type RowAxes,
  type RowKernels,
  type RowOffsets,
  type RowOffsetsOptions,
} from './native/kernels.js';
export { summaryFileWriter, type SummaryWriter } from './native/load.js';

// Models built from a layer graph, and Layers files.
export {
  describeLayers,
  initParams,
  type BufferInfo,
  type LayerGraphInfo,
  type ParamInfo,
} from './models/layer-graph.js';
export { INPUT } from './contracts/layers.js';
export type { Activation, LayerSpec } from './contracts/layers.js';
export { layerModel } from './models/layer-model.js';
export { readLayersModel, type LoadedLayers } from './models/layers-file.js';

// Data: feature storage (floats, or bytes standing for byte / 255), file formats and image transforms.
export { allocFeatures, copyFeatures, featureAt, featureSize, featureValues, takeExamples } from './contracts/data.js';
export { CIFAR_SHAPE, readCifarFiles } from './data/cifar.js';
export { loadIdxPair } from './data/idx.js';
export { rotateImages } from './data/images.js';
export { CORRUPTIONS, corrupt, type Corruption, type OodSpec } from './data/corruptions.js';

// Strategies: memories, importance penalties, losses, shared implementations.
export {
  MemoryBuffer,
  STORAGE_POLICIES,
  type AddOptions,
  type MemoryEntry,
  type StoragePolicy,
} from './memory/buffer.js';
export { DeviceReservoir, MemoryBatches, requireReservoirMemory, type DeviceRows } from './memory/device.js';
export { herdingOrder } from './memory/herding.js';
export { ImportancePenalty } from './strategies/penalty.js';
export { dot, meanCrossEntropy, meanSquaredError, rowsOf } from './strategies/losses.js';
export {
  cosineSimilarities,
  crossEntropyGradients,
  exampleGradients,
  parameterList,
  rowCrossEntropy,
  type ParameterList,
} from './strategies/sample-gradients.js';
export {
  onlineReplayOptions,
  onlineReplayTaskFree,
  replayedRows,
  separateMemoryLoss,
} from './strategies/online-replay.js';
export {
  runningFisherAlpha,
  runningFisherStep,
  runningFisherStrategy,
  type RunningFisherOptions,
} from './strategies/running-fisher.js';
export { darkExperience, type DarkExperienceOptions } from './strategies/dark-experience.js';
export { MAX_GEM_TASKS, solveGemDual, subsets } from './strategies/gem-qp.js';
export {
  absentMask,
  PASS_BATCH,
  pretrainedBackbone,
  PrototypeClassifier,
  readRows,
  sumOverRows,
  type Embedding,
} from './strategies/frozen-backbone.js';
export { RIDGE_FIT_FRACTION, RidgeClassifier } from './strategies/ridge-classifier.js';
export { ClassGaussians, COVARIANCE_EPSILON } from './strategies/class-gaussians.js';
export {
  decode,
  encode,
  initVae,
  initVaeAdam,
  sampleVae,
  vaeAdamStep,
  vaeLoss,
  type VaeAdam,
  type VaeParams,
  type VaeShape,
} from './strategies/vae.js';
export {
  cholesky,
  choleskySolve,
  classCovariance,
  RIDGE_CANDIDATES,
  ridgeSolve,
  selectRidge,
  type HeldOut,
  type RidgeSystem,
} from './strategies/closed-form.js';

// Reporters: the result tables and the progress display.
export { resultsReporter } from './results/arrow-writer.js';
export { RUN_FILES } from './results/run-dir.js';
export { showProgress, type ProgressOptions } from './report/progress.js';
