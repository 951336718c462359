import { UserError } from '../errors.js';
import { pathToFileURL } from 'node:url';
import { importUserModule, thrownMessage } from '../user-modules.js';
import type { AnyPluginDefinition, PluginDefinition } from './define-plugin.js';
import { PLUGIN_KINDS, type PluginKind } from './kinds.js';

export class UnknownPluginError extends Error {}

/** Every plugin this process knows, by kind and name. */
export class PluginRegistry {
  private readonly byKind = new Map<PluginKind, Map<string, PluginDefinition>>();

  constructor(definitions: readonly AnyPluginDefinition[] = []) {
    for (const def of definitions) this.register(def);
  }

  register(def: AnyPluginDefinition, source = 'built-in'): void {
    if (!PLUGIN_KINDS.includes(def.kind)) {
      throw new Error(
        `plugin '${def.name}' from ${source} has unknown kind '${String(def.kind)}'; kinds: ${PLUGIN_KINDS.join(', ')}`,
      );
    }
    const named = this.byKind.get(def.kind) ?? new Map<string, PluginDefinition>();
    const existing = named.get(def.name);
    if (existing && existing !== def) {
      throw new Error(
        `a ${def.kind} plugin named '${def.name}' is already registered; ${source} must use another name`,
      );
    }
    named.set(def.name, def as PluginDefinition);
    this.byKind.set(def.kind, named);
  }

  has(kind: PluginKind, name: string): boolean {
    return this.byKind.get(kind)?.has(name) ?? false;
  }

  get<K extends PluginKind>(kind: K, name: string): PluginDefinition<K> {
    const def = this.byKind.get(kind)?.get(name);
    if (!def)
      throw new UnknownPluginError(`unknown ${kind} '${name}'; registered: ${this.names(kind).join(', ') || '(none)'}`);
    return def as unknown as PluginDefinition<K>;
  }

  names(kind: PluginKind): string[] {
    return [...(this.byKind.get(kind)?.keys() ?? [])].sort();
  }

  list(): PluginDefinition[] {
    return PLUGIN_KINDS.flatMap((k) => this.names(k).map((n) => this.byKind.get(k)!.get(n)!));
  }
}

function isPluginDefinition(x: unknown): x is PluginDefinition {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as PluginDefinition).create === 'function' &&
    typeof (x as PluginDefinition).kind === 'string' &&
    typeof (x as PluginDefinition).name === 'string'
  );
}

/** A plugin module that cannot be imported: the user's to fix. */
export class PluginLoadError extends UserError {}

/**
 * Imports a user's plugin module (a .ts/.js path or a package name) and
 * returns every plugin definition it exports (default export, named exports,
 * or arrays of them).
 */
export async function loadPluginModule(specifier: string): Promise<PluginDefinition[]> {
  const target = specifier.startsWith('/') ? pathToFileURL(specifier).href : specifier;
  let mod: Record<string, unknown>;
  try {
    mod = await importUserModule(target);
  } catch (e) {
    throw new PluginLoadError(`cannot load plugin module '${specifier}': ${thrownMessage(e).split('\n')[0]}`);
  }
  const found: PluginDefinition[] = [];
  for (const value of Object.values(mod)) {
    for (const v of Array.isArray(value) ? value : [value])
      if (isPluginDefinition(v) && !found.includes(v)) found.push(v);
  }
  if (found.length === 0)
    throw new Error(`plugin module '${specifier}' exports no plugin (use definePlugin and export the result)`);
  return found;
}
