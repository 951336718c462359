#!/usr/bin/env -S node --max-semi-space-size=2
// V8's young generation held to 2 MiB per semi-space (its default grows to 16): TensorFlow.js makes many short-lived
// objects per step, and the larger nursery kept ~70 MiB more resident for no speed (docs/performance.md, Memory).
// src/cli/run-command.ts starts its workers with the same flag (V8 reads it only when a process starts).
// The CLI: the compiled package (dist/, `npm run build`; `npm ci` builds it in a checkout). No TypeScript loader
// starts here — one is registered only when a user's experiment or plugin module is imported (src/user-modules.ts).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// A reader that stops early (`anchorage plugins | head -1`) closes the pipe: that is not an error. A worker whose
// parent died (its pipes closed with it) writes into the void instead: it must stop its runs cleanly, not vanish.
const worker = Boolean(process.env.ANCHORAGE_PARENT_PID);
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE' && worker) return;
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write(
    `anchorage: the package is not built (no ${fileURLToPath(entry)}): run \`npm run build\` in ` +
      `${fileURLToPath(new URL('..', import.meta.url))}\n`,
  );
  process.exit(2);
}
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
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
finished = true;
