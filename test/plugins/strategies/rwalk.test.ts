// RWalk's and EWC++'s options out of range are refused under their field, before anything is built.
import { describe, expect, it } from 'vitest';
import { TINY_SPEC, problemsOf } from '../../helpers.js';

describe('rwalk and ewcpp options', () => {
  it('refuses α outside [0, 1), ε ≤ 0 and λ < 0, naming each field', () => {
    const p = problemsOf({ ...TINY_SPEC, strategy: { name: 'rwalk', alpha: 1, epsilon: 0, lambda: -1 } });
    expect(p['strategy.alpha']).toMatch(/>= 0 and < 1, got 1/);
    expect(p['strategy.epsilon']).toMatch(/> 0, got 0/);
    expect(p['strategy.lambda']).toMatch(/>= 0, got -1/);
    expect(problemsOf({ ...TINY_SPEC, strategy: { name: 'ewcpp', alpha: -0.5 } })['strategy.alpha']).toMatch(
      /got -0.5/,
    );
  });
});
