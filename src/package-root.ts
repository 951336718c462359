import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * anchorage's own package folder: the nearest folder above this module that holds a package.json. The same whether
 * this module runs from source (src/) or from the built package (dist/src/), which is why paths to the CLI, the
 * module hooks or the native sources are taken from here and never counted in `../` from a module.
 */
export function packageRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`anchorage: no package.json above ${from}`);
  }
}

/** The CLI's entry point, for the processes anchorage starts itself (shard workers, the native build's check). */
export function cliPath(): string {
  return join(packageRoot(), 'bin', 'anchorage.js');
}
