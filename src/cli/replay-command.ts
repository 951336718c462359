import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from './exit-codes.js';
import { builtinPlugins } from '../../plugins/index.js';
import { PluginRegistry } from '../plugin/registry.js';
import { readTrace, relativeError, replayTrace } from '../optim/replay.js';
import { selectBackend, type BackendChoice } from '../tensor/backend.js';
import type { CliIO } from './io.js';

export interface ReplayArgs {
  trace: string;
  out: string;
  backend: BackendChoice;
}

/**
 * Replays an optimizer trace through the real plugins; reports the worst relative error when the trace has
 * expectations.
 */
export async function replayCommand(args: ReplayArgs, io: CliIO): Promise<number> {
  if (resolve(args.out) === resolve(args.trace))
    throw new UsageError(`--out ${args.out} is the trace itself; name another file`);
  const trace = readTrace(args.trace);
  const backend = await selectBackend(args.backend);
  const result = await replayTrace(trace, new PluginRegistry(builtinPlugins));
  writeFileSync(args.out, JSON.stringify(result) + '\n');
  let worst = 0;
  let where = '';
  trace.steps.forEach((s, i) => {
    for (const [name, expected] of Object.entries(s.expected ?? {})) {
      const e = relativeError(result.steps[i].params[name], expected);
      if (e > worst) [worst, where] = [e, `step ${i + 1}, ${name}`];
    }
  });
  io.out(`replayed ${trace.steps.length} steps of ${trace.optimizer} on ${backend.name}; wrote ${args.out}\n`);
  if (trace.steps.some((s) => s.expected))
    io.out(`max relative error vs expected: ${worst.toExponential(2)}${where ? ` (${where})` : ''}\n`);
  return 0;
}
