// A task's phases as the run loop drives them: which parameters each trains
// (frozen ones get no gradient and no optimizer state), how many steps, and
// with which optimizer. An experiment without `phases` is one phase.
import type { tf } from '../tensor/tf.js';
import type { Model } from '../contracts/model.js';
import type { OptimizerComponent } from '../contracts/optimizer.js';
import type { RunConfig } from '../contracts/run-config.js';
import { matchesAny, unmatchedPatterns } from '../optim/patterns.js';
import { plannedSteps } from './trainer.js';
import { ComponentError } from './container.js';

export interface PhasePlan {
  index: number;
  name: string;
  component: OptimizerComponent;
  /** The parameters this phase trains, in the model's order. */
  trainable: ReadonlyMap<string, tf.Variable>;
  /** Steps of this phase for a task of `examples` training examples. */
  steps(examples: number): number;
}

/**
 * The parameters matching `patterns` (all of them for null). A pattern that
 * matches nothing is an error naming `path` — it is almost always a typo, and
 * training "only" nothing would silently be a no-op.
 */
export function trainableParameters(
  model: Model,
  patterns: readonly string[] | null,
  path: string,
): Map<string, tf.Variable> {
  if (!patterns) return new Map(model.params);
  const names = [...model.params.keys()];
  const unmatched = unmatchedPatterns(patterns, names);
  if (unmatched.length) {
    throw new ComponentError(
      `pattern${unmatched.length > 1 ? 's' : ''} ${unmatched.map((p) => `'${p}'`).join(', ')} ` +
        `match${unmatched.length > 1 ? '' : 'es'} no parameter; parameters: ${names.join(', ')}`,
      path,
    );
  }
  return new Map([...model.params].filter(([name]) => matchesAny(name, patterns)));
}

/** The run's phases with their optimizer components (from PHASE_OPTIMIZERS, in order). */
export function planPhases(config: RunConfig, model: Model, components: readonly OptimizerComponent[]): PhasePlan[] {
  const { batchSize } = config.train;
  if (!config.phases) {
    return [
      {
        index: 0,
        name: 'train',
        component: components[0],
        trainable: trainableParameters(model, config.train.params ?? null, 'train.params'),
        steps: (n) => plannedSteps(n, config.train),
      },
    ];
  }
  return config.phases.map((phase, i) => ({
    index: i,
    name: phase.name,
    component: components[i],
    // A phase without its own set trains what the run trains.
    trainable: trainableParameters(
      model,
      phase.train ?? config.train.params ?? null,
      phase.train ? `phases[${i}].train` : 'train.params',
    ),
    steps: (n) => plannedSteps(n, { steps: phase.steps, epochs: phase.epochs, batchSize }),
  }));
}

/**
 * The validation fraction the phases' periodic steps (TPGM) need: they must agree, as they share the task's hold-out.
 */
export function phaseValidationFraction(plans: readonly PhasePlan[]): number {
  const fractions = [
    ...new Set(plans.map((p) => p.component.phase?.validationFraction).filter((f): f is number => f !== undefined)),
  ];
  if (fractions.length > 1)
    throw new ComponentError(
      `phases hold out different validation fractions (${fractions.join(', ')}) for their periodic steps; give ` +
        `them one`,
      'phases',
    );
  return fractions[0] ?? 0;
}
