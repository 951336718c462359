// TensorFlow's oneDNN notice kept off standard error: the filter itself, and a run of a convolutional model from the
// command line (oneDNN on by default there) whose stderr carries no notice. The run needs native TensorFlow with the
// stdio guard built; elsewhere it is skipped with the reason.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withoutNotice } from '../../src/native/quiet-load.js';
import { nativeBuild } from '../../src/native/load.js';
import { STDIO_ADDON } from '../../src/native/cache.js';
import { TINY_SPEC, runCli, scratchDir, writeExperiment } from '../helpers.js';

const NOTICE =
  'I0000 00:00:1796587493.723285   23479 port.cc:153] oneDNN custom operations are on. You may see slightly ' +
  'different numerical results due to floating-point round-off errors from different computation orders.\n';
const PREAMBLE = 'WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n';

describe('the oneDNN notice', () => {
  it('is taken out of what TensorFlow printed at load, and every other line kept in order', () => {
    const other = 'W0000 00:00:1796587493.7 cpu_feature_guard.cc:12] something else\n';
    expect(withoutNotice(`${PREAMBLE}${NOTICE}${other}last line without newline`)).toBe(
      `${other}last line without newline`,
    );
    expect(withoutNotice('')).toBe('');
  });

  const backend = process.env.ANCHORAGE_BACKEND ?? 'auto';
  const entry = nativeBuild().entry;
  const skip =
    backend === 'wasm'
      ? 'the notice is native TensorFlow’s; this suite runs on wasm'
      : !entry
        ? 'no native TensorFlow build in the cache'
        : !existsSync(join(entry.dir, STDIO_ADDON))
          ? `the native build in ${entry.dir} has no stdio guard (run \`anchorage setup native\` again)`
          : undefined;
  it.skipIf(skip)(
    `does not reach stderr when a run of a CNN turns oneDNN on${skip ? ` (skipped: ${skip})` : ''}`,
    () => {
      const dir = scratchDir('onednn-quiet');
      const out = join(dir, 'results');
      const spec = {
        ...TINY_SPEC,
        name: 'onednn',
        dataset: {
          name: 'synthetic',
          classes: 4,
          features: 12,
          imageShape: [2, 2, 3],
          trainPerClass: 10,
          testPerClass: 5,
        },
        model: { name: 'cnn', channels: [4], hidden: 8 },
      };
      const r = runCli(['run', writeExperiment(dir, spec), '--out', out, '--backend', 'tensorflow', '--quiet']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/oneDNN|absl::InitializeLog/);
      const [runDir] = readdirSync(join(out, 'onednn')).filter((d) => !d.startsWith('.'));
      const record = JSON.parse(readFileSync(join(out, 'onednn', runDir, 'run.json'), 'utf8'));
      expect(record.backend.settings.oneDNN).toBe('on');
    },
  );
});
