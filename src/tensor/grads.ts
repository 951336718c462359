// tf.variableGrads that frees the tape when its function throws. For the
// backward pass tfjs keeps a clone of every tensor an op saves while the tape
// records; the backward pass frees them. When the forward function throws
// (a strategy's loss with a bug, a shape error in a plugin) no backward pass
// comes and tfjs 4.22 keeps those clones for good: about one per op of the
// step, every failed run (21 tensors for a small MLP).
import { tf } from './tf.js';

interface TapeState {
  gradientDepth: number;
  activeTape: { saved?: tf.Tensor[] }[] | null;
}

export function variableGrads(
  f: () => tf.Scalar,
  vars?: tf.Variable[],
): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  try {
    return tf.variableGrads(f, vars);
  } catch (e) {
    freeAbandonedTape();
    throw e;
  }
}

function freeAbandonedTape(): void {
  const state = (tf.engine() as unknown as { state: TapeState }).state;
  // Within an outer gradient computation the tape is still that one's.
  if (state.gradientDepth !== 0 || !state.activeTape) return;
  for (const node of state.activeTape) for (const t of node.saved ?? []) t.dispose();
  state.activeTape = null;
}
