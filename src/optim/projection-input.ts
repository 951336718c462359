// What a projection receives: the tentative weights (Projection.project), or
// the base rule's updates to add to ctx.params (Projection.projectStep), so
// that one implementation serves both.
import { tf } from '../tensor/tf.js';
import type { NamedTensors, StepContext } from '../contracts/optimizer.js';

export type ProjectionInput = { readonly tentative: NamedTensors } | { readonly updates: NamedTensors };

/** The names of the parameters to project. */
export function inputNames(from: ProjectionInput): string[] {
  return Object.keys('tentative' in from ? from.tentative : from.updates);
}

/** A parameter's tentative weights: given, or formed as ctx.params + updates (for paths that do not fuse the add). */
export function tentativeOf(from: ProjectionInput, name: string, ctx: StepContext): tf.Tensor {
  return 'tentative' in from ? from.tentative[name] : tf.add(ctx.params[name], from.updates[name]);
}

/**
 * For a kernel that forms the sum in its own pass: what it adds to (the tentative weights, or ctx.params) and,
 * from updates, the updates.
 */
export function fusedInput(
  from: ProjectionInput,
  names: readonly string[],
  ctx: StepContext,
): { base: tf.Tensor[]; updates?: tf.Tensor[] } {
  if ('tentative' in from) return { base: names.map((n) => from.tentative[n]) };
  return { base: names.map((n) => ctx.params[n]), updates: names.map((n) => from.updates[n]) };
}
