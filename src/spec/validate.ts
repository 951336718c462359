import { resolve as resolvePath, dirname } from 'node:path';
import { SCENARIOS, type Scenario } from '../contracts/stream.js';
import { COMPONENT_KINDS, type ComponentKind, type PluginKind } from '../plugin/kinds.js';
import { strategyLabel } from './strategy-label.js';
import { phasesLabel } from './phase-label.js';
import { MODEL_TEMPLATE_FIELDS, modelPathProblems, unknownTemplateFields } from './model-path.js';
import { resolveOptions, type Problem } from '../plugin/options.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { UserError } from '../errors.js';
import { Rng, hashString } from '../tensor/rng.js';
import { CORRUPTIONS, type OodSpec } from '../data/corruptions.js';
import type { ResolvedCheckpoint, ResolvedComponent, ResolvedPhase, RunConfig } from './spec.js';
import type { StrategyRole } from '../contracts/strategy.js';

export class ExperimentError extends UserError {
  constructor(
    readonly source: string,
    readonly problems: Problem[],
  ) {
    super(`${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
  }
}

/** Command-line values that override the experiment's own. */
export interface Overrides {
  seeds?: number[];
  epochs?: number;
  /** Steps per task (0: epochs). */
  steps?: number;
  checkpoint?: Partial<ResolvedCheckpoint>;
  /** Reporter names from the command line, with their default options. */
  reporters?: string[];
}

/** More seeds than this in one experiment is a typo, not a sweep. */
export const MAX_SEEDS = 10_000;

const TOP_LEVEL = ['name', 'description', 'axes', 'variants', 'plugins', 'dataset', 'stream', 'scenario', 'model', 'optimizer', 'sampler', 'strategy', 'strategies', 'train', 'eval', 'saveModel', 'seeds', 'checkpoint', 'reporters', 'augment', 'select', 'phases'];
const DEFAULTS: Partial<Record<ComponentKind, { name: string }>> = { sampler: { name: 'shuffled' } };

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function positiveInt(value: unknown, fallback: number, path: string, problems: Problem[]): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    problems.push({ path, message: `must be an integer >= 1, got ${JSON.stringify(value)}` });
    return fallback;
  }
  return value;
}

function section(spec: Record<string, unknown>, key: string, allowed: string[], problems: Problem[]): Record<string, unknown> {
  const value = spec[key];
  if (value === undefined) return {};
  if (!isObject(value)) {
    problems.push({ path: key, message: `must be an object, got ${JSON.stringify(value)}` });
    return {};
  }
  for (const k of Object.keys(value)) if (!allowed.includes(k)) problems.push({ path: `${key}.${k}`, message: `unknown field; allowed: ${allowed.join(', ')}` });
  return value;
}

/** Stable JSON (sorted keys) so that equal configurations hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value)) return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  return JSON.stringify(value);
}

/**
 * Checks a spec against the registered plugins and expands it into one fully
 * resolved RunConfig per seed. Reports every problem at once, each with its
 * field path; nothing is trained before this succeeds.
 */
export function validateExperiment(raw: unknown, registry: PluginRegistry, experimentFile: string, overrides: Overrides = {}): RunConfig[] {
  if (!isObject(raw)) throw new ExperimentError(experimentFile, [{ path: '(spec)', message: 'the module must export an experiment (export default defineExperiment({...}))' }]);
  const { axes, variants: listed, ...base } = raw;
  const problems: Problem[] = [];
  let variants: { spec: Record<string, unknown>; at: Record<string, number>; overrides?: string[] }[] = [{ spec: base, at: {} }];
  if (axes !== undefined) {
    if (!isObject(axes)) problems.push({ path: 'axes', message: `must be an object of arrays, e.g. { optimizer: [{ name: 'adamw' }, { name: 'ftp' }] }` });
    else {
      for (const [key, values] of Object.entries(axes)) {
        if (!(AXIS_KEYS as readonly string[]).includes(key)) problems.push({ path: `axes.${key}`, message: `unknown axis; allowed: ${AXIS_KEYS.join(', ')}` });
        else if (!Array.isArray(values) || values.length === 0) problems.push({ path: `axes.${key}`, message: 'must be a non-empty array of values' });
        else if (key in base) problems.push({ path: `axes.${key}`, message: `'${key}' is given both as a field and as an axis; keep one` });
        else if ((key === 'strategy' && 'strategies' in base) || (key === 'strategies' && 'strategy' in base)) problems.push({ path: `axes.${key}`, message: "give the strategies once: 'strategy' and 'strategies' name the same thing" });
        else variants = variants.flatMap((v) => values.map((value, i) => ({ spec: { ...v.spec, [key]: value }, at: { ...v.at, [key]: i } })));
      }
    }
  }
  if (listed !== undefined) {
    // Coupled settings (a method with its own learning rate): each entry overrides fields of every axis combination.
    if (!Array.isArray(listed) || listed.length === 0 || listed.some((v) => !isObject(v))) problems.push({ path: 'variants', message: 'must be a non-empty array of objects, e.g. [{ strategy: { name: "der" }, optimizer: { name: "sgd", lr: 0.03 } }]' });
    else {
      listed.forEach((entry, i) => {
        for (const key of Object.keys(entry as object)) {
          if (!(AXIS_KEYS as readonly string[]).includes(key)) problems.push({ path: `variants[${i}].${key}`, message: `not a field a variant can set; allowed: ${AXIS_KEYS.join(', ')}` });
          else if (key in base || (isObject(axes) && key in axes)) problems.push({ path: `variants[${i}].${key}`, message: `'${key}' is also given as a field or an axis; keep one` });
        }
      });
      variants = variants.flatMap((v) => (listed as Record<string, unknown>[]).map((entry, i) => ({ spec: { ...v.spec, ...entry }, at: { ...v.at, variants: i }, overrides: Object.keys(entry) })));
    }
  }
  const configs: RunConfig[] = [];
  for (const variant of variants) {
    try {
      const at = { ...variant.at };
      // A variant is labelled by the fields it sets.
      if (variant.overrides) {
        delete at.variants;
        for (const k of variant.overrides) at[k] = variant.at.variants;
      }
      configs.push(...validateVariant(variant.spec, registry, experimentFile, overrides, at));
    } catch (e) {
      if (!(e instanceof ExperimentError)) throw e;
      for (const p of e.problems) {
        const key = p.path.split(/[.[]/)[0];
        const path = variant.overrides?.includes(key)
          ? `variants[${variant.at.variants}].${p.path}`
          : key in variant.at
            ? `axes.${key}[${variant.at[key]}]${p.path.slice(key.length)}`
            : p.path;
        if (!problems.some((q) => q.path === path && q.message === p.message)) problems.push({ path, message: p.message });
      }
    }
  }
  const ids = new Set<string>();
  for (const c of configs) {
    if (ids.has(c.runId)) problems.push({ path: 'axes', message: `two variants resolve to the same configuration (run ${c.runId})` });
    ids.add(c.runId);
  }
  problems.push(...modelPathProblems(configs));
  if (configs.length && configs[0].select && !hasChoices(configs)) {
    problems.push({
      path: 'select',
      message: "there is nothing to choose between: no method has two configurations. Give an axis (or variants) with several settings of one plugin, e.g. strategy: [{ name: 'ewc', lambda: 1e5 }, { name: 'ewc', lambda: 1e7 }]",
    });
  }
  if (problems.length > 0) throw new ExperimentError(experimentFile, problems);
  return configs;
}

/** Do two configurations share a method (the same axis labels: plugin names, scenario) but differ in settings? */
function hasChoices(configs: readonly RunConfig[]): boolean {
  const byMethod = new Map<string, Set<string>>();
  for (const c of configs) {
    const key = canonicalJson(c.variant);
    byMethod.set(key, (byMethod.get(key) ?? new Set()).add(c.configId));
  }
  return [...byMethod.values()].some((ids) => ids.size > 1);
}

const AXIS_KEYS = ['dataset', 'stream', 'scenario', 'model', 'optimizer', 'sampler', 'strategy', 'strategies', 'phases'] as const;

function validateVariant(spec: Record<string, unknown>, registry: PluginRegistry, experimentFile: string, overrides: Overrides, at: Record<string, number>): RunConfig[] {
  const problems: Problem[] = [];
  for (const k of Object.keys(spec)) if (!TOP_LEVEL.includes(k)) problems.push({ path: k, message: `unknown field; allowed: ${TOP_LEVEL.join(', ')}` });

  const name = spec.name;
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(name)) {
    problems.push({ path: 'name', message: `must be lower-case letters, digits and dashes, got ${JSON.stringify(name)}` });
  }
  if (spec.description !== undefined && typeof spec.description !== 'string') problems.push({ path: 'description', message: 'must be a string' });

  let scenario: Scenario = 'class-il';
  if (spec.scenario !== undefined) {
    if (typeof spec.scenario !== 'string' || !(SCENARIOS as readonly string[]).includes(spec.scenario)) {
      problems.push({ path: 'scenario', message: `must be one of ${SCENARIOS.map((s) => `"${s}"`).join(' | ')}, got ${JSON.stringify(spec.scenario)}` });
    } else scenario = spec.scenario as Scenario;
  }

  const component = (kind: PluginKind, value: unknown, path: string): ResolvedComponent | undefined => {
    if (!isObject(value) || typeof value.name !== 'string') {
      problems.push({ path, message: `must be { name: ${registry.names(kind).map((n) => `'${n}'`).join(' | ')}, ...options }` });
      return undefined;
    }
    if (!registry.has(kind, value.name)) {
      problems.push({ path: `${path}.name`, message: `unknown ${kind} '${value.name}'; registered: ${registry.names(kind).join(', ') || '(none)'}` });
      return undefined;
    }
    const plugin = registry.get(kind, value.name);
    const { options, problems: optionProblems } = resolveOptions(plugin.options, value, path, ['name']);
    problems.push(...optionProblems);
    if (optionProblems.length === 0 && plugin.validate) {
      problems.push(...plugin.validate(options).map((p) => ({ path: `${path}.${p.path}`, message: p.message })));
    }
    return { name: value.name, options };
  };
  const phaseSpecs = Array.isArray(spec.phases) ? (spec.phases as unknown[]) : [];
  // With phases that all name their optimizer, the last (the fine-tuning) is the run's optimizer.
  const lastPhaseOptimizer = isObject(phaseSpecs.at(-1)) ? (phaseSpecs.at(-1) as Record<string, unknown>).optimizer : undefined;
  const components = {} as Record<ComponentKind, ResolvedComponent>;
  for (const kind of COMPONENT_KINDS) {
    if (kind === 'optimizer' && spec.optimizer === undefined && lastPhaseOptimizer !== undefined) continue;
    const resolved = component(kind, spec[kind] === undefined && DEFAULTS[kind] ? DEFAULTS[kind] : spec[kind], kind);
    if (resolved) components[kind] = resolved;
  }
  const strategies = resolveStrategies(spec, registry, component, problems);

  const train = section(spec, 'train', ['epochs', 'steps', 'batchSize', 'logEvery', 'params'], problems);
  const trainParams = train.params === undefined ? undefined : patternList(train.params, 'train.params', problems);
  const phases = resolvePhases(spec.phases, spec.optimizer !== undefined, (value, path) => component('optimizer', value, path), problems);
  if (phases && spec.optimizer === undefined && lastPhaseOptimizer !== undefined) {
    const last = phases.at(-1);
    if (last) components.optimizer = last.optimizer;
  }
  // A phase that names no optimizer shares the experiment's (its own instance and state).
  if (phases && components.optimizer) for (const p of phases) if (p.optimizer.name === '') p.optimizer = components.optimizer;
  const evalSpec = section(spec, 'eval', ['batchSize', 'ood', 'interpolate'], problems);
  const interpolate: number[] = [];
  if (evalSpec.interpolate !== undefined) {
    if (!Array.isArray(evalSpec.interpolate) || evalSpec.interpolate.length === 0) problems.push({ path: 'eval.interpolate', message: 'must be a non-empty array of weights α in [0, 1], e.g. [0, 0.25, 0.5, 0.75, 1]' });
    else
      evalSpec.interpolate.forEach((a, i) => {
        if (typeof a !== 'number' || !(a >= 0 && a <= 1)) problems.push({ path: `eval.interpolate[${i}]`, message: `must be a weight α in [0, 1], got ${JSON.stringify(a)}` });
        else if (interpolate.includes(a)) problems.push({ path: `eval.interpolate[${i}]`, message: `${a} is listed twice` });
        else interpolate.push(a);
      });
  }
  const ood: OodSpec[] = [];
  if (evalSpec.ood !== undefined) {
    if (!Array.isArray(evalSpec.ood)) problems.push({ path: 'eval.ood', message: "must be an array like [{ corruption: 'gaussian-noise', severity: 3 }]" });
    else
      evalSpec.ood.forEach((o, i) => {
        const c = isObject(o) ? o.corruption : undefined;
        const s = isObject(o) ? o.severity : undefined;
        if (typeof c !== 'string' || !(CORRUPTIONS as readonly string[]).includes(c)) problems.push({ path: `eval.ood[${i}].corruption`, message: `must be one of ${CORRUPTIONS.map((x) => `"${x}"`).join(' | ')}, got ${JSON.stringify(c)}` });
        if (typeof s !== 'number' || !Number.isInteger(s) || s < 1 || s > 5) problems.push({ path: `eval.ood[${i}].severity`, message: `must be an integer from 1 to 5, got ${JSON.stringify(s)}` });
        if (isObject(o)) for (const k of Object.keys(o)) if (k !== 'corruption' && k !== 'severity') problems.push({ path: `eval.ood[${i}].${k}`, message: 'unknown field; allowed: corruption, severity' });
        ood.push({ corruption: c as OodSpec['corruption'], severity: s as number });
      });
    if (new Set(ood.map((o) => `${o.corruption}-${o.severity}`)).size !== ood.length) problems.push({ path: 'eval.ood', message: 'lists the same corruption and severity twice' });
  }
  const trainResolved = {
    epochs: overrides.epochs ?? positiveInt(train.epochs, 1, 'train.epochs', problems),
    steps: overrides.steps ?? (train.steps === 0 ? 0 : positiveInt(train.steps, 0, 'train.steps', problems)),
    batchSize: positiveInt(train.batchSize, 128, 'train.batchSize', problems),
    logEvery: positiveInt(train.logEvery, 25, 'train.logEvery', problems),
    ...(trainParams ? { params: trainParams } : {}),
  };
  if (phases) {
    // A phase without its own length takes the run's.
    for (const p of phases) if (p.steps === 0 && p.epochs === 0) Object.assign(p, trainResolved.steps > 0 ? { steps: trainResolved.steps } : { epochs: trainResolved.epochs });
  }
  const evalResolved = { batchSize: positiveInt(evalSpec.batchSize, 1000, 'eval.batchSize', problems), ood, ...(interpolate.length ? { interpolate } : {}) };

  let seeds: number[] = [0];
  if (overrides.seeds) seeds = overrides.seeds;
  else if (spec.seeds !== undefined) {
    if (!Array.isArray(spec.seeds) || spec.seeds.length === 0 || spec.seeds.some((s) => !Number.isInteger(s) || s < 0 || s > Rng.MAX_SEED)) {
      problems.push({ path: 'seeds', message: `must be a non-empty array of integers from 0 to ${Rng.MAX_SEED} (the generator's 32-bit range), got ${JSON.stringify(spec.seeds).slice(0, 200)}` });
    } else if (spec.seeds.length > MAX_SEEDS) {
      problems.push({ path: 'seeds', message: `${spec.seeds.length} seeds; at most ${MAX_SEEDS} per experiment` });
    } else seeds = spec.seeds as number[];
  }
  if (new Set(seeds).size !== seeds.length) problems.push({ path: 'seeds', message: `contains duplicates: ${seeds.join(',')}` });

  let saveModel = '';
  if (spec.saveModel !== undefined) {
    if (typeof spec.saveModel !== 'string' || !spec.saveModel || spec.saveModel.startsWith('/') || spec.saveModel.split(/[\\/]/).includes('..')) {
      problems.push({ path: 'saveModel', message: `must be a relative path inside the results folder, got ${JSON.stringify(spec.saveModel)}` });
    } else {
      const unknown = unknownTemplateFields(spec.saveModel);
      if (unknown.length) problems.push({ path: 'saveModel', message: `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `{${k}}`).join(', ')}; fields: ${MODEL_TEMPLATE_FIELDS.map((k) => `{${k}}`).join(', ')}` });
      else saveModel = spec.saveModel;
    }
  }
  let plugins: string[] = [];
  if (spec.plugins !== undefined) {
    if (!Array.isArray(spec.plugins) || spec.plugins.some((p) => typeof p !== 'string')) problems.push({ path: 'plugins', message: 'must be an array of module paths or package names' });
    else plugins = spec.plugins as string[];
  }

  const checkpoint = resolveCheckpoint(spec.checkpoint, overrides.checkpoint ?? {}, problems);
  const augment: ResolvedComponent[] = [];
  if (spec.augment !== undefined) {
    if (!Array.isArray(spec.augment)) problems.push({ path: 'augment', message: `must be an array of { name, ...options }, got ${JSON.stringify(spec.augment)}` });
    else
      spec.augment.forEach((value, i) => {
        const a = component('augmentation', value, `augment[${i}]`);
        if (a) augment.push(a);
      });
  }
  const reporters: ResolvedComponent[] = [];
  if (spec.reporters !== undefined && !Array.isArray(spec.reporters)) problems.push({ path: 'reporters', message: `must be an array of { name, ...options }, got ${JSON.stringify(spec.reporters)}` });
  const listedReporters = [
    ...(Array.isArray(spec.reporters) ? spec.reporters.map((value, i) => ({ value, path: `reporters[${i}]` })) : []),
    ...(overrides.reporters ?? []).map((name) => ({ value: { name }, path: `--reporter ${name}` })),
  ];
  for (const { value, path } of listedReporters) {
    const r = component('reporter', value, path);
    if (r && !reporters.some((x) => x.name === r.name)) reporters.push(r);
  }

  const select = resolveSelect(spec.select, problems);

  if (problems.length > 0) throw new ExperimentError(experimentFile, problems);
  const identityOf = (all: Record<ComponentKind, ResolvedComponent>): Record<string, ResolvedComponent> =>
    Object.fromEntries(
      Object.entries(all).map(([kind, c]) => {
        const schema = registry.get(kind as PluginKind, c.name).options as Record<string, { omitAtDefault?: boolean; default?: unknown }>;
        const options = Object.fromEntries(Object.entries(c.options).filter(([k, v]) => !(schema[k]?.omitAtDefault && canonicalJson(v) === canonicalJson(schema[k].default))));
        return [kind, { name: c.name, options }];
      }),
    );

  const variant = Object.fromEntries(
    Object.keys(at).map((key) => [
      key,
      key === 'scenario' ? scenario : key === 'strategy' || key === 'strategies' ? strategyLabel(strategies) : key === 'phases' ? phasesLabel(phases) : components[key as ComponentKind].name,
    ]),
  );
  return seeds.map((seed) => {
    // Augmentation and selection join the identity only when there are some: runs recorded before they existed keep their ids.
    const identity = {
      experiment: name,
      scenario,
      components: identityOf(components),
      strategies,
      train: trainResolved,
      eval: evalResolved,
      seed,
      ...(augment.length ? { augment } : {}),
      ...(select ? { select } : {}),
      ...(phases ? { phases } : {}),
    };
    const hash = hashString(canonicalJson(identity)).toString(16).padStart(8, '0');
    const { seed: _seed, ...withoutSeed } = identity;
    return {
      experiment: name as string,
      experimentFile: resolvePath(experimentFile),
      runId: `${components.optimizer.name}-s${seed}-${hash}`,
      configId: hashString(canonicalJson(withoutSeed)).toString(16).padStart(8, '0'),
      seed,
      variant,
      scenario,
      plugins: plugins.map((p) => (p.startsWith('.') ? resolvePath(dirname(experimentFile), p) : p)),
      components,
      strategies,
      train: trainResolved,
      phases,
      eval: evalResolved,
      saveModel,
      checkpoint,
      reporters,
      augment,
      select,
    };
  });
}

/** A non-empty list of parameter-name patterns. */
function patternList(value: unknown, path: string, problems: Problem[]): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0 || value.some((p) => typeof p !== 'string' || p === '')) {
    problems.push({ path, message: `must be a non-empty array of parameter-name patterns, e.g. ['head.*'], got ${JSON.stringify(value)}` });
    return undefined;
  }
  return value as string[];
}

