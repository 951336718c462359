import { builtinPlugins } from '../../plugins/index.js';
import { PLUGIN_KINDS } from '../plugin/kinds.js';
import { PluginRegistry, loadPluginModule } from '../plugin/registry.js';
import { resolve } from 'node:path';
import type { CliIO } from './io.js';
import type { Field } from '../plugin/options.js';
import { scheduleCatalogue } from '../optim/schedules.js';

function defaultOf(f: Field<unknown>): unknown {
  return typeof f.default === 'function' ? (f.defaultText ?? 'computed') : (f.default ?? null);
}

function optionLine(key: string, f: Field<unknown>): string {
  const def =
    f.default === undefined
      ? 'required'
      : `default ${typeof f.default === 'function' ? f.defaultText : JSON.stringify(f.default)}`;
  return `      ${key}: ${f.allowed} (${def}) — ${f.description}\n`;
}

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
      options: Object.fromEntries(
        Object.entries(p.options).map(([k, f]) => [
          k,
          { type: f.allowed, default: defaultOf(f), description: f.description },
        ]),
      ),
    }));
    const schedules = scheduleCatalogue().map((k) => ({
      kind: 'schedule',
      name: k.name,
      description: k.description,
      convention: k.convention,
      options: Object.fromEntries(
        Object.entries(k.options).map(([key, f]) => [
          key,
          { type: f.allowed, default: defaultOf(f), description: f.description },
        ]),
      ),
    }));
    io.out(JSON.stringify([...list, ...schedules], null, 2) + '\n');
    return 0;
  }
  for (const kind of PLUGIN_KINDS) {
    io.out(`${kind}:\n`);
    for (const name of registry.names(kind)) {
      const p = registry.get(kind, name);
      io.out(`  ${name} — ${p.description}\n`);
      for (const [key, f] of Object.entries(p.options)) io.out(optionLine(key, f));
    }
  }
  io.out(`schedules (any optimizer's lr or weightDecay: a number, or { schedule: name, ...options }):\n`);
  for (const k of scheduleCatalogue()) {
    io.out(`  ${k.name} — ${k.description}; as ${k.convention}\n`);
    for (const [key, f] of Object.entries(k.options)) io.out(optionLine(key, f));
  }
  return 0;
}
