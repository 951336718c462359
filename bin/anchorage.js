#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so that neither anchorage nor a user's
// experiment module needs a build step. The project's tsconfig is used for
// every file (it enables the decorators inversify needs), whatever the cwd.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

// A reader that stops early (`anchorage plugins | head -1`) closes the pipe: that is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
