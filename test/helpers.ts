import { expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { builtinPlugins } from '../plugins/index.js';
import { PluginRegistry } from '../src/plugin/registry.js';
import { ExperimentError, validateExperiment } from '../src/spec/validate.js';
import type { RunConfig } from '../src/spec/spec.js';
import { rowKernelsStatus } from '../src/native/kernels.js';

export const ROOT = resolve(import.meta.dirname, '..');
export const BIN = join(ROOT, 'bin', 'anchorage.js');

/** A scratch folder inside the repository, so that experiment modules can `import 'anchorage'` like a user's. */
export function scratchDir(prefix = 'case'): string {
  const base = join(ROOT, 'test', '.tmp');
  mkdirSync(base, { recursive: true });
  return mkdtempSync(join(base, `${prefix}-`));
}

/** A tiny synthetic continual experiment: 2 tasks of 2 classes, trains in well under a second. */
export const TINY_SPEC = {
  name: 'tiny',
  dataset: { name: 'synthetic', classes: 4, features: 16, trainPerClass: 48, testPerClass: 24, separation: 6 },
  stream: { name: 'split', tasksOf: 2 },
  model: { name: 'mlp', hidden: [32] },
  optimizer: { name: 'adamw', lr: 3e-2 },
  train: { epochs: 2, batchSize: 16, logEvery: 3 },
} as const;

/** Two EWC settings to choose between on a 20 % validation hold-out: the smallest sweep `select` has work in. */
export const SELECT_SPEC = {
  name: 'select',
  dataset: { name: 'synthetic', classes: 4, features: 16, trainPerClass: 30, testPerClass: 12, separation: 4 },
  stream: { name: 'split', tasksOf: 2 },
  model: { name: 'mlp', hidden: [16] },
  optimizer: { name: 'adamw', lr: 0.02 },
  axes: {
    strategy: [
      { name: 'ewc', lambda: 0.1, fisherSamples: 20 },
      { name: 'ewc', lambda: 50, fisherSamples: 20 },
    ],
  },
  train: { epochs: 2, batchSize: 16, logEvery: 4 },
  select: { validation: 0.2 },
};

export function writeExperiment(dir: string, spec: object, file = 'experiment.ts', extra = ''): string {
  const path = join(dir, file);
  writeFileSync(
    path,
    `import { defineExperiment } from 'anchorage';\n${extra}\nexport default ` +
      `defineExperiment(${JSON.stringify(spec, null, 2)} as const);\n`,
  );
  return path;
}

export function tinyConfigs(
  spec: object = TINY_SPEC,
  seeds?: number[],
): { configs: RunConfig[]; registry: PluginRegistry } {
  const registry = new PluginRegistry(builtinPlugins);
  return {
    configs: validateExperiment(spec, registry, join(ROOT, 'test', 'virtual-experiment.ts'), { seeds }),
    registry,
  };
}

/** The problems validation reports for `spec`, by field path; fails the test when there are none. */
export function problemsOf(spec: object): Record<string, string> {
  try {
    tinyConfigs(spec);
  } catch (e) {
    expect(e).toBeInstanceOf(ExperimentError);
    return Object.fromEntries((e as ExperimentError).problems.map((p) => [p.path, p.message]));
  }
  throw new Error('expected validation to fail');
}

export function runCli(args: string[], opts: { cwd?: string; timeout?: number; env?: NodeJS.ProcessEnv } = {}) {
  const env = opts.env ? { ...process.env, ...opts.env } : undefined;
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    encoding: 'utf8',
    timeout: opts.timeout ?? 180_000,
    env,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Why the fused kernels cannot be tested in this process (another backend,
 * or native TensorFlow without them), or undefined when they are loaded.
 * Tests of the kernels skip with this reason.
 */
export function nativeKernelsMissing(backend: string): string | undefined {
  if (backend !== 'tensorflow') return `the fused kernels run on native TensorFlow only; this run is on ${backend}`;
  const status = rowKernelsStatus();
  return status.loaded ? undefined : `the fused kernels are not loaded: ${status.why}`;
}

/** One regular expression from several, for a pattern too long for one line: `regex(/a /, /b/)` is `/a b/`. */
export function regex(...parts: RegExp[]): RegExp {
  return new RegExp(parts.map((p) => p.source).join(''));
}
