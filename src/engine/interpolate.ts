// WiSE-FT (Wortsman et al., 2022): the weight-space interpolation between the
// run's anchor (the model it started from) and its final weights.
import { tf } from '../tensor/tf.js';
import type { Model } from '../contracts/model.js';

/**
 * For each α, the parameters become (1 − α)·anchor + α·final (the products
 * in that order, so α = 0 gives the anchor and α = 1 the final weights bit
 * for bit), `score` evaluates, and the final weights come back. Parameters
 * without an anchor (a fresh head) keep their final value; buffers (batch
 * norm's statistics) keep the final model's.
 */
export async function evaluateInterpolations(
  alphas: readonly number[],
  model: Model,
  anchor: Readonly<Record<string, tf.Tensor>>,
  score: (alpha: number) => Promise<void>,
): Promise<void> {
  const final = new Map([...model.params].map(([name, v]) => [name, tf.clone(v)]));
  try {
    for (const alpha of alphas) {
      for (const [name, v] of model.params) {
        if (model.fresh?.has(name)) continue;
        tf.tidy(() => v.assign(tf.add(tf.mul(anchor[name], 1 - alpha), tf.mul(final.get(name)!, alpha))));
      }
      await score(alpha);
    }
  } finally {
    for (const [name, v] of model.params) v.assign(final.get(name)!);
    tf.dispose([...final.values()]);
  }
}
