import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { importUserModule, thrownMessage } from '../user-modules.js';
import { loadPluginModule, PluginRegistry } from '../plugin/registry.js';
import type { AnyPluginDefinition } from '../plugin/define-plugin.js';
import { ExperimentError, validateExperiment, type Overrides } from '../spec/validate.js';
import type { RunConfig } from '../spec/spec.js';

export interface LoadedExperiment {
  file: string;
  spec: Record<string, unknown>;
  registry: PluginRegistry;
  runs: RunConfig[];
}

/**
 * Imports a user's experiment module (TypeScript compiled on the fly:
 * no build step on their side), loads the plugin modules it names, and
 * validates it into run configurations.
 */
export async function loadExperiment(
  file: string,
  builtins: readonly AnyPluginDefinition[],
  overrides: Overrides = {},
): Promise<LoadedExperiment> {
  const abs = resolve(file);
  if (!existsSync(abs)) throw new ExperimentError(file, [{ path: '(file)', message: 'no such file' }]);
  let mod: Record<string, unknown>;
  try {
    mod = await importUserModule(pathToFileURL(abs).href);
  } catch (e) {
    throw new ExperimentError(file, [
      { path: '(module)', message: `failed to load: ${thrownMessage(e).split('\n').slice(0, 3).join(' ')}` },
    ]);
  }
  const exportProblem = experimentExportProblem(mod);
  if (exportProblem) throw new ExperimentError(file, [{ path: '(module)', message: exportProblem }]);
  const spec = (mod.default ?? mod.experiment) as Record<string, unknown> | undefined;
  const registry = new PluginRegistry(builtins);
  const userPlugins = Array.isArray(spec?.plugins) ? (spec.plugins as unknown[]) : [];
  const problems = [];
  for (const [i, p] of userPlugins.entries()) {
    if (typeof p !== 'string') continue;
    const specifier = p.startsWith('.') ? resolve(dirname(abs), p) : p;
    try {
      for (const def of await loadPluginModule(specifier)) registry.register(def, p);
    } catch (e) {
      problems.push({ path: `plugins[${i}]`, message: (e as Error).message });
    }
  }
  if (problems.length) throw new ExperimentError(file, problems);
  const runs = validateExperiment(spec, registry, abs, overrides);
  return { file: abs, spec: spec as Record<string, unknown>, registry, runs };
}

/** Why a module exports no experiment the CLI can run, or undefined when it does. */
function experimentExportProblem(mod: Record<string, unknown>): string | undefined {
  const spec = mod.default ?? mod.experiment;
  if (spec && typeof (spec as { then?: unknown }).then === 'function')
    return (
      'its default export is a Promise; export the experiment itself (`export default defineExperiment({...})`), ' +
      'awaiting what it needs at the top level'
    );
  if (spec === undefined) {
    const named = Object.keys(mod).filter((k) => k !== 'default');
    return named.length
      ? `no default export (it exports ${named.join(', ')}); export the experiment as default: ` +
          '`export default defineExperiment({...})`'
      : 'it exports nothing; export the experiment as default: `export default defineExperiment({...})`';
  }
  return undefined;
}
