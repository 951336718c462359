// RWalk's and EWC++'s options out of range are refused under their field, before anything is built.
import { describe, expect, it } from 'vitest';
import { TINY_SPEC, problemsOf, tinyConfigs } from '../../helpers.js';

describe('rwalk and ewcpp options', () => {
  it('refuses α outside (0, 1], ε ≤ 0, λ < 0 and Δt below 1 or fractional, naming each field', () => {
    const p = problemsOf({
      ...TINY_SPEC,
      strategy: { name: 'rwalk', alpha: 0, epsilon: 0, lambda: -1, interval: 0 },
    });
    expect(p['strategy.alpha']).toMatch(/> 0 and <= 1, got 0/);
    expect(p['strategy.epsilon']).toMatch(/> 0, got 0/);
    expect(p['strategy.lambda']).toMatch(/>= 0, got -1/);
    expect(p['strategy.interval']).toMatch(/got 0/);
    expect(problemsOf({ ...TINY_SPEC, strategy: { name: 'rwalk', interval: 2.5 } })['strategy.interval']).toMatch(
      /integer/,
    );
    expect(problemsOf({ ...TINY_SPEC, strategy: { name: 'rwalk', normalize: 'yes' } })['strategy.normalize']).toMatch(
      /true or false/,
    );
    expect(problemsOf({ ...TINY_SPEC, strategy: { name: 'ewcpp', alpha: 1.5 } })['strategy.alpha']).toMatch(/got 1.5/);
    // α = 1 (only the newest squared gradient) is allowed.
    expect(tinyConfigs({ ...TINY_SPEC, strategy: { name: 'rwalk', alpha: 1 } }).configs).toHaveLength(1);
  });
});
