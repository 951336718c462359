#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so that neither anchorage nor a user's
// experiment module needs a build step. The project's tsconfig is used for
// every file (it enables the decorators inversify needs), whatever the cwd.
import { fileURLToPath } from 'node:url';
import { register as registerHooks } from 'node:module';
import { register } from 'tsx/esm/api';

// A reader that stops early (`anchorage plugins | head -1`) closes the pipe: that is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
// After tsx, so that these run first: 'anchorage' is this installation, and a .ts module outside any package is ESM.
registerHooks('./module-hooks.mjs', import.meta.url);
// Node ends a process whose top-level await never settles with code 13 and no
// word of why; here that can only be an experiment or plugin module that never finishes loading.
let finished = false;
process.on('exit', (code) => {
  if ((code === 13 || process.exitCode === 13) && !finished) {
    process.stderr.write(
      'anchorage: the command never finished: a module it loaded (the experiment, or a plugin module) has a ' +
        'top-level await that never settles\n',
    );
    process.exitCode = 2;
  }
});
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
finished = true;
