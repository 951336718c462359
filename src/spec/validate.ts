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
import { onlineTrainProblems, resolveContinualEval, resolveOnline, taskFreeProblems } from './online.js';

export class ExperimentError extends UserError {
  constructor(
    readonly source: string,
    readonly problems: Problem[],
  ) {
    const lines = problems.map((p) => `  ${p.path}: ${p.message}`);
    super(`${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${lines.join('\n')}`);
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

const TOP_LEVEL = [
  'name',
  'description',
  'axes',
  'variants',
  'plugins',
  'dataset',
  'stream',
  'scenario',
  'model',
  'optimizer',
  'sampler',
  'strategy',
  'strategies',
  'train',
  'eval',
  'saveModel',
  'seeds',
  'checkpoint',
  'reporters',
  'augment',
  'select',
  'phases',
  'online',
];
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

function section(
  spec: Record<string, unknown>,
  key: string,
  allowed: string[],
  problems: Problem[],
): Record<string, unknown> {
  const value = spec[key];
  if (value === undefined) return {};
  if (!isObject(value)) {
    problems.push({ path: key, message: `must be an object, got ${JSON.stringify(value)}` });
    return {};
  }
  for (const k of Object.keys(value))
    if (!allowed.includes(k))
      problems.push({ path: `${key}.${k}`, message: `unknown field; allowed: ${allowed.join(', ')}` });
  return value;
}

/** Stable JSON (sorted keys) so that equal configurations hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value))
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

/**
 * Checks a spec against the registered plugins and expands it into one fully
 * resolved RunConfig per seed. Reports every problem at once, each with its
 * field path; nothing is trained before this succeeds.
 */
export function validateExperiment(
  raw: unknown,
  registry: PluginRegistry,
  experimentFile: string,
  overrides: Overrides = {},
): RunConfig[] {
  if (!isObject(raw))
    throw new ExperimentError(experimentFile, [
      { path: '(spec)', message: 'the module must export an experiment (export default defineExperiment({...}))' },
    ]);
  const { axes, variants: listed, ...base } = raw;
  const problems: Problem[] = [];
  const variants = withVariants(
    withAxes([{ spec: base, at: {} }], axes, base, problems),
    listed,
    { base, axes },
    problems,
  );
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
        const path = pathInExperiment(p.path, variant);
        if (!problems.some((q) => q.path === path && q.message === p.message))
          problems.push({ path, message: p.message });
      }
    }
  }
  problems.push(...sweepProblems(configs));
  if (problems.length > 0) throw new ExperimentError(experimentFile, problems);
  return configs;
}

/** One combination of axis values and variant fields: its spec, and which value of each it took. */
interface Variant {
  spec: Record<string, unknown>;
  at: Record<string, number>;
  overrides?: string[];
}

/** Every combination of the axes' values. */
function withAxes(variants: Variant[], axes: unknown, base: Record<string, unknown>, problems: Problem[]): Variant[] {
  if (axes === undefined) return variants;
  if (!isObject(axes)) {
    problems.push({
      path: 'axes',
      message: `must be an object of arrays, e.g. { optimizer: [{ name: 'adamw' }, { name: 'ftp' }] }`,
    });
    return variants;
  }
  for (const [key, values] of Object.entries(axes)) {
    if (!(AXIS_KEYS as readonly string[]).includes(key))
      problems.push({ path: `axes.${key}`, message: `unknown axis; allowed: ${AXIS_KEYS.join(', ')}` });
    else if (!Array.isArray(values) || values.length === 0)
      problems.push({ path: `axes.${key}`, message: 'must be a non-empty array of values' });
    else if (key in base)
      problems.push({ path: `axes.${key}`, message: `'${key}' is given both as a field and as an axis; keep one` });
    else if ((key === 'strategy' && 'strategies' in base) || (key === 'strategies' && 'strategy' in base))
      problems.push({
        path: `axes.${key}`,
        message: "give the strategies once: 'strategy' and 'strategies' name the same thing",
      });
    else
      variants = variants.flatMap((v) =>
        values.map((value: unknown, i) => ({ spec: { ...v.spec, [key]: value }, at: { ...v.at, [key]: i } })),
      );
  }
  return variants;
}

