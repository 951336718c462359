// One run's configuration, fully resolved from an experiment (src/spec/
// expands and validates it): what the engine, the strategies, the reporters
// and run.json read. The experiment a user writes is src/spec/spec.ts.
import type { Scenario } from './stream.js';

/** The kinds of which a run has exactly one component. */
export type ComponentKind = 'dataset' | 'stream' | 'sampler' | 'model' | 'optimizer';

/** Distribution shifts of test images for out-of-distribution evaluation sets. */
export const CORRUPTIONS = ['gaussian-noise', 'blur', 'contrast', 'rotation', 'inversion'] as const;
export type Corruption = (typeof CORRUPTIONS)[number];

/** An out-of-distribution evaluation set: each task's test split under a corruption, at a severity. */
export interface OodSpec {
  corruption: Corruption;
  /** 1 (mild) to 5 (severe). */
  severity: number;
}

/** A component with its name and every option resolved (defaults filled in). */
export interface ResolvedComponent {
  name: string;
  options: Record<string, unknown>;
}

export interface ResolvedTrain {
  epochs: number;
  /** 0: use epochs. */
  steps: number;
  batchSize: number;
  logEvery: number;
  /** Patterns of the trained parameters; only when given (runs recorded before it existed keep their ids). */
  params?: string[];
}

/** Continual evaluation: every task's seeded test subset scored during training (`eval.every`). */
export interface ResolvedContinualEval {
  /** Evaluate every this many units of training. */
  every: number;
  unit: 'steps' | 'examples';
  /** Test examples per task (a seeded subset); 0: the whole test split. */
  subset: number;
}

export interface ResolvedEval {
  batchSize: number;
  /** Only when asked for (runs recorded before it existed keep their ids). */
  continual?: ResolvedContinualEval;
  ood: OodSpec[];
  /** WiSE-FT's interpolation weights; only when asked for (runs recorded before it existed keep their ids). */
  interpolate?: number[];
}

export interface ResolvedSelect {
  validation: number;
  metric: 'acc' | 'forgetting';
  tasks: number;
}

export interface ResolvedPhase {
  name: string;
  /** 0: use `epochs`. */
  steps: number;
  epochs: number;
  optimizer: ResolvedComponent;
  /** Patterns of trainable parameters; null: every parameter. */
  train: string[] | null;
}

export interface ResolvedCheckpoint {
  enabled: boolean;
  everySteps: number;
  everyMinutes: number;
  keep: boolean;
}

/**
 * Online continual learning: the stream consumed once, one pass per task. With boundaries `hidden` the strategies see
 * the whole stream as one task; the run still evaluates at each task's end.
 */
export interface ResolvedOnline {
  boundaries: 'given' | 'hidden';
  /**
   * Gradual drift (hidden boundaries only): over this many examples centred on each boundary the next task's share
   * of the stream rises linearly from 0 to 1. 0: abrupt.
   */
  transition: number;
}

/** Everything one run needs, fully resolved; it is recorded in run.json. */
export interface RunConfig {
  experiment: string;
  /** Absolute path of the experiment module (for resolving relative paths). */
  experimentFile: string;
  runId: string;
  /** Hash of the configuration without the seed: runs that differ only in seed share it. */
  configId: string;
  seed: number;
  /** The axis values of this run's variant, by axis: plugin names, or the scenario. */
  variant: Record<string, string>;
  scenario: Scenario;
  plugins: string[];
  components: Record<ComponentKind, ResolvedComponent>;
  /** In the order their hooks run. */
  strategies: ResolvedComponent[];
  train: ResolvedTrain;
  /** The phases of every task; null: one phase, the run's optimizer and `train`. */
  phases: ResolvedPhase[] | null;
  eval: ResolvedEval;
  /** Path template under the results root, or '' for none. */
  saveModel: string;
  /** Checkpoint policy (not part of the run's identity). */
  checkpoint: ResolvedCheckpoint;
  /** The sweep's extra reporters (not part of the run's identity; the same for every run of an experiment). */
  reporters: ResolvedComponent[];
  /** In their listed order. */
  augment: ResolvedComponent[];
  /** The validation hold-out and how configurations are ranked; null without `select`. */
  select: ResolvedSelect | null;
  /** One pass over the stream, boundaries given or hidden; absent: offline (epochs per task). */
  online?: ResolvedOnline;
}
