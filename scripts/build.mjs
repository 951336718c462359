// `npm run build`: compiles src/ and the built-in plugins to dist/ (declarations included) and copies the files the
// compiler does not emit: the native kernels' C++ sources and the C sources of the stdio guard and the library pages'
// release (the native build compiles them from the installed package) and the vendored tfjs gradients (JavaScript
// with hand-written declarations).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const ASSETS = [
  'src/native/row_kernels.cc',
  'src/native/byte_rows.cc',
  'src/native/stdio_guard.c',
  'src/native/library_pages.c',
  'src/tensor/vendor/tfjs-gradients.js',
  'src/tensor/vendor/tfjs-gradients.d.ts',
];

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const built = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);
for (const file of ASSETS) {
  const to = join(root, 'dist', file);
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(join(root, file), to);
}