function resolvePhases(
  spec: unknown,
  hasOptimizer: boolean,
  optimizer: (value: unknown, path: string) => ResolvedComponent | undefined,
  problems: Problem[],
): ResolvedPhase[] | null {
  if (spec === undefined) return null;
  if (!Array.isArray(spec) || spec.length === 0) {
    problems.push({ path: 'phases', message: `must be a non-empty array of { steps?, epochs?, optimizer?, train?, name? }, got ${JSON.stringify(spec)}` });
    return null;
  }
  const resolved: ResolvedPhase[] = [];
  spec.forEach((raw, i) => {
    const path = `phases[${i}]`;
    if (!isObject(raw)) {
      problems.push({ path, message: `must be an object { steps?, epochs?, optimizer?, train?, name? }, got ${JSON.stringify(raw)}` });
      return;
    }
    for (const k of Object.keys(raw)) if (!PHASE_FIELDS.includes(k)) problems.push({ path: `${path}.${k}`, message: `unknown field; allowed: ${PHASE_FIELDS.join(', ')}` });
    let name = `phase${i}`;
    if (raw.name !== undefined) {
      if (typeof raw.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(raw.name)) problems.push({ path: `${path}.name`, message: `must be letters, digits, '-' and '_', got ${JSON.stringify(raw.name)}` });
      else name = raw.name;
    }
    if (raw.steps !== undefined && raw.epochs !== undefined) problems.push({ path, message: 'give steps or epochs, not both' });
    const steps = raw.steps === undefined ? 0 : positiveInt(raw.steps, 0, `${path}.steps`, problems);
    const epochs = raw.epochs === undefined ? 0 : positiveInt(raw.epochs, 0, `${path}.epochs`, problems);
    let chosen: ResolvedComponent | undefined;
    if (raw.optimizer !== undefined) chosen = optimizer(raw.optimizer, `${path}.optimizer`);
    else if (!hasOptimizer) problems.push({ path: `${path}.optimizer`, message: 'required: the experiment gives no optimizer for phases to share' });
    const train = raw.train === undefined ? null : (patternList(raw.train, `${path}.train`, problems) ?? null);
    resolved.push({ name, steps, epochs, optimizer: chosen ?? { name: '', options: {} }, train });
  });
  const names = resolved.map((p) => p.name);
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i) problems.push({ path: `phases[${i}].name`, message: `'${n}' names two phases` });
  });
  return resolved;
}

