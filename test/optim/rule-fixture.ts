// Runs an update rule step by step outside a run, reading each step's updates back: what the rule tests compare.
import { tf } from '../../src/tensor/tf.js';
import type { NamedTensors, OptimizerState, StepContext, UpdateRule } from '../../src/contracts/optimizer.js';

/**
 * Runs `rule` for the given gradients (one per step, every parameter the same value) and returns the updates of each
 * step, read back.
 */
export function runRule(
  rule: UpdateRule,
  params: Record<string, number[]>,
  grads: number[][],
): { updates: Record<string, number[]>[]; slots: string[] } {
  const p: NamedTensors = Object.fromEntries(Object.entries(params).map(([n, v]) => [n, tf.tensor1d(v)]));
  let state: OptimizerState = rule.init(p);
  const slots = Object.entries(state)
    .flatMap(([slot, named]) => Object.keys(named).map((n) => `${slot}/${n}`))
    .sort();
  const updates: Record<string, number[]>[] = [];
  grads.forEach((g, i) => {
    const ctx: StepContext = {
      step: i + 1,
      taskStep: i + 1,
      taskSteps: grads.length,
      anchorStep: i + 1,
      params: p,
      rawGrads: {},
      anchor: {},
      rowAxis: {},
    };
    const r = rule.update(
      Object.fromEntries(Object.keys(params).map((n, j) => [n, tf.fill([params[n].length], g[j] ?? g[0])])),
      state,
      ctx,
    );
    state = r.state;
    updates.push(Object.fromEntries(Object.entries(r.updates).map(([n, t]) => [n, Array.from(t.dataSync())])));
  });
  return { updates, slots };
}
