// The README's experiment, taken from the page itself: it is a valid experiment, and the bad-input example it shows
// is what the CLI prints for those mistakes.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runCli, scratchDir } from '../helpers.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const experiment = /```ts\n\/\/ my-experiment\.ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
const shown = /```\n(anchorage: \/home\/you\/my-experiment\.ts: [\s\S]*?)```/.exec(readme)?.[1] ?? '';

describe('the README', () => {
  it('its experiment runs as written (one step per task, one seed, one optimizer)', () => {
    expect(experiment).toContain('defineExperiment');
    const dir = scratchDir('readme');
    writeFileSync(join(dir, 'my-experiment.ts'), experiment);
    const args = ['--steps', '1', '--seeds', '0', '--only', 'optimizer=ftp', '--quiet', '--out', join(dir, 'results')];
    const r = runCli(['run', join(dir, 'my-experiment.ts'), ...args], { timeout: 600_000 });
    expect(r.code, r.stderr).toBe(0);
    const compared = runCli(['compare', join(dir, 'results', 'ftp-vs-adamw'), '--by', 'optimizer', '--format', 'json']);
    expect(JSON.parse(compared.stdout).groups).toHaveLength(1);
  }, 600_000);

  it('its bad-input example is what the CLI says: exit 2, every problem with its field path', () => {
    expect(shown).not.toBe('');
    const dir = scratchDir('readme-bad');
    const broken = experiment
      .replace(
        "{ name: 'ftp', lr: 1e-3, anchor: 'task-start', k: 1 }",
        "{ name: 'ftp', lr: 1e-3, anchor: 'task-start', k: 1.5 }",
      )
      .replace("model: { name: 'mlp'", "model: { name: 'mlpp'");
    expect(broken).toContain('k: 1.5');
    expect(broken).toContain("'mlpp'");
    writeFileSync(join(dir, 'my-experiment.ts'), broken);
    const r = runCli(['run', 'my-experiment.ts', '--out', join(dir, 'results')], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.replaceAll(dir, '/home/you')).toBe(shown);
  });
});
