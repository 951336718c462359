import type { ResolvedComponent } from './spec.js';

/**
 * How a run's strategies read in tables and ids: names in order joined by
 * '+', each memory's size in parentheses (`derpp(500)`, `replay(200)+ewc`),
 * since the buffer size is the axis papers report methods by.
 */
export function strategyLabel(strategies: readonly ResolvedComponent[]): string {
  if (strategies.length === 0) return 'naive';
  return strategies
    .map((s) => (typeof s.options.size === 'number' ? `${s.name}(${s.options.size})` : s.name))
    .join('+');
}