/** Coupled settings (a method with its own learning rate): each entry overrides fields of every axis combination. */
function withVariants(
  variants: Variant[],
  listed: unknown,
  given: { base: Record<string, unknown>; axes: unknown },
  problems: Problem[],
): Variant[] {
  if (listed === undefined) return variants;
  if (!Array.isArray(listed) || listed.length === 0 || listed.some((v) => !isObject(v))) {
    problems.push({
      path: 'variants',
      message:
        'must be a non-empty array of objects, e.g. [{ strategy: { name: "der" }, optimizer: { name: "sgd", ' +
        'lr: 0.03 } }]',
    });
    return variants;
  }
  listed.forEach((entry, i) => {
    for (const key of Object.keys(entry as object)) {
      if (!(AXIS_KEYS as readonly string[]).includes(key))
        problems.push({
          path: `variants[${i}].${key}`,
          message: `not a field a variant can set; allowed: ${AXIS_KEYS.join(', ')}`,
        });
      else if (key in given.base || (isObject(given.axes) && key in given.axes))
        problems.push({
          path: `variants[${i}].${key}`,
          message: `'${key}' is also given as a field or an axis; keep one`,
        });
    }
  });
  return variants.flatMap((v) =>
    (listed as Record<string, unknown>[]).map((entry, i) => ({
      spec: { ...v.spec, ...entry },
      at: { ...v.at, variants: i },
      overrides: Object.keys(entry),
    })),
  );
}

