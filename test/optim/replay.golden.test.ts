// Golden traces recorded from the FTP authors' reference code (and torch's
// AdamW): every step, every tensor within 1e-4 relative error.
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { builtinPlugins } from '../../plugins/index.js';
import { PluginRegistry } from '../../src/plugin/registry.js';
import { readTrace, relativeError, replayTrace } from '../../src/optim/replay.js';
import { selectBackend } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import { ROOT } from '../helpers.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'golden');
// The shared traces too, when the checkout has them, so a newly recorded trace is tested without a copy.
const SHARED = join(ROOT, '..', 'shared', 'golden');
const traces = [
  ...readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .map((f) => join(FIXTURES, f)),
  ...(existsSync(SHARED)
    ? readdirSync(SHARED)
        .filter((f) => f.endsWith('.json') && !existsSync(join(FIXTURES, f)))
        .map((f) => join(SHARED, f))
    : []),
];

beforeAll(async () => {
  await selectBackend('auto');
});

describe('golden optimizer traces', () => {
  it('has the traces of adamw, adamw+ftp and sgd+ftp', () => {
    const kinds = traces.map((t) => readTrace(t).optimizer);
    expect(kinds).toEqual(expect.arrayContaining(['adamw', 'adamw+ftp', 'sgd+ftp']));
  });

  for (const path of traces) {
    it(`reproduces ${path.split('/').slice(-1)[0]} at every step to 1e-4`, async () => {
      const trace = readTrace(path);
      const before = tf.memory().numTensors;
      const result = await replayTrace(trace, new PluginRegistry(builtinPlugins));
      expect(tf.memory().numTensors).toBe(before);
      expect(result.steps).toHaveLength(trace.steps.length);
      let worst = 0;
      trace.steps.forEach((step, i) => {
        for (const [name, expected] of Object.entries(step.expected ?? {})) {
          const err = relativeError(result.steps[i].params[name], expected);
          worst = Math.max(worst, err);
          if (err > 1e-4) throw new Error(`step ${i + 1}, ${name}: relative error ${err.toExponential(3)}`);
        }
      });
      expect(worst).toBeLessThanOrEqual(1e-4);
    });
  }
});
