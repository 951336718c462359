import type { ComponentSpec } from '../plugin/define-plugin.js';
import type { Scenario } from '../contracts/stream.js';
import type { OodSpec } from '../contracts/run-config.js';

export type {
  ComponentKind,
  ResolvedCheckpoint,
  ResolvedComponent,
  ResolvedEval,
  ResolvedPhase,
  ResolvedSelect,
  ResolvedTrain,
  RunConfig,
} from '../contracts/run-config.js';

export interface TrainSpec {
  /** Passes over each task's training examples. Default 1. */
  epochs?: number;
  /**
   * Optimizer steps (iterations) per task instead of epochs, as continual-
   * learning papers specify (van de Ven & Tolias: 2000 per task); the data
   * is reshuffled at each pass. 0: use epochs. Default 0.
   */
  steps?: number;
  /** Default 128. */
  batchSize?: number;
  /**
   * Read the loss back from the backend every N steps (a sync point; the
   * steps in between run without waiting). Default 25.
   */
  logEvery?: number;
  /**
   * Train only the parameters whose names match one of these patterns
   * ("head.*", "*.bias"; `*` matches any run of characters): linear probing
   * is `['head.*']`. The others stay exactly as they are and the optimizer
   * keeps no state for them. Default: every parameter.
   */
  params?: string[];
}

/**
 * One phase of every task: tasks run their phases in order, each with its
 * own steps, optimizer (own state, schedule and anchor rules, carried from
 * one task's phase to the next task's same phase) and trainable parameters.
 * LP-FT (Kumar et al., 2022) is `[{ steps: 200, train: ['head.*'] }, { steps: 800 }]`.
 */
export interface PhaseSpec {
  /** A label for events, tables and figures. Default: `phase<i>` (from 0). */
  name?: string;
  /** Steps of this phase per task; default: the run's `train.steps` (or `epochs`). */
  steps?: number;
  /** Passes over the task's data instead of steps. */
  epochs?: number;
  /** Default: the experiment's optimizer. */
  optimizer?: ComponentSpec<'optimizer'>;
  /** Patterns of the parameters this phase trains (as `train.params`); default: the run's. */
  train?: string[];
}

/**
 * When a run saves a checkpoint it can resume from (docs/running.md,
 * "Interrupted runs resume"): always before each task, and within a task every
 * `everySteps` steps or `everyMinutes` minutes, whichever comes first.
 * `false` turns checkpoints off. They do not change a run's results or id.
 */
export interface CheckpointSpec {
  /** Default 0 (no step-count trigger). */
  everySteps?: number;
  /** Default 5; 0: no time trigger. */
  everyMinutes?: number;
  /** Keep the checkpoint after the run completes. Default false. */
  keep?: boolean;
}

export interface EvalSpec {
  /**
   * Examples per forward pass, at most: fewer where the model's activations for that many would pass 256 MiB (an
   * image model such as the ResNet). Default 1000.
   */
  batchSize?: number;
  /**
   * Out-of-distribution evaluation sets: each task's test split under a
   * corruption at a severity (1–5), recorded as eval_set 'ood:<corruption>-<severity>'.
   */
  ood?: OodSpec[];
  /**
   * WiSE-FT (Wortsman et al., 2022): after the run, evaluate the weight-space
   * interpolation θ(α) = (1 − α)·θ_anchor + α·θ_final for each α in [0, 1] on
   * every eval set, recorded in evals.arrow with its `alpha`. θ_anchor is
   * the model the run started from (the pre-trained one); parameters without
   * an anchor (a new head) take their fine-tuned value.
   */
  interpolate?: number[];
  /**
   * Continual evaluation (De Lange et al., 2023): score every task's seeded test subset (`subset`) every N training
   * steps, or every N training examples with `{ examples: N }`, and at each task's end; recorded in evals.arrow as
   * eval set 'continual' with the step and the examples seen. `compare` derives anytime accuracy, A_AUC, min-ACC,
   * WC-ACC and windowed forgetting from those rows (docs/scenarios-and-metrics.md).
   */
  every?: number | { steps: number } | { examples: number };
  /** Test examples per task that continual evaluation scores (a seeded subset). Default: the whole test split. */
  subset?: number;
}

/**
 * Online continual learning: every task's training examples seen once, in minibatches of `train.batchSize` (e.g.
 * 10), as Aljundi et al. (2019) and Koh et al. (2022) train.
 */
export interface OnlineSpec {
  /**
   * 'given': strategies are told where each task starts and ends (onTaskStart, onTaskEnd); 'hidden': they see the
   * stream as one task, and only strategies that need no boundaries may run. Default 'given'.
   */
  boundaries?: 'given' | 'hidden';
  /**
   * Gradual drift, with hidden boundaries: over a window of this many training examples centred on each task
   * boundary, the share of the next task's examples rises linearly from 0 to 1. Default 0 (abrupt).
   */
  transition?: number;
}