const PHASE_FIELDS = ['name', 'steps', 'epochs', 'optimizer', 'train'];

function resolveSelect(spec: unknown, problems: Problem[]): RunConfig['select'] {
  if (spec === undefined) return null;
  if (!isObject(spec)) {
    problems.push({ path: 'select', message: `must be { validation, metric?, tasks? }, e.g. { validation: 0.1, metric: 'acc' }; got ${JSON.stringify(spec)}` });
    return null;
  }
  for (const k of Object.keys(spec)) if (!['validation', 'metric', 'tasks'].includes(k)) problems.push({ path: `select.${k}`, message: 'unknown field; allowed: validation, metric, tasks' });
  const resolved = { validation: 0, metric: 'acc' as 'acc' | 'forgetting', tasks: 0 };
  if (typeof spec.validation !== 'number' || !(spec.validation > 0 && spec.validation < 1)) problems.push({ path: 'select.validation', message: `must be a fraction of each task's training examples, > 0 and < 1; got ${JSON.stringify(spec.validation)}` });
  else resolved.validation = spec.validation;
  if (spec.metric !== undefined) {
    if (spec.metric !== 'acc' && spec.metric !== 'forgetting') problems.push({ path: 'select.metric', message: `must be "acc" | "forgetting", got ${JSON.stringify(spec.metric)}` });
    else resolved.metric = spec.metric;
  }
  if (spec.tasks !== undefined) {
    if (!Number.isInteger(spec.tasks) || (spec.tasks as number) < 0) problems.push({ path: 'select.tasks', message: `must be an integer >= 0 (0: the whole stream), got ${JSON.stringify(spec.tasks)}` });
    else resolved.tasks = spec.tasks as number;
  }
  return resolved;
}

