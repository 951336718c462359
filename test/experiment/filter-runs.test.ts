// `--only axis=value[,value…]`: the runs of a sweep a user asks for, by the
// names the results tables use, and a clear error for a filter that names
// no axis, no value, or matches nothing.
import { describe, expect, it } from 'vitest';
import { filterRuns } from '../../src/experiment/filter-runs.js';
import { UserError } from '../../src/errors.js';
import { TINY_SPEC, tinyConfigs } from '../helpers.js';

const { optimizer: _fixed, ...base } = TINY_SPEC;
const { configs } = tinyConfigs(
  {
    ...base,
    axes: {
      strategy: [{ name: 'naive' }, { name: 'ewc', lambda: 5 }, { name: 'replay', size: 20 }],
      scenario: ['task-il', 'class-il'],
      optimizer: [
        { name: 'adamw', lr: 0.01 },
        { name: 'sgd', lr: 0.1 },
      ],
    },
  },
  [0, 1],
);
const describeRun = (r: (typeof configs)[number]) =>
  `${r.variant.strategy}/${r.scenario}/${r.components.optimizer.name}/${r.seed}`;

describe('filterRuns (--only)', () => {
  it('keeps the runs whose axis takes one of the listed values, every filter at once, in the sweep order', () => {
    expect(configs).toHaveLength(24);
    const kept = filterRuns(configs, ['strategy=naive,ewc', 'scenario=class-il', 'seed=1']);
    expect(kept.map(describeRun)).toEqual(
      configs
        .filter((r) => ['naive', 'ewc'].includes(r.variant.strategy) && r.scenario === 'class-il' && r.seed === 1)
        .map(describeRun),
    );
    expect(kept).toHaveLength(4);
    expect(filterRuns(configs, ['optimizer=sgd']).every((r) => r.components.optimizer.name === 'sgd')).toBe(true);
    expect(filterRuns(configs, ['optimizer=sgd'])).toHaveLength(12);
  });

  it('matches a memory strategy by its name or by its label with the memory size', () => {
    const byName = filterRuns(configs, ['strategy=replay']);
    expect(byName).toHaveLength(8);
    expect(filterRuns(configs, ['strategy=replay(20)']).map((r) => r.runId)).toEqual(byName.map((r) => r.runId));
  });

  it(
    'names the problem: a malformed filter, an unknown axis, ' + 'a value no run has, filters that exclude each other',
    () => {
      expect(() => filterRuns(configs, ['strategy'])).toThrow(/--only: 'strategy' is not axis=value/);
      expect(() => filterRuns(configs, ['colour=red'])).toThrow(
        /no axis 'colour'; filter on one of seed, scenario, strategy, dataset/,
      );
      expect(() => filterRuns(configs, ['strategy=ewk'])).toThrow(
        /no run has 'ewk'; its runs have ewc, naive, replay, replay\(20\)/,
      );
      expect(() => filterRuns(configs, ['seed=0', 'seed=1'])).toThrow(/no run matches every filter at once/);
      expect(() => filterRuns(configs, ['seed=7'])).toThrow(UserError);
    },
  );
});
