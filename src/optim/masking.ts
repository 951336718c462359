// Which parameters a rule applies to (Optax's `masked` and `multi_transform`).
// A masked rule sees only the selected parameters: it keeps state for them
// alone, and the others pass through untouched. A partition gives each group
// of parameters its own rule and its own state.
import type { NamedTensors, OptimizerState, PeriodicPhase, Projection, UpdateRule } from '../contracts/optimizer.js';
import { tf } from '../tensor/tf.js';
import { matchesAny } from './patterns.js';
import { innerState, nestState } from './transforms.js';

/** Picks parameters by name. */
export type ParamSelector = (name: string) => boolean;

/** Parameters whose names match any of the patterns ("head.*", "*.bias"). */
export function byPatterns(patterns: readonly string[]): ParamSelector {
  return (name) => matchesAny(name, patterns);
}

/** Parameters in the set. */
export function inSet(names: ReadonlySet<string>): ParamSelector {
  return (name) => names.has(name);
}

export function not(selector: ParamSelector): ParamSelector {
  return (name) => !selector(name);
}

function subset(xs: NamedTensors, selector: ParamSelector): NamedTensors {
  const out: NamedTensors = {};
  for (const name of Object.keys(xs)) if (selector(name)) out[name] = xs[name];
  return out;
}

/** `rule` applied to the selected parameters only; the others' updates pass through and cost no state. */
export function masked(rule: UpdateRule, selector: ParamSelector): UpdateRule {
  return {
    name: `masked(${rule.name})`,
    init: (params) => rule.init(subset(params, selector)),
    update(updates, state, ctx) {
      const r = rule.update(subset(updates, selector), state, ctx);
      return { updates: { ...updates, ...r.updates }, state: r.state };
    },
  };
}

/** A projection of the selected parameters only (the anchored set of FTP, PGD, SPD). */
export function maskedProjection(projection: Projection, selector: ParamSelector): Projection {
  const inner = projection.projectStep?.bind(projection);
  return {
    name: `masked(${projection.name})`,
    init: (params, rowAxis) => projection.init(subset(params, selector), rowAxis),
    project(tentative, state, ctx) {
      const r = projection.project(subset(tentative, selector), state, ctx);
      return { params: { ...tentative, ...r.params }, state: r.state };
    },
    ...(inner && {
      projectStep(updates, state, ctx) {
        const r = inner(subset(updates, selector), state, ctx);
        const params: NamedTensors = {};
        for (const name of Object.keys(updates))
          params[name] = selector(name) ? r.params[name] : tf.add(ctx.params[name], updates[name]);
        return { params, state: r.state };
      },
    }),
  };
}

/** A periodic phase over the selected parameters only (TPGM's radii); it sees every parameter in `ctx`. */
export function maskedPhase(phase: PeriodicPhase, selector: ParamSelector): PeriodicPhase {
  return {
    name: `masked(${phase.name})`,
    every: phase.every,
    validationFraction: phase.validationFraction,
    init: (params, rowAxis) => phase.init(subset(params, selector), rowAxis),
    run(state, ctx, validationLoss) {
      // The phase sees its own parameters; the loss it evaluates still runs the whole model.
      const r = phase.run(state, { ...ctx, params: subset(ctx.params, selector) }, (p) =>
        validationLoss({ ...ctx.params, ...p }),
      );
      return { params: { ...ctx.params, ...r.params }, state: r.state };
    },
  };
}

/** One group of a partition: a label (its state's prefix), which parameters, and their rule. */
export interface PartitionGroup {
  readonly label: string;
  readonly select: ParamSelector;
  readonly rule: UpdateRule;
}

/**
 * Optax's multi_transform: every parameter belongs to the first group that
 * selects it and is updated by that group's rule, whose state lives under
 * the group's label. A parameter no group selects is an error at `init`.
 */
export function partition(...groups: PartitionGroup[]): UpdateRule {
  const labels = new Set<string>();
  for (const g of groups) {
    if (labels.has(g.label)) throw new Error(`partition: the label '${g.label}' is used twice`);
    labels.add(g.label);
  }
  const groupOf = (name: string) => groups.find((g) => g.select(name));
  const members = (xs: NamedTensors, g: PartitionGroup) => subset(xs, (n) => groupOf(n) === g);
  return {
    name: `partition(${groups.map((g) => `${g.label}: ${g.rule.name}`).join(', ')})`,
    init(params) {
      const orphans = Object.keys(params).filter((n) => !groupOf(n));
      if (orphans.length)
        throw new Error(
          `partition: parameter${orphans.length > 1 ? 's' : ''} ${orphans.join(', ')} in no group (groups: ` +
            `${[...labels].join(', ')})`,
        );
      const state: OptimizerState = {};
      for (const g of groups) nestState(state, g.label, g.rule.init(members(params, g)));
      return state;
    },
    update(updates, state, ctx) {
      const out: NamedTensors = {};
      const next: OptimizerState = {};
      for (const g of groups) {
        const r = g.rule.update(members(updates, g), innerState(state, g.label), ctx);
        Object.assign(out, r.updates);
        nestState(next, g.label, r.state);
      }
      return { updates: out, state: next };
    },
  };
}