function resolveCheckpoint(spec: unknown, overrides: Partial<ResolvedCheckpoint>, problems: Problem[]): ResolvedCheckpoint {
  const resolved: ResolvedCheckpoint = { enabled: true, everySteps: 0, everyMinutes: 5, keep: false };
  if (spec === false) resolved.enabled = false;
  else if (spec !== undefined) {
    if (!isObject(spec)) problems.push({ path: 'checkpoint', message: `must be false or { everySteps?, everyMinutes?, keep? }, got ${JSON.stringify(spec)}` });
    else {
      for (const k of Object.keys(spec)) if (!['everySteps', 'everyMinutes', 'keep'].includes(k)) problems.push({ path: `checkpoint.${k}`, message: 'unknown field; allowed: everySteps, everyMinutes, keep' });
      if (spec.everySteps !== undefined) {
        if (!Number.isInteger(spec.everySteps) || (spec.everySteps as number) < 0) problems.push({ path: 'checkpoint.everySteps', message: `must be an integer >= 0, got ${JSON.stringify(spec.everySteps)}` });
        else resolved.everySteps = spec.everySteps as number;
      }
      if (spec.everyMinutes !== undefined) {
        if (typeof spec.everyMinutes !== 'number' || !Number.isFinite(spec.everyMinutes) || spec.everyMinutes < 0) problems.push({ path: 'checkpoint.everyMinutes', message: `must be a number >= 0, got ${JSON.stringify(spec.everyMinutes)}` });
        else resolved.everyMinutes = spec.everyMinutes;
      }
      if (spec.keep !== undefined) {
        if (typeof spec.keep !== 'boolean') problems.push({ path: 'checkpoint.keep', message: `must be true or false, got ${JSON.stringify(spec.keep)}` });
        else resolved.keep = spec.keep;
      }
    }
  }
  return { ...resolved, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) };
}