/** A problem of one variant at its place in the experiment: the axis value or variant entry that set the field. */
function pathInExperiment(path: string, variant: Variant): string {
  const key = path.split(/[.[]/)[0];
  if (variant.overrides?.includes(key)) return `variants[${variant.at.variants}].${path}`;
  return key in variant.at ? `axes.${key}[${variant.at[key]}]${path.slice(key.length)}` : path;
}

/** What is wrong with the sweep as a whole: two variants that are one run, clashing model paths, nothing to select. */
function sweepProblems(configs: RunConfig[]): Problem[] {
  const problems: Problem[] = [];
  const ids = new Set<string>();
  for (const c of configs) {
    if (ids.has(c.runId))
      problems.push({ path: 'axes', message: `two variants resolve to the same configuration (run ${c.runId})` });
    ids.add(c.runId);
  }
  problems.push(...modelPathProblems(configs));
  // Saved models may be souped, and a greedy soup ranks its runs on the held-out data: then select has a use.
  if (configs.length && configs[0].select && !configs[0].saveModel && !hasChoices(configs)) {
    problems.push({
      path: 'select',
      message:
        'there is nothing to choose between: no method has two configurations. Give an axis (or variants) with ' +
        "several settings of one plugin, e.g. strategy: [{ name: 'ewc', lambda: 1e5 }, { name: 'ewc', lambda: " +
        '1e7 }], or saveModel for a greedy soup',
    });
  }
  return problems;
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

const AXIS_KEYS = [
  'dataset',
  'stream',
  'scenario',
  'model',
  'optimizer',
  'sampler',
  'strategy',
  'strategies',
  'phases',
] as const;

/** Resolves `{ name, ...options }` of a plugin kind against the registry, pushing what is wrong. */
type ComponentResolver = (kind: PluginKind, value: unknown, path: string) => ResolvedComponent | undefined;

function componentResolver(registry: PluginRegistry, problems: Problem[]): ComponentResolver {
  return (kind, value, path) => {
    if (!isObject(value) || typeof value.name !== 'string') {
      const names = registry
        .names(kind)
        .map((n) => `'${n}'`)
        .join(' | ');
      problems.push({ path, message: `must be { name: ${names}, ...options }` });
      return undefined;
    }
    if (!registry.has(kind, value.name)) {
      problems.push({
        path: `${path}.name`,
        message: `unknown ${kind} '${value.name}'; registered: ${registry.names(kind).join(', ') || '(none)'}`,
      });
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
}

/** Everything of a variant but its seeds, resolved. */
interface ResolvedVariant {
  name: string;
  scenario: Scenario;
  components: Record<ComponentKind, ResolvedComponent>;
  strategies: ResolvedComponent[];
  train: RunConfig['train'];
  phases: RunConfig['phases'];
  eval: RunConfig['eval'];
  seeds: number[];
  saveModel: string;
  plugins: string[];
  checkpoint: RunConfig['checkpoint'];
  augment: ResolvedComponent[];
  reporters: ResolvedComponent[];
  select: RunConfig['select'];
  online: RunConfig['online'];
}

function validateVariant(
  spec: Record<string, unknown>,
  registry: PluginRegistry,
  experimentFile: string,
  overrides: Overrides,
  at: Record<string, number>,
): RunConfig[] {
  const problems: Problem[] = [];
  for (const k of Object.keys(spec))
    if (!TOP_LEVEL.includes(k)) problems.push({ path: k, message: `unknown field; allowed: ${TOP_LEVEL.join(', ')}` });
  const name = spec.name;
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(name)) {
    problems.push({
      path: 'name',
      message: `must be lower-case letters, digits and dashes, got ${JSON.stringify(name)}`,
    });
  }
  if (spec.description !== undefined && typeof spec.description !== 'string')
    problems.push({ path: 'description', message: 'must be a string' });
  // Problems are listed in the order of the fields below.
  const scenario = resolveScenario(spec.scenario, problems);
  const component = componentResolver(registry, problems);
  const { components, strategies, trainSection, phases } = resolveComponents(spec, registry, component, problems);
  const evalSection = section(spec, 'eval', ['batchSize', 'ood', 'interpolate', 'every', 'subset'], problems);
  const interpolate = resolveInterpolate(evalSection.interpolate, problems);
  const ood = resolveOod(evalSection.ood, problems);
  const continual = resolveContinualEval(evalSection.every, evalSection.subset, problems);
  const train = resolveTrain(trainSection, phases, overrides, problems);
  const online = resolveOnline(spec.online, problems);
  problems.push(...onlineTrainProblems(online, train, phases !== null));
  const strategyPaths = Array.isArray(spec.strategies) ? strategies.map((_, i) => `strategies[${i}]`) : ['strategy'];
  problems.push(...taskFreeProblems(online, strategies, components.stream, registry, strategyPaths));
  const evalResolved = {
    batchSize: positiveInt(evalSection.batchSize, 1000, 'eval.batchSize', problems),
    ood,
    ...(interpolate.length ? { interpolate } : {}),
    ...(continual ? { continual } : {}),
  };
  const resolved: ResolvedVariant = {
    name: name as string,
    scenario,
    components,
    strategies,
    train,
    phases,
    eval: evalResolved,
    seeds: resolveSeeds(spec.seeds, overrides, problems),
    saveModel: resolveSaveModel(spec.saveModel, problems),
    plugins: resolvePlugins(spec.plugins, problems),
    checkpoint: resolveCheckpoint(spec.checkpoint, overrides.checkpoint ?? {}, problems),
    augment: resolveAugment(spec.augment, component, problems),
    reporters: resolveReporters(spec.reporters, overrides, component, problems),
    select: resolveSelect(spec.select, problems),
    online,
  };
  if (problems.length > 0) throw new ExperimentError(experimentFile, problems);
  return runConfigs(resolved, registry, experimentFile, at);
}

function resolveScenario(value: unknown, problems: Problem[]): Scenario {
  if (value === undefined) return 'class-il';
  if (typeof value !== 'string' || !(SCENARIOS as readonly string[]).includes(value)) {
    problems.push({
      path: 'scenario',
      message: `must be one of ${SCENARIOS.map((s) => `"${s}"`).join(' | ')}, got ${JSON.stringify(value)}`,
    });
    return 'class-il';
  }
  return value as Scenario;
}

/** The components, strategies, the train section as given and the phases. */
function resolveComponents(
  spec: Record<string, unknown>,
  registry: PluginRegistry,
  component: ComponentResolver,
  problems: Problem[],
): Pick<ResolvedVariant, 'components' | 'strategies' | 'phases'> & { trainSection: TrainSection } {
  const phaseSpecs = Array.isArray(spec.phases) ? (spec.phases as unknown[]) : [];
  // With phases that all name their optimizer, the last (the fine-tuning) is the run's optimizer.
  const lastPhaseOptimizer = isObject(phaseSpecs.at(-1))
    ? (phaseSpecs.at(-1) as Record<string, unknown>).optimizer
    : undefined;
  const components = {} as Record<ComponentKind, ResolvedComponent>;
  for (const kind of COMPONENT_KINDS) {
    if (kind === 'optimizer' && spec.optimizer === undefined && lastPhaseOptimizer !== undefined) continue;
    const resolved = component(kind, spec[kind] === undefined && DEFAULTS[kind] ? DEFAULTS[kind] : spec[kind], kind);
    if (resolved) components[kind] = resolved;
  }
  const strategies = resolveStrategies(spec, registry, component, problems);
  const train = section(spec, 'train', ['epochs', 'steps', 'batchSize', 'logEvery', 'params'], problems);
  const params = train.params === undefined ? undefined : patternList(train.params, 'train.params', problems);
  const phases = resolvePhases(
    spec.phases,
    spec.optimizer !== undefined,
    (value, path) => component('optimizer', value, path),
    problems,
  );
  if (phases && spec.optimizer === undefined && lastPhaseOptimizer !== undefined) {
    const last = phases.at(-1);
    if (last) components.optimizer = last.optimizer;
  }
  // A phase that names no optimizer shares the experiment's (its own instance and state).
  if (phases && components.optimizer)
    for (const p of phases) if (p.optimizer.name === '') p.optimizer = components.optimizer;
  return { components, strategies, trainSection: { ...train, params }, phases };
}

type TrainSection = Record<string, unknown> & { params?: string[] };

/** The training settings; a phase without its own length takes the run's. */
function resolveTrain(
  train: TrainSection,
  phases: RunConfig['phases'],
  overrides: Overrides,
  problems: Problem[],
): RunConfig['train'] {
  const resolved = {
    epochs: overrides.epochs ?? positiveInt(train.epochs, 1, 'train.epochs', problems),
    steps: overrides.steps ?? (train.steps === 0 ? 0 : positiveInt(train.steps, 0, 'train.steps', problems)),
    batchSize: positiveInt(train.batchSize, 128, 'train.batchSize', problems),
    logEvery: positiveInt(train.logEvery, 25, 'train.logEvery', problems),
    ...(train.params ? { params: train.params } : {}),
  };
  // --steps and --epochs shorten what the experiment says; a phase that sets its own length would silently keep it
  // (while the run's id changed): refused, naming the phases.
  const own = (phases ?? []).filter((p) => p.steps > 0 || p.epochs > 0);
  const names = own.map((p) => `'${p.name}'`).join(', ');
  const which = own.length > 1 ? `phases ${names} set` : `phase ${names} sets`;
  for (const flag of ['steps', 'epochs'] as const)
    if (overrides[flag] !== undefined && own.length)
      problems.push({
        path: `--${flag}`,
        message: `${which} its own length, which --${flag} would not change; change it in the experiment`,
      });
  for (const p of phases ?? [])
    if (p.steps === 0 && p.epochs === 0)
      Object.assign(p, resolved.steps > 0 ? { steps: resolved.steps } : { epochs: resolved.epochs });
  return resolved;
}

function resolveInterpolate(value: unknown, problems: Problem[]): number[] {
  const interpolate: number[] = [];
  if (value === undefined) return interpolate;
  if (!Array.isArray(value) || value.length === 0) {
    problems.push({
      path: 'eval.interpolate',
      message: 'must be a non-empty array of weights α in [0, 1], e.g. [0, 0.25, 0.5, 0.75, 1]',
    });
    return interpolate;
  }
  value.forEach((a: unknown, i) => {
    if (typeof a !== 'number' || !(a >= 0 && a <= 1))
      problems.push({
        path: `eval.interpolate[${i}]`,
        message: `must be a weight α in [0, 1], got ${JSON.stringify(a)}`,
      });
    else if (interpolate.includes(a))
      problems.push({ path: `eval.interpolate[${i}]`, message: `${a} is listed twice` });
    else interpolate.push(a);
  });
  return interpolate;
}

function resolveOod(value: unknown, problems: Problem[]): OodSpec[] {
  const ood: OodSpec[] = [];
  if (value === undefined) return ood;
  if (!Array.isArray(value)) {
    problems.push({
      path: 'eval.ood',
      message: "must be an array like [{ corruption: 'gaussian-noise', severity: 3 }]",
    });
    return ood;
  }
  value.forEach((o: unknown, i) => {
    const c = isObject(o) ? o.corruption : undefined;
    const s = isObject(o) ? o.severity : undefined;
    if (typeof c !== 'string' || !(CORRUPTIONS as readonly string[]).includes(c))
      problems.push({
        path: `eval.ood[${i}].corruption`,
        message: `must be one of ${CORRUPTIONS.map((x) => `"${x}"`).join(' | ')}, got ${JSON.stringify(c)}`,
      });
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 1 || s > 5)
      problems.push({
        path: `eval.ood[${i}].severity`,
        message: `must be an integer from 1 to 5, got ${JSON.stringify(s)}`,
      });
    if (isObject(o))
      for (const k of Object.keys(o))
        if (k !== 'corruption' && k !== 'severity')
          problems.push({ path: `eval.ood[${i}].${k}`, message: 'unknown field; allowed: corruption, severity' });
    ood.push({ corruption: c as OodSpec['corruption'], severity: s as number });
  });
  if (new Set(ood.map((o) => `${o.corruption}-${o.severity}`)).size !== ood.length)
    problems.push({ path: 'eval.ood', message: 'lists the same corruption and severity twice' });
  return ood;
}

function resolveSeeds(value: unknown, overrides: Overrides, problems: Problem[]): number[] {
  let seeds: number[] = [0];
  if (overrides.seeds) seeds = overrides.seeds;
  else if (value !== undefined) {
    if (
      !Array.isArray(value) ||
      value.length === 0 ||
      value.some((s) => !Number.isInteger(s) || s < 0 || s > Rng.MAX_SEED)
    ) {
      problems.push({
        path: 'seeds',
        message:
          `must be a non-empty array of integers from 0 to ${Rng.MAX_SEED} (the generator's 32-bit range), got ` +
          `${JSON.stringify(value).slice(0, 200)}`,
      });
    } else if (value.length > MAX_SEEDS) {
      problems.push({ path: 'seeds', message: `${value.length} seeds; at most ${MAX_SEEDS} per experiment` });
    } else seeds = value as number[];
  }
  if (new Set(seeds).size !== seeds.length)
    problems.push({ path: 'seeds', message: `contains duplicates: ${seeds.join(',')}` });
  return seeds;
}

function resolveSaveModel(value: unknown, problems: Problem[]): string {
  if (value === undefined) return '';
  if (typeof value !== 'string' || !value || value.startsWith('/') || value.split(/[\\/]/).includes('..')) {
    problems.push({
      path: 'saveModel',
      message: `must be a relative path inside the results folder, got ${JSON.stringify(value)}`,
    });
    return '';
  }
  const unknown = unknownTemplateFields(value);
  if (!unknown.length) return value;
  problems.push({
    path: 'saveModel',
    message:
      `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `{${k}}`).join(', ')}; fields: ` +
      `${MODEL_TEMPLATE_FIELDS.map((k) => `{${k}}`).join(', ')}`,
  });
  return '';
}

function resolvePlugins(value: unknown, problems: Problem[]): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((p) => typeof p !== 'string')) {
    problems.push({ path: 'plugins', message: 'must be an array of module paths or package names' });
    return [];
  }
  return value as string[];
}