/**
 * Choosing each method's configuration on held-out validation data, never on
 * the test data: every task's training data (after the sampler) gives up a
 * seeded, class-stratified `validation` fraction that is not trained on and
 * is evaluated like the test split (eval set 'validation'). `anchorage
 * compare --select` then ranks the configurations of each method (runs whose
 * axis labels agree, e.g. EWC with several λ) by `metric` on validation data
 * and reports the chosen one's test metrics only.
 */
export interface SelectSpec {
  /** Fraction of each task's training examples held out, in (0, 1). */
  validation: number;
  /**
   * 'acc': final average accuracy (higher is better); 'forgetting': average forgetting (lower is better). Default
   * 'acc'.
   */
  metric?: 'acc' | 'forgetting';
  /**
   * Judge configurations on the first N tasks only (the realistic protocol of
   * Chaudhry et al., 2019: hyper-parameters fixed before the rest of the
   * stream is seen): the metric over tasks 1..N after training task N.
   * 0: on the whole stream. Default 0.
   */
  tasks?: number;
}

/** The fields an axis or a variant may set (an axis lists values of one; a variant sets several). */
export interface AxisFields {
  dataset?: ComponentSpec<'dataset'>;
  stream?: ComponentSpec<'stream'>;
  /** Default 'class-il'. */
  scenario?: Scenario;
  model?: ComponentSpec<'model'>;
  /** Required, unless given as an axis or variant (likewise dataset, stream, model). */
  optimizer?: ComponentSpec<'optimizer'>;
  /** Default { name: 'shuffled' }. */
  sampler?: ComponentSpec<'sampler'>;
  /** Shorthand for `strategies: [strategy]`; default { name: 'naive' } (plain fine-tuning). */
  strategy?: ComponentSpec<'strategy'>;
  /**
   * Continual-learning strategies that train together, e.g. replay + EWC.
   * Their hooks run in this order (see Strategy in src/contracts/strategy.ts).
   * As an axis, each value is such a list.
   */
  strategies?: ComponentSpec<'strategy'>[];
  /** Each task trained as phases (see PhaseSpec); an axis value or a variant may set them (LP-FT beside FTP). */
  phases?: PhaseSpec[];
}

/** An experiment as a user writes it in a TypeScript module. */
export interface ExperimentSpec extends AxisFields {
  /** Lower-case letters, digits and dashes; results go to <out>/<name>/. */
  name: string;
  description?: string;
  /**
   * Variants: every combination of the values given per axis becomes a run
   * (times each seed). An axis replaces the field of the same name.
   */
  axes?: { [K in keyof AxisFields]?: AxisFields[K][] };
  /**
   * Settings that go together (a method with its own learning rate): each
   * entry sets some of the axis fields, and every entry is crossed with the
   * axes, e.g. `[{ strategy: { name: 'der', size: 200 }, optimizer: { name: 'sgd', lr: 0.03 } }]`.
   */
  variants?: AxisFields[];
  /** User plugin modules (paths relative to the experiment file, or package names). */
  plugins?: string[];
  train?: TrainSpec;
  eval?: EvalSpec;
  /**
   * Save the trained model of each completed run as a TensorFlow.js Layers
   * model (model.json + weights.bin), at this path under the results root
   * (`--out`); `{seed}`, `{runId}`, `{experiment}`, `{scenario}` and each component kind
   * (`{model}`, `{optimizer}`, …: its plugin name) are replaced. E.g. 'pretrained/{model}-{seed}'.
   */
  saveModel?: string;
  /** Default [0]; `anchorage run --seeds` overrides. */
  seeds?: number[];
  /**
   * Default { everyMinutes: 5 }; `anchorage run
   * --checkpoint-every/--checkpoint-minutes/--keep-checkpoints/--no-checkpoints` override.
   */
  checkpoint?: CheckpointSpec | false;
  /**
   * Reporters besides the progress display and the Arrow tables (always
   * written), e.g. `[{ name: 'parquet' }, { name: 'tensorboard' }]`;
   * `anchorage run --reporter NAME` adds more.
   */
  reporters?: ComponentSpec<'reporter'>[];
  /**
   * Augmentations and input transforms, in order, e.g. `[{ name: 'random-crop',
   * padding: 4 }, { name: 'horizontal-flip' }, { name: 'normalize', mean: [...], std: [...] }]`.
   * Random ones act on each training step's sampled rows; `normalize` is the
   * model's input transform (training and evaluation alike).
   */
  augment?: ComponentSpec<'augmentation'>[];
  /** Hyper-parameters chosen on validation data held out from training (see SelectSpec). */
  select?: SelectSpec;
  /** One pass over the stream (online continual learning), boundaries given or hidden (see OnlineSpec). */
  online?: OnlineSpec;
}

/**
 * Identity function that gives an experiment module full type checking in an
 * editor: plugin names autocomplete and each plugin's options are checked.
 */
export function defineExperiment<const S extends ExperimentSpec>(spec: S): S {
  return spec;
}