/**
 * The run's strategies: `strategies: [...]`, or the `strategy` shorthand, or
 * naive fine-tuning. Two strategies that claim the same exclusive role
 * (evaluation-time prediction, the training set, a model reset) are rejected
 * here, before anything is built.
 */
function resolveStrategies(
  spec: Record<string, unknown>,
  registry: PluginRegistry,
  component: (kind: PluginKind, value: unknown, path: string) => ResolvedComponent | undefined,
  problems: Problem[],
): ResolvedComponent[] {
  if (spec.strategy !== undefined && spec.strategies !== undefined) {
    problems.push({ path: 'strategies', message: "give either 'strategy' or 'strategies', not both" });
    return [];
  }
  let listed: { value: unknown; path: string }[];
  if (spec.strategies !== undefined) {
    if (!Array.isArray(spec.strategies) || spec.strategies.length === 0) {
      problems.push({ path: 'strategies', message: `must be a non-empty array of { name, ...options }, got ${JSON.stringify(spec.strategies)}` });
      return [];
    }
    listed = spec.strategies.map((value, i) => ({ value, path: `strategies[${i}]` }));
  } else listed = [{ value: spec.strategy ?? { name: 'naive' }, path: 'strategy' }];
  const resolved: ResolvedComponent[] = [];
  const claimed = new Map<string, string>();
  for (const { value, path } of listed) {
    const c = component('strategy', value, path);
    if (!c) continue;
    resolved.push(c);
    for (const role of registry.get('strategy', c.name).roles ?? []) {
      const other = claimed.get(role);
      if (other) problems.push({ path, message: `'${c.name}' and ${other} both decide ${ROLE_TEXT[role]}; they cannot be combined` });
      else claimed.set(role, `'${c.name}' (${path})`);
    }
  }
  return resolved;
}

const ROLE_TEXT: Record<StrategyRole, string> = {
  prediction: 'evaluation-time prediction',
  'training-set': "the task's training set",
  'model-reset': 'a reset of the model at each task',
};