function resolveAugment(value: unknown, component: ComponentResolver, problems: Problem[]): ResolvedComponent[] {
  const augment: ResolvedComponent[] = [];
  if (value === undefined) return augment;
  if (!Array.isArray(value)) {
    problems.push({
      path: 'augment',
      message: `must be an array of { name, ...options }, got ${JSON.stringify(value)}`,
    });
    return augment;
  }
  value.forEach((v: unknown, i) => {
    const a = component('augmentation', v, `augment[${i}]`);
    if (a) augment.push(a);
  });
  return augment;
}

function resolveReporters(
  value: unknown,
  overrides: Overrides,
  component: ComponentResolver,
  problems: Problem[],
): ResolvedComponent[] {
  const reporters: ResolvedComponent[] = [];
  if (value !== undefined && !Array.isArray(value))
    problems.push({
      path: 'reporters',
      message: `must be an array of { name, ...options }, got ${JSON.stringify(value)}`,
    });
  const listed = [
    ...(Array.isArray(value) ? (value as unknown[]).map((v, i) => ({ value: v, path: `reporters[${i}]` })) : []),
    ...(overrides.reporters ?? []).map((name) => ({ value: { name }, path: `--reporter ${name}` })),
  ];
  for (const { value: v, path } of listed) {
    const r = component('reporter', v, path);
    if (r && !reporters.some((x) => x.name === r.name)) reporters.push(r);
  }
  return reporters;
}

