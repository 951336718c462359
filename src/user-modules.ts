import { register } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from './package-root.js';

/**
 * Node's module loader is one per process, so the hooks are registered once per process, on the first user module
 * imported: commands that load none (compare, report, setup) never start a TypeScript compiler.
 */
let registered: Promise<void> | undefined;

/**
 * Registers what a user's experiment or plugin module needs to load wherever it lives: tsx compiles TypeScript on the
 * fly (no build step on the user's side), and anchorage's module hooks make `import 'anchorage'` mean this
 * installation and a .ts file outside any package an ES module (bin/module-hooks.mjs).
 */
function registerUserModuleHooks(): Promise<void> {
  registered ??= (async () => {
    const root = packageRoot();
    const { register: registerTsx } = await import('tsx/esm/api');
    // The options anchorage's own modules are compiled with (decorators, ES2022), for every user module alike.
    registerTsx({ tsconfig: join(root, 'tsconfig.modules.json') });
    // After tsx, so that these hooks run first. The entry is the copy of anchorage this process runs: one copy of
    // anchorage and of TensorFlow.js per process.
    const entry = new URL(import.meta.url.endsWith('.ts') ? './index.ts' : './index.js', import.meta.url).href;
    register(pathToFileURL(join(root, 'bin', 'module-hooks.mjs')), { data: { entry } });
  })();
  return registered;
}

/**
 * Imports a user's module (a file URL or a package name) with the hooks above in place. A module that ends the
 * process while it loads (`process.exit(0)` at its top level) would end the command with nothing done and nothing
 * said: the command says so and exits 2.
 */
export async function importUserModule(specifier: string): Promise<Record<string, unknown>> {
  await registerUserModuleHooks();
  const exitedWhileLoading = (code: number) => {
    process.stderr.write(
      `anchorage: ${specifier} ended the process (exit code ${code}) while it loaded; nothing ran\n`,
    );
    process.exitCode = 2;
  };
  process.once('exit', exitedWhileLoading);
  try {
    return (await import(specifier)) as Record<string, unknown>;
  } finally {
    process.removeListener('exit', exitedWhileLoading);
  }
}

/** A thrown value's message, whatever was thrown (`throw 42` included). */
export function thrownMessage(e: unknown): string {
  return e instanceof Error ? e.message : `it threw ${typeof e === 'string' ? JSON.stringify(e) : String(e)}`;
}
