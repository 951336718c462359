// Problems that must stop an experiment before any training, with the user's
// own message and exit 2 — never after hours of training, never hidden
// behind an internal error.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TINY_SPEC, runCli, scratchDir, writeExperiment } from '../helpers.js';

describe('bad input found before training', () => {
  it("a plugin that fails after making tensors is reported with its own message, not as a preflight leak", () => {
    const dir = scratchDir('leak');
    writeFileSync(
      join(dir, 'picky.ts'),
      `import { definePlugin, tf } from 'anchorage';
export default definePlugin({
  kind: 'optimizer',
  name: 'picky',
  description: 'makes a tensor, then rejects the model',
  options: {},
  create() {
    const kept = tf.keep(tf.zeros([3]));
    void kept;
    throw new Error('weights of shape [3] do not fit fc1.kernel [16, 32]');
  },
});
`,
    );
    const file = writeExperiment(dir, { ...TINY_SPEC, plugins: ['./picky.ts'], optimizer: { name: 'picky' } });
    const r = runCli(['run', file, '--out', join(dir, 'results')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/1 problem:\n\s+optimizer: weights of shape \[3\] do not fit fc1\.kernel \[16, 32\]/);
    expect(r.stderr).not.toMatch(/leaked/);
    expect(existsSync(join(dir, 'results'))).toBe(false);
  });

  it('an unwritable results folder stops the experiment before the first step', () => {
    const dir = scratchDir('unwritable');
    const file = writeExperiment(dir, TINY_SPEC);
    writeFileSync(join(dir, 'taken'), 'a file where the results folder should be');
    for (const [out, why] of [
      [join(dir, 'taken'), /results folder .*taken is not a writable folder: .*taken is a file/],
      [join(dir, 'taken', 'results'), /is not a writable folder: .*taken is a file/],
      [join(dir, 'x'.repeat(300)), /is longer than 255 bytes/],
    ] as const) {
      const r = runCli(['run', file, '--out', out]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(why);
      expect(r.stdout).not.toMatch(/backend:/); // nothing started
    }
    expect(readdirSync(dir).sort()).toEqual(['experiment.ts', 'taken']);
  });
});
