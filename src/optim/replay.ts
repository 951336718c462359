// Replays an optimizer trace (format `optimizer-trace/1`, test/fixtures/golden/README.md)
// through the real optimizer plugins: the check that our optimizers compute
// what the reference implementations compute.
import { readFileSync } from 'node:fs';
import { UserError } from '../errors.js';
import { tf } from '../tensor/tf.js';
import type { Model } from '../contracts/model.js';
import type { NamedTensors } from '../contracts/optimizer.js';
import type { PluginContext } from '../plugin/define-plugin.js';
import { resolveOptions } from '../plugin/options.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { Rng } from '../tensor/rng.js';
import { AnchorStore } from './anchors.js';
import { Optimizer } from './optimizer.js';

export interface OptimizerTrace {
  format: 'optimizer-trace/1';
  optimizer: string;
  config: Record<string, unknown>;
  params: { name: string; shape: number[]; init: number[] }[];
  steps: { grads: Record<string, number[]>; expected?: Record<string, number[]> }[];
}

export interface ReplayResult {
  steps: { params: Record<string, number[]> }[];
}

export class TraceFormatError extends UserError {}

/** The trace's optimizer name and config keys → a plugin name and its options. */
export function traceToPlugin(
  trace: OptimizerTrace,
  registry: PluginRegistry,
): { plugin: string; options: Record<string, unknown> } {
  const c = trace.config;
  const pick = (keys: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(keys)
        .filter(([from]) => c[from] !== undefined)
        .map(([from, to]) => [to, c[from]]),
    );
  const common = pick({ lr: 'lr', wd: 'weightDecay' });
  switch (trace.optimizer) {
    case 'adamw':
      return { plugin: 'adamw', options: common };
    case 'sgd':
      return {
        plugin: 'sgd',
        options: { ...common, ...pick({ momentum: 'momentum', nesterov: 'nesterov', dampening: 'dampening' }) },
      };
    case 'adamw+ftp':
    case 'sgd+ftp':
      return {
        plugin: 'ftp',
        options: {
          base: trace.optimizer.split('+')[0],
          ...common,
          ...pick({ k: 'k', exclude: 'exclude', momentum: 'momentum', nesterov: 'nesterov', dampening: 'dampening' }),
        },
      };
    case 'adamw+l2sp':
    case 'sgd+l2sp':
      return {
        plugin: 'l2sp',
        options: {
          base: trace.optimizer.split('+')[0],
          ...common,
          ...pick({ alpha: 'alpha', beta: 'beta', exclude: 'exclude', momentum: 'momentum', nesterov: 'nesterov' }),
        },
      };
    default:
      // Any registered optimizer, with the config taken as its options.
      if (registry.has('optimizer', trace.optimizer)) return { plugin: trace.optimizer, options: c };
      throw new TraceFormatError(
        `unknown optimizer '${trace.optimizer}'; traces name adamw, sgd, adamw+ftp, sgd+ftp, adamw+l2sp or a ` +
          `registered optimizer (${registry.names('optimizer').join(', ')})`,
      );
  }
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isNumbers = (x: unknown, length: number): boolean =>
  Array.isArray(x) && x.length === length && x.every((v) => typeof v === 'number' && Number.isFinite(v));

/** Reads and checks a trace completely, so that replaying it can only fail for the optimizer's own reasons. */
export function readTrace(path: string): OptimizerTrace {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new TraceFormatError(`${path}: ${(e as Error).message}`);
  }
  const fail = (where: string, what: string): never => {
    throw new TraceFormatError(`${path}: ${where} ${what}`);
  };
  if (!isObject(raw)) fail('the trace', 'must be a JSON object');
  const trace = raw as Record<string, unknown>;
  if (trace.format !== 'optimizer-trace/1')
    fail('format', `must be "optimizer-trace/1", got ${JSON.stringify(trace.format)}`);
  if (typeof trace.optimizer !== 'string') fail('optimizer', 'must be a string');
  if (!isObject(trace.config)) fail('config', "must be an object of the optimizer's settings");
  if (!Array.isArray(trace.params) || !Array.isArray(trace.steps))
    fail('the trace', 'needs "params" and "steps" arrays');
  const sizes = new Map<string, number>();
  (trace.params as unknown[]).forEach((p, i) => {
    if (!isObject(p) || typeof p.name !== 'string') return fail(`params[${i}]`, 'must be { name, shape, init }');
    if (sizes.has(p.name)) fail(`params[${i}]`, `repeats the name '${p.name}'`);
    if (!Array.isArray(p.shape) || !p.shape.every((d) => Number.isInteger(d) && (d as number) >= 0))
      fail(`params ${p.name}`, 'needs a shape: an array of sizes');
    const size = (p.shape as number[]).reduce((a, b) => a * b, 1);
    if (!isNumbers(p.init, size))
      fail(`params ${p.name}`, `init must be ${size} finite numbers for shape [${JSON.stringify(p.shape)}]`);
    sizes.set(p.name, size);
  });
  (trace.steps as unknown[]).forEach((st, i) => {
    if (!isObject(st) || !isObject(st.grads)) return fail(`steps[${i}]`, 'must be { grads: { <param>: numbers } }');
    for (const [name, size] of sizes)
      if (!isNumbers(st.grads[name], size)) fail(`steps[${i}].grads.${name}`, `must be ${size} finite numbers`);
    for (const name of Object.keys(st.grads))
      if (!sizes.has(name)) fail(`steps[${i}].grads.${name}`, 'names no parameter of the trace');
    if (st.expected !== undefined) {
      if (!isObject(st.expected)) fail(`steps[${i}].expected`, 'must be an object of parameter values');
      for (const [name, values] of Object.entries(st.expected as Record<string, unknown>)) {
        if (!sizes.has(name)) fail(`steps[${i}].expected.${name}`, 'names no parameter of the trace');
        if (!isNumbers(values, sizes.get(name)!))
          fail(`steps[${i}].expected.${name}`, `must be ${sizes.get(name)} finite numbers`);
      }
    }
  });
  return trace as unknown as OptimizerTrace;
}

