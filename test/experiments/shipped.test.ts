// Every experiment module the package ships validates against the built-in
// plugins (names, options, axes, select), so none breaks unnoticed when a
// plugin's options change.
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { builtinPlugins } from '../../plugins/index.js';
import { PluginRegistry } from '../../src/plugin/registry.js';
import { validateExperiment } from '../../src/spec/validate.js';
import { ROOT } from '../helpers.js';

const files = readdirSync(join(ROOT, 'experiments')).filter((f) => f.endsWith('.ts') && !f.startsWith('.'));

describe('shipped experiments', () => {
  it.each(files)('%s validates', async (file) => {
    const path = join(ROOT, 'experiments', file);
    const spec = (await import(pathToFileURL(path).href)).default;
    const configs = validateExperiment(spec, new PluginRegistry(builtinPlugins), path);
    expect(configs.length).toBeGreaterThan(0);
    expect(new Set(configs.map((c) => c.runId)).size).toBe(configs.length);
  });
});