/** One RunConfig per seed, with its run id (a hash of its identity) and its variant's labels. */
function runConfigs(
  v: ResolvedVariant,
  registry: PluginRegistry,
  experimentFile: string,
  at: Record<string, number>,
): RunConfig[] {
  const { name, scenario, components, strategies, phases } = v;
  // Options added after runs were recorded leave the identity while at their default: those runs keep their ids.
  const identityOfComponent = (kind: PluginKind, c: ResolvedComponent): ResolvedComponent => {
    const schema = registry.get(kind, c.name).options as Record<string, { omitAtDefault?: boolean; default?: unknown }>;
    const options = Object.fromEntries(
      Object.entries(c.options).filter(
        ([k, val]) => !(schema[k]?.omitAtDefault && canonicalJson(val) === canonicalJson(schema[k].default)),
      ),
    );
    return { name: c.name, options };
  };
  const identityOf = (all: Record<ComponentKind, ResolvedComponent>): Record<string, ResolvedComponent> =>
    Object.fromEntries(Object.entries(all).map(([kind, c]) => [kind, identityOfComponent(kind as PluginKind, c)]));
  const variant = Object.fromEntries(
    Object.keys(at).map((key) => [
      key,
      key === 'scenario'
        ? scenario
        : key === 'strategy' || key === 'strategies'
          ? strategyLabel(strategies)
          : key === 'phases'
            ? phasesLabel(phases)
            : components[key as ComponentKind].name,
    ]),
  );
  return v.seeds.map((seed) => {
    // Augmentation and selection join the identity only when there are some: runs recorded before they existed keep
    // their ids.
    const identity = {
      experiment: name,
      scenario,
      components: identityOf(components),
      strategies: strategies.map((c) => identityOfComponent('strategy', c)),
      train: v.train,
      eval: v.eval,
      seed,
      ...(v.augment.length ? { augment: v.augment } : {}),
      ...(v.select ? { select: v.select } : {}),
      ...(phases ? { phases } : {}),
      ...(v.online ? { online: v.online } : {}),
    };
    const hash = hashString(canonicalJson(identity)).toString(16).padStart(8, '0');
    const { seed: _seed, ...withoutSeed } = identity;
    return {
      experiment: name,
      experimentFile: resolvePath(experimentFile),
      runId: `${components.optimizer.name}-s${seed}-${hash}`,
      configId: hashString(canonicalJson(withoutSeed)).toString(16).padStart(8, '0'),
      seed,
      variant,
      scenario,
      plugins: v.plugins.map((p) => (p.startsWith('.') ? resolvePath(dirname(experimentFile), p) : p)),
      components,
      strategies,
      train: v.train,
      phases,
      eval: v.eval,
      saveModel: v.saveModel,
      checkpoint: v.checkpoint,
      reporters: v.reporters,
      augment: v.augment,
      select: v.select,
      ...(v.online ? { online: v.online } : {}),
    };
  });
}