/**
 * Replays the trace and returns the parameters after every step, flattened
 * row-major. Parameters are in PyTorch layout ([out, in, ...]): row axis 0.
 */
export async function replayTrace(trace: OptimizerTrace, registry: PluginRegistry): Promise<ReplayResult> {
  const { plugin: name, options: raw } = traceToPlugin(trace, registry);
  const plugin = registry.get('optimizer', name);
  const { options, problems } = resolveOptions(plugin.options, raw, 'config');
  if (problems.length) throw new TraceFormatError(problems.map((p) => `${p.path}: ${p.message}`).join('; '));

  const params = new Map<string, tf.Variable>(
    trace.params.map((p) => [p.name, tf.tidy(() => tf.variable(tf.tensor(p.init, p.shape), true))]),
  );
  const rowAxis = Object.fromEntries(trace.params.map((p) => [p.name, 0]));
  const model: Model = {
    params,
    rowAxis,
    forward: () => {
      throw new Error('a replayed optimizer has no model to run');
    },
    describe: () => 'trace parameters',
    dispose: () => params.forEach((p) => p.dispose()),
  };
  const ctx: PluginContext = {
    seed: 0,
    rng: (label) => new Rng(0).fork(label),
    resolve: (kind) =>
      kind === 'model'
        ? Promise.resolve(model as never)
        : Promise.reject(new Error(`a replayed optimizer cannot use the ${kind}`)),
    resolvePath: (p) => p,
    problem: () => Promise.reject(new Error('a replayed optimizer has no problem shape')),
  };
  const component = await plugin.create(options, ctx);
  const anchors = new AnchorStore();
  anchors.snapshot('initial', params);
  const optimizer = new Optimizer(component, params, anchors, rowAxis);
  const steps: ReplayResult['steps'] = [];
  try {
    for (const step of trace.steps) {
      tf.tidy(() => {
        const grads: NamedTensors = {};
        for (const p of trace.params) grads[p.name] = tf.tensor(step.grads[p.name], p.shape);
        optimizer.step(grads);
      });
      steps.push({ params: Object.fromEntries([...params].map(([n, v]) => [n, Array.from(v.dataSync())])) });
    }
  } finally {
    optimizer.dispose();
    anchors.dispose();
    model.dispose();
  }
  return { steps };
}

/** Relative error ‖a − b‖₂ / ‖b‖₂ (b the expected tensor). */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < expected.length; i++) {
    num += (actual[i] - expected[i]) ** 2;
    den += expected[i] ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}
