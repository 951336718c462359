// `compare` grouping by configuration: each configuration reads as its id and the settings it differs in.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { compareRuns } from '../../src/report/compare.js';
import { TINY_SPEC, runCli, scratchDir, writeExperiment } from '../helpers.js';

describe('compare --by config', () => {
  it('labels each configuration with the settings that tell it from the others of its group', () => {
    const dir = scratchDir('compare-config');
    const out = join(dir, 'results');
    const spec = {
      ...TINY_SPEC,
      name: 'sweep',
      axes: { strategy: [{ name: 'rwalk', lambda: 1 }, { name: 'rwalk', lambda: 100 }, { name: 'naive' }] },
    };
    expect(runCli(['run', writeExperiment(dir, spec), '--out', out, '--quiet']).code).toBe(0);
    const { groups } = compareRuns(join(out, 'sweep'), ['strategy', 'config']);
    const labels = groups.map((g) => `${g.key.strategy}: ${g.key.config}`).sort();
    expect(labels).toHaveLength(3);
    // Fine-tuning is the only configuration of its strategy: its id alone.
    expect(labels[0]).toMatch(/^naive: [0-9a-f]{8}$/);
    // The two RWalk settings differ in λ alone, which is all their labels name.
    expect(labels[1]).toMatch(/^rwalk: [0-9a-f]{8} strategies\[0\]\.lambda=1$/);
    expect(labels[2]).toMatch(/^rwalk: [0-9a-f]{8} strategies\[0\]\.lambda=100$/);
  });
});
