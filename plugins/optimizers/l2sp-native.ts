// L2-SP's anchor pull on native TensorFlow as one fused kernel (src/native/)
// for all kept tensors, instead of a subtraction, a multiplication and an
// addition per tensor. The reference is l2sp.ts's rule; where the kernels are
// not loaded it runs.
import { fusedAnchorPull, tf } from '../../src/plugin-api.js';
import type { UpdateRule } from '../../src/contracts/optimizer.js';

/** UpdateRule.update for the anchor pull: the fused kernel where loaded, else `reference`. */
export function anchorPullNative(alpha: number, reference: UpdateRule['update']): UpdateRule['update'] {
  return (updates, state, ctx) => {
    const names = Object.keys(updates);
    const kernel = names.length ? fusedAnchorPull() : undefined;
    if (!kernel) return reference(updates, state, ctx);
    const out = kernel(
      names.map((n) => updates[n]),
      names.map((n) => ctx.params[n]),
      names.map((n) => ctx.anchor[n]),
      tf.scalar(alpha),
    );
    return { updates: Object.fromEntries(names.map((n, i) => [n, out[i]])), state: {} };
  };
}
