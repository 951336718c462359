import type { Tensor, Variable } from '../tensor/tf.js';
import type { LayerSpec } from './layers.js';
import type { Snapshot } from './snapshot.js';

/**
 * A model is a set of named parameters and a pure forward function. Names
 * follow PyTorch's convention ("fc1.weight", "fc1.bias"); the memory layout
 * is whatever is fastest on TensorFlow.js (a dense kernel is [in, out]), and
 * `rowAxis` says which axis indexes output units — "a row" in the sense of
 * the anchored optimizers' per-row projections.
 */
export interface Model {
  readonly params: ReadonlyMap<string, Variable>;
  /**
   * Parameters initialised fresh for this run while the rest came from a
   * pre-trained model (a new head). Anchored methods leave them unconstrained
   * by default. Absent or empty: every parameter's initial value is its anchor.
   */
  readonly fresh?: ReadonlySet<string>;
  /**
   * Where its weights came from: a path to pre-trained weights (what the methods that learn on a frozen pre-trained
   * backbone require), absent for a model initialised at random.
   */
  readonly pretrained?: string;
  /**
   * Tensors the forward pass keeps besides the parameters — batch norm's
   * running statistics — updated only by a training forward pass, never by
   * the optimizer; saved with the model and in checkpoints.
   */
  readonly buffers?: ReadonlyMap<string, Variable>;
  /** Axis of each parameter that indexes output units (0 for a bias). */
  readonly rowAxis: Readonly<Record<string, number>>;
  /**
   * Logits for a batch of flattened examples [batch, featureSize]. `training`:
   * dropout drops units and batch norm normalises with the batch's statistics
   * and updates its running ones; otherwise neither (evaluation, and the
   * Fisher information or teacher outputs strategies compute).
   */
  forward(x: Tensor, training: boolean): Tensor;
  /**
   * The same function with other parameter values (differentiable in them):
   * what TPGM-style methods need to score projected weights. Optional for
   * models that only train.
   */
  apply?(params: Readonly<Record<string, Tensor>>, x: Tensor, training: boolean): Tensor;
  /**
   * The representation the last layer reads ([batch, dim]): what iCaRL's
   * nearest-mean-of-exemplars classifier and herding work on. `params`: with
   * other parameter values, as `apply` (APER's frozen pre-trained backbone beside
   * the adapted one); batch norm then keeps its running statistics.
   */
  features?(x: Tensor, training: boolean, params?: Readonly<Record<string, Tensor>>): Tensor;
  /**
   * What a checkpoint needs besides the parameters for the next training
   * step to be exact: the buffers' values and the dropout draws made so far.
   */
  snapshot?(): Snapshot;
  restore?(saved: Snapshot): void;
  /**
   * The layer graph: what saving it as a Layers model, or training several
   * runs as one stacked model, needs. `input`: the model's deterministic
   * input transform (rows in, rows out; normalize), which `forward` applies
   * before the layers and a stacked pass must apply itself.
   */
  readonly architecture?: { layers: readonly LayerSpec[]; inputShape: readonly number[]; input?(x: Tensor): Tensor };
  /** Plain-language summary, e.g. "mlp 784-400-400-10 relu (478,410 parameters)". */
  describe(): string;
  dispose(): void;
}
