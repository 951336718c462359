import { token } from '../contracts/token.js';
import type { PluginKind, PluginKinds } from '../plugin/kinds.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { RunConfig } from '../contracts/run-config.js';
import type { BackendInfo } from '../tensor/backend.js';
import type { Rng } from '../tensor/rng.js';
import type { ScenarioView } from '../contracts/scenario.js';
import type { AnchorStore } from '../optim/anchors.js';
import type { Strategy } from '../contracts/strategy.js';
import type { Augmentation } from '../contracts/augmentation.js';

export const RUN_CONFIG = token<RunConfig>('run-config');
export const REGISTRY = token<PluginRegistry>('plugin-registry');
export const BACKEND = token<BackendInfo>('backend');
export const ROOT_RNG = token<Rng>('root-rng');
export const SCENARIO = token<ScenarioView>('scenario');
export const ANCHORS = token<AnchorStore>('anchors');

/** One token per component kind, resolving to what that kind's plugin builds. */
export const COMPONENT: {
  [K in Exclude<PluginKind, 'reporter' | 'augmentation'>]: ReturnType<typeof token<PluginKinds[K]>>;
} = {
  dataset: token('component:dataset'),
  stream: token('component:stream'),
  sampler: token('component:sampler'),
  model: token('component:model'),
  optimizer: token('component:optimizer'),
  strategy: token('component:strategy'),
};

/**
 * The optimizer component of each phase of a task, in order: the run's
 * optimizer alone when the experiment has no phases.
 */
export const PHASE_OPTIMIZERS = token<PluginKinds['optimizer'][]>('phase-optimizers');

/** The run's augmentations, in their listed order. */
export const AUGMENTATIONS = token<Augmentation[]>('augmentations');

/** The run's strategies, built in their listed order. */
export const STRATEGIES = token<Strategy[]>('strategies');
