// What a plugin's tests need to build one outside a run: a context over a given data set, and `create` through the
// plugin's own option schema (defaults filled in, no problems expected).
import { expect } from 'vitest';
import { join } from 'node:path';
import type { PluginContext } from '../../src/plugin/define-plugin.js';
import type { OptionSchema } from '../../src/plugin/options.js';
import { resolveOptions } from '../../src/plugin/options.js';
import type { Dataset } from '../../src/contracts/data.js';
import { Rng } from '../../src/tensor/rng.js';

/** A plugin context whose only component is `dataset`; paths resolve against `dir`. */
export function ctxWith(dataset: Dataset | undefined, dir = '/'): PluginContext {
  return {
    seed: 0,
    rng: (label) => new Rng(0).fork(label),
    resolve: async (kind) => {
      if (kind === 'dataset' && dataset) return dataset as never;
      throw new Error(`no ${kind}`);
    },
    resolvePath: (p) => join(dir, p),
    problem: async () => ({ featureShape: [], outputs: 0, batchSize: 1 }),
  };
}

/** Builds the plugin from options as an experiment gives them. */
export const create = async <T>(
  plugin: { options: OptionSchema; create: (o: never, c: PluginContext) => T | Promise<T> },
  input: object,
  ctx: PluginContext,
) => {
  const { options, problems } = resolveOptions(plugin.options, input as Record<string, unknown>, 'x');
  expect(problems).toEqual([]);
  return plugin.create(options as never, ctx);
};
