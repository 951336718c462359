// Sharding a sweep whose runs train together (`--workers N --together K`):
// whole groups go to one process, the shards together are the sweep, and
// load is balanced by planned steps, halving a group where that helps.
import { describe, expect, it } from 'vitest';
import { shardOfPlan, type TogetherPlan } from '../../src/together/plan.js';
import { TINY_SPEC, tinyConfigs } from '../helpers.js';

const { configs } = tinyConfigs(
  { ...TINY_SPEC, axes: { strategy: [{ name: 'naive' }, { name: 'ewc', lambda: 5 }, { name: 'si' }] } },
  [0, 1, 2, 3],
);
const ids = (runs: { runId: string }[]) => runs.map((r) => r.runId);
const planOf = (groups: number[][], steps: (i: number) => number[] = () => [10, 10]): TogetherPlan => ({
  groups: groups.map((g) => g.map((i) => configs[i])),
  notes: [],
  steps: new Map(configs.map((c, i) => [c.runId, steps(i)])),
});
const shards = (plan: TogetherPlan, count: number, runs = configs) =>
  Array.from({ length: count }, (_, i) => ids(shardOfPlan(runs, plan, count, i)));

describe('shardOfPlan', () => {
  it(
    'deals out whole groups and runs alone; the shards are ' +
      'disjoint, their union is the sweep, each in sweep order',
    () => {
      expect(configs).toHaveLength(12);
      const plan = planOf([
        [0, 1, 2],
        [3, 4, 5],
        [6, 7],
      ]);
      const dealt = shards(plan, 2);
      expect(dealt.flat().sort()).toEqual(ids(configs).sort());
      for (const shard of dealt) expect(shard).toEqual(ids(configs).filter((id) => shard.includes(id)));
      for (const group of plan.groups)
        expect(dealt.some((shard) => ids(group).every((id) => shard.includes(id)))).toBe(true);
      // 3 + 3 + 2 runs grouped, 4 alone: 6 runs' steps on each shard.
      expect(dealt.map((s) => s.length)).toEqual([6, 6]);
    },
  );

  it('halves a group when one process would otherwise train it while the other idles', () => {
    const six = configs.slice(0, 6);
    const dealt = shards(planOf([[0, 1, 2, 3, 4, 5]]), 2, six);
    expect(dealt).toEqual([ids(six.slice(0, 3)), ids(six.slice(3))]);
    // Groups of 3 no longer halve (halves of 2 and 1 could not shorten the longest shard below 3 runs).
    expect(
      shards(
        planOf([
          [0, 1, 2],
          [3, 4, 5],
          [6, 7, 8],
          [9, 10, 11],
        ]),
        2,
      ).map((s) => s.length),
    ).toEqual([6, 6]);
  });

  it('balances by planned steps, not by counts of runs', () => {
    // Run 0 alone is as long as the other eleven together.
    const dealt = shards(
      planOf([], (i) => (i === 0 ? [55, 55] : [5, 5])),
      2,
    );
    expect(dealt[0]).toEqual([configs[0].runId]);
    expect(dealt[1]).toHaveLength(11);
  });

  it('one shard takes the whole sweep', () => {
    expect(shards(planOf([[0, 1, 2, 3]]), 1)[0]).toEqual(ids(configs));
  });
});
