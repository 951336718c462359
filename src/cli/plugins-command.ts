import { builtinPlugins } from '../../plugins/index.js';
import { PLUGIN_KINDS } from '../plugin/kinds.js';
import { PluginRegistry, loadPluginModule } from '../plugin/registry.js';
import { resolve } from 'node:path';
import type { CliIO } from './io.js';

/** Lists every registered plugin by kind with its options, allowed values and defaults. */
export async function pluginsCommand(args: { load?: string[]; json: boolean }, io: CliIO): Promise<number> {
  const registry = new PluginRegistry(builtinPlugins);
  for (const spec of args.load ?? []) {
    const target = spec.startsWith('.') || spec.startsWith('/') ? resolve(spec) : spec;
    for (const def of await loadPluginModule(target)) registry.register(def, spec);
  }
  if (args.json) {
    const list = registry.list().map((p) => ({
      kind: p.kind,
      name: p.name,
      description: p.description,
      options: Object.fromEntries(Object.entries(p.options).map(([k, f]) => [k, { type: f.allowed, default: f.default ?? null, description: f.description }])),
    }));
    io.out(JSON.stringify(list, null, 2) + '\n');
    return 0;
  }
  for (const kind of PLUGIN_KINDS) {
    io.out(`${kind}:\n`);
    for (const name of registry.names(kind)) {
      const p = registry.get(kind, name);
      io.out(`  ${name} — ${p.description}\n`);
      for (const [key, f] of Object.entries(p.options)) {
        const def = f.default === undefined ? 'required' : `default ${JSON.stringify(f.default)}`;
        io.out(`      ${key}: ${f.allowed} (${def}) — ${f.description}\n`);
      }
    }
  }
  return 0;
}
