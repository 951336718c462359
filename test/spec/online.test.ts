// The experiment's `online` section and continual evaluation's settings,
// through the experiment validator: what is accepted, and each bad value
// reported under its field before anything is built.
import { describe, expect, it } from 'vitest';
import { TINY_SPEC, problemsOf, tinyConfigs } from '../helpers.js';

const ONLINE = { ...TINY_SPEC, train: { batchSize: 10 }, online: { boundaries: 'hidden' } };

describe('online and continual-evaluation settings', () => {
  it('resolves online and eval.every, and leaves runs without them as they were', () => {
    const { configs } = tinyConfigs({ ...ONLINE, eval: { every: { examples: 50 }, subset: 20 } });
    expect(configs[0].online).toEqual({ boundaries: 'hidden', transition: 0 });
    expect(configs[0].eval.continual).toEqual({ every: 50, unit: 'examples', subset: 20 });
    expect(tinyConfigs({ ...TINY_SPEC, eval: { every: 7 } }).configs[0].eval.continual).toEqual({
      every: 7,
      unit: 'steps',
      subset: 0,
    });
    const plain = tinyConfigs(TINY_SPEC).configs[0];
    expect(plain.online).toBeUndefined();
    expect(plain.eval.continual).toBeUndefined();
    // Neither joins the run's identity unless given.
    expect(plain.runId).toBe(tinyConfigs({ ...TINY_SPEC, eval: {} }).configs[0].runId);
    expect(tinyConfigs({ ...TINY_SPEC, eval: { every: 7 } }).configs[0].runId).not.toBe(plain.runId);
  });

  it('refuses an evaluation interval of 0 or below, a subset without an interval, and other shapes', () => {
    expect(problemsOf({ ...TINY_SPEC, eval: { every: 0 } })['eval.every']).toMatch(/integer >= 1, got 0/);
    expect(problemsOf({ ...TINY_SPEC, eval: { every: { steps: -3 } } })['eval.every.steps']).toMatch(/got -3/);
    expect(problemsOf({ ...TINY_SPEC, eval: { every: { epochs: 1 } } })['eval.every']).toMatch(/\{ examples: N \}/);
    expect(problemsOf({ ...TINY_SPEC, eval: { subset: 10 } })['eval.subset']).toMatch(/set eval.every too/);
    expect(problemsOf({ ...TINY_SPEC, eval: { every: 5, subset: 0 } })['eval.subset']).toMatch(/integer >= 1/);
  });

  it('refuses settings one pass over the stream cannot have', () => {
    const p = problemsOf({ ...ONLINE, train: { batchSize: 10, epochs: 3 }, online: { boundaries: 'sideways' } });
    expect(p['train.epochs']).toMatch(/sees each example once; got 3/);
    expect(p['online.boundaries']).toMatch(/"given" \| "hidden"/);
    expect(problemsOf({ ...ONLINE, online: { transition: 100 } })['online.transition']).toMatch(
      /needs boundaries: 'hidden'/,
    );
    expect(problemsOf({ ...ONLINE, online: { boundaries: 'hidden', transition: -1 } })['online.transition']).toMatch(
      /integer >= 0/,
    );
  });

  it('refuses a strategy that needs boundaries on a stream that hides them, naming the strategy and the stream', () => {
    const p = problemsOf({ ...ONLINE, strategies: [{ name: 'replay', fill: 'online' }, { name: 'ewc' }] });
    expect(Object.keys(p)).toEqual(['strategies[1]']);
    expect(p['strategies[1]']).toMatch(/strategy 'ewc' needs task boundaries, which stream 'split' with online/);
    expect(problemsOf({ ...ONLINE, strategy: { name: 'replay' } }).strategy).toMatch(/fill: 'online' needs no/);
    expect(problemsOf({ ...ONLINE, strategy: { name: 'mir', from: 'earlier-tasks' } }).strategy).toMatch(
      /from: 'earlier-tasks' needs task boundaries/,
    );
    expect(
      problemsOf({ ...ONLINE, strategy: { name: 'replay', memoryLoss: 'separate' } })['strategy.memoryLoss'],
    ).toMatch(/applies to fill: 'online'/);
    for (const name of ['naive', 'der', 'derpp', 'er-ace', 'mir', 'gss'])
      expect(tinyConfigs({ ...ONLINE, strategy: { name } }).configs).toHaveLength(1);
    // With boundaries given, every strategy may run online.
    expect(tinyConfigs({ ...ONLINE, online: {}, strategy: { name: 'ewc' } }).configs[0].online).toEqual({
      boundaries: 'given',
      transition: 0,
    });
  });
});
