// SPD's projection on native TensorFlow as one fused kernel (src/native/):
// every constrained tensor's offsets, the three sums per tensor (‖c‖², ‖c_prev‖²,
// g ⊙ c_prev) and the pull in two passes, instead of about twenty ops per
// tensor. The reference is spd.ts's projection; where the kernels are not
// loaded it runs.
import { fusedSpd, tf } from '../../src/plugin-api.js';
import type { Projection } from '../../src/contracts/optimizer.js';

/** Projection.project for SPD: the fused kernel where loaded, else `reference`. */
export function spdNativeProject(lambda: number, reference: Projection['project']): Projection['project'] {
  return (tentative, state, ctx) => {
    const names = Object.keys(tentative);
    const kernel = names.length ? fusedSpd() : undefined;
    if (!kernel) return reference(tentative, state, ctx);
    const out = kernel(
      names.map((n) => tentative[n]),
      names.map((n) => ctx.params[n]),
      names.map((n) => ctx.anchor[n]),
      names.map((n) => ctx.rawGrads[n]),
      tf.scalar(lambda),
    );
    return { params: Object.fromEntries(names.map((n, i) => [n, out[i]])), state: {} };
  };
}