/** A non-empty list of parameter-name patterns. */
function patternList(value: unknown, path: string, problems: Problem[]): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0 || value.some((p) => typeof p !== 'string' || p === '')) {
    problems.push({
      path,
      message: `must be a non-empty array of parameter-name patterns, e.g. ['head.*'], got ${JSON.stringify(value)}`,
    });
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
    problems.push({
      path: 'phases',
      message:
        'must be a non-empty array of { steps?, epochs?, optimizer?, train?, name? }, got ' + JSON.stringify(spec),
    });
    return null;
  }
  const resolved: ResolvedPhase[] = [];
  spec.forEach((raw, i) => {
    const path = `phases[${i}]`;
    if (!isObject(raw)) {
      problems.push({
        path,
        message: `must be an object { steps?, epochs?, optimizer?, train?, name? }, got ${JSON.stringify(raw)}`,
      });
      return;
    }
    for (const k of Object.keys(raw))
      if (!PHASE_FIELDS.includes(k))
        problems.push({ path: `${path}.${k}`, message: `unknown field; allowed: ${PHASE_FIELDS.join(', ')}` });
    let name = `phase${i}`;
    if (raw.name !== undefined) {
      if (typeof raw.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(raw.name))
        problems.push({
          path: `${path}.name`,
          message: `must be letters, digits, '-' and '_', got ${JSON.stringify(raw.name)}`,
        });
      else name = raw.name;
    }
    if (raw.steps !== undefined && raw.epochs !== undefined)
      problems.push({ path, message: 'give steps or epochs, not both' });
    const steps = raw.steps === undefined ? 0 : positiveInt(raw.steps, 0, `${path}.steps`, problems);
    const epochs = raw.epochs === undefined ? 0 : positiveInt(raw.epochs, 0, `${path}.epochs`, problems);
    let chosen: ResolvedComponent | undefined;
    if (raw.optimizer !== undefined) chosen = optimizer(raw.optimizer, `${path}.optimizer`);
    else if (!hasOptimizer)
      problems.push({
        path: `${path}.optimizer`,
        message: 'required: the experiment gives no optimizer for phases to share',
      });
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
    problems.push({
      path: 'select',
      message:
        `must be { validation, metric?, tasks? }, e.g. { validation: 0.1, metric: 'acc' }; got ` +
        `${JSON.stringify(spec)}`,
    });
    return null;
  }
  for (const k of Object.keys(spec))
    if (!['validation', 'metric', 'tasks'].includes(k))
      problems.push({ path: `select.${k}`, message: 'unknown field; allowed: validation, metric, tasks' });
  const resolved = { validation: 0, metric: 'acc' as 'acc' | 'forgetting', tasks: 0 };
  if (typeof spec.validation !== 'number' || !(spec.validation > 0 && spec.validation < 1))
    problems.push({
      path: 'select.validation',
      message:
        "must be a fraction of each task's training examples, > 0 and < 1; got " + JSON.stringify(spec.validation),
    });
  else resolved.validation = spec.validation;
  if (spec.metric !== undefined) {
    if (spec.metric !== 'acc' && spec.metric !== 'forgetting')
      problems.push({
        path: 'select.metric',
        message: `must be "acc" | "forgetting", got ${JSON.stringify(spec.metric)}`,
      });
    else resolved.metric = spec.metric;
  }
  if (spec.tasks !== undefined) {
    if (!Number.isInteger(spec.tasks) || (spec.tasks as number) < 0)
      problems.push({
        path: 'select.tasks',
        message: `must be an integer >= 0 (0: the whole stream), got ${JSON.stringify(spec.tasks)}`,
      });
    else resolved.tasks = spec.tasks as number;
  }
  return resolved;
}

