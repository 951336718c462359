// The end-to-end tests run the CLI as a user does, from the compiled package: it is brought up to date with the
// sources once, before any test file starts (an incremental build, seconds when nothing changed).
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

export default function buildPackage(): void {
  const root = resolve(import.meta.dirname, '..');
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}${r.stderr}`);
}
