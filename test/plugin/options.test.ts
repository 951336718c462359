import { describe, expect, it } from 'vitest';
import { o, resolveOptions } from '../../src/plugin/options.js';

const schema = {
  lr: o.number({ description: 'learning rate', default: 1e-3, min: 0, exclusiveMin: true }),
  k: o.number({ description: 'annealing', default: 1, min: 0, max: 1 }),
  steps: o.integer({ description: 'steps', min: 1 }),
  mode: o.enum(['a', 'b'], { description: 'mode', default: 'a' }),
  hidden: o.numbers({ description: 'widths', default: [4], integer: true, min: 1 }),
  names: o.strings({ description: 'names', default: [] }),
  flag: o.boolean({ description: 'flag', default: false }),
};

describe('option schemas', () => {
  it('fills defaults and keeps given values', () => {
    const { options, problems } = resolveOptions(schema, { steps: 3, mode: 'b' }, 'optimizer');
    expect(problems).toEqual([]);
    expect(options).toEqual({ lr: 1e-3, k: 1, steps: 3, mode: 'b', hidden: [4], names: [], flag: false });
  });

  it('reports every problem with its field path', () => {
    const { problems } = resolveOptions(
      schema,
      { lr: -1, k: 2, mode: 'c', hidden: [4, 0.5], names: [1], flag: 'yes', extra: 1 },
      'optimizer',
    );
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p.message]));
    expect(byPath['optimizer.lr']).toMatch(/> 0, got -1/);
    expect(byPath['optimizer.k']).toMatch(/<= 1, got 2/);
    expect(byPath['optimizer.steps']).toMatch(/required/);
    expect(byPath['optimizer.mode']).toMatch(/one of "a" \| "b", got string "c"/);
    expect(byPath['optimizer.hidden[1]']).toMatch(/integer/);
    expect(byPath['optimizer.names[0]']).toMatch(/string/);
    expect(byPath['optimizer.flag']).toMatch(/true or false/);
    expect(byPath['optimizer.extra']).toMatch(/unknown option; allowed: lr, k, steps/);
    expect(problems).toHaveLength(8);
  });

  it('rejects a wrong type instead of coercing it', () => {
    const { problems } = resolveOptions(schema, { steps: '3' }, 'x');
    expect(problems).toEqual([{ path: 'x.steps', message: 'must be an integer >= 1, got string "3"' }]);
  });

  it('does not share default arrays between resolutions', () => {
    const a = resolveOptions(schema, { steps: 1 }, 'x').options;
    a.hidden.push(9);
    expect(resolveOptions(schema, { steps: 1 }, 'x').options.hidden).toEqual([4]);
  });
});