function resolveCheckpoint(
  spec: unknown,
  overrides: Partial<ResolvedCheckpoint>,
  problems: Problem[],
): ResolvedCheckpoint {
  const resolved: ResolvedCheckpoint = { enabled: true, everySteps: 0, everyMinutes: 5, keep: false };
  if (spec === false) resolved.enabled = false;
  else if (spec !== undefined) {
    if (!isObject(spec))
      problems.push({
        path: 'checkpoint',
        message: `must be false or { everySteps?, everyMinutes?, keep? }, got ${JSON.stringify(spec)}`,
      });
    else {
      for (const k of Object.keys(spec))
        if (!['everySteps', 'everyMinutes', 'keep'].includes(k))
          problems.push({ path: `checkpoint.${k}`, message: 'unknown field; allowed: everySteps, everyMinutes, keep' });
      if (spec.everySteps !== undefined) {
        if (!Number.isInteger(spec.everySteps) || (spec.everySteps as number) < 0)
          problems.push({
            path: 'checkpoint.everySteps',
            message: `must be an integer >= 0, got ${JSON.stringify(spec.everySteps)}`,
          });
        else resolved.everySteps = spec.everySteps as number;
      }
      if (spec.everyMinutes !== undefined) {
        if (typeof spec.everyMinutes !== 'number' || !Number.isFinite(spec.everyMinutes) || spec.everyMinutes < 0)
          problems.push({
            path: 'checkpoint.everyMinutes',
            message: `must be a number >= 0, got ${JSON.stringify(spec.everyMinutes)}`,
          });
        else resolved.everyMinutes = spec.everyMinutes;
      }
      if (spec.keep !== undefined) {
        if (typeof spec.keep !== 'boolean')
          problems.push({
            path: 'checkpoint.keep',
            message: `must be true or false, got ${JSON.stringify(spec.keep)}`,
          });
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
      problems.push({
        path: 'strategies',
        message: `must be a non-empty array of { name, ...options }, got ${JSON.stringify(spec.strategies)}`,
      });
      return [];
    }
    listed = (spec.strategies as unknown[]).map((value, i) => ({ value, path: `strategies[${i}]` }));
  } else listed = [{ value: spec.strategy ?? { name: 'naive' }, path: 'strategy' }];
  const resolved: ResolvedComponent[] = [];
  const claimed = new Map<string, string>();
  for (const { value, path } of listed) {
    const c = component('strategy', value, path);
    if (!c) continue;
    resolved.push(c);
    for (const role of registry.get('strategy', c.name).roles ?? []) {
      const other = claimed.get(role);
      if (other)
        problems.push({
          path,
          message: `'${c.name}' and ${other} both decide ${ROLE_TEXT[role]}; they cannot be combined`,
        });
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
