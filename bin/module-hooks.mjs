// Module hooks for users' modules (registered by src/user-modules.ts before the
// first one is imported), so that an experiment or plugin module loads wherever
// the user keeps it:
// - `import ... from 'anchorage'` always means this installation (one copy of
//   anchorage and of TensorFlow.js per process, whether or not the user's
//   project has anchorage in its own node_modules);
// - a .ts file outside any package that says "type" is an ES module (the
//   experiment modules are), not CommonJS.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The URL of the anchorage entry the registering process runs (dist/src/index.js, or src/index.ts from source). */
let entry;

export async function initialize(data) {
  entry = data.entry;
}

/** The "type" of the nearest package.json above a file, or undefined when none says. */
function packageType(file) {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        return JSON.parse(readFileSync(pkg, 'utf8')).type;
      } catch {
        return undefined;
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

export async function resolve(specifier, context, next) {
  if (specifier === 'anchorage') return { url: entry, shortCircuit: true, format: 'module' };
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (url.startsWith('file:') && /\.ts$/.test(new URL(url).pathname) && packageType(fileURLToPath(url)) === undefined) {
    return next(url, { ...context, format: 'module' });
  }
  return next(url, context);
}
