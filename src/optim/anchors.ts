import { tf } from '../tensor/tf.js';
import type { AnchorKind, NamedTensors } from '../contracts/optimizer.js';

/**
 * The one place anchors live (never inside optimizer state): `initial` is the
 * point the run started from (the pre-trained weights when there are any),
 * `task-start` the weights when the current task began, `zeros` the origin.
 */
export class AnchorStore {
  private readonly anchors = new Map<AnchorKind, NamedTensors>();

  /** Records a snapshot (copies, kept outside any tidy) and frees the previous one. */
  snapshot(kind: Exclude<AnchorKind, 'zeros'>, params: ReadonlyMap<string, tf.Tensor>): void {
    const copy: NamedTensors = {};
    for (const [name, p] of params) copy[name] = tf.keep(tf.clone(p));
    this.release(kind);
    this.anchors.set(kind, copy);
  }

  /**
   * Sets some parameters' anchors (copies), keeping the others': how an
   * optimizer that trains a subset (one phase of several) loads its part.
   */
  merge(kind: Exclude<AnchorKind, 'zeros'>, params: ReadonlyMap<string, tf.Tensor>): void {
    const record = this.anchors.get(kind) ?? {};
    for (const [name, p] of params) {
      record[name]?.dispose();
      record[name] = tf.keep(tf.clone(p));
    }
    this.anchors.set(kind, record);
  }

  get(kind: AnchorKind, params: ReadonlyMap<string, tf.Tensor>): NamedTensors {
    if (kind === 'zeros') {
      // Optimizers of different phases ask with different parameter sets: each name gets its zeros once.
      const zeros = this.anchors.get('zeros') ?? {};
      for (const [name, p] of params) if (!(name in zeros)) zeros[name] = tf.keep(tf.zerosLike(p));
      this.anchors.set('zeros', zeros);
    }
    const anchor = this.anchors.get(kind);
    if (!anchor) throw new Error(`anchor '${kind}' has not been recorded yet`);
    return anchor;
  }

  /** The recorded snapshots (not the implicit zeros), for saving. */
  recorded(): [Exclude<AnchorKind, 'zeros'>, NamedTensors][] {
    return [...this.anchors.entries()].filter(([k]) => k !== 'zeros') as [Exclude<AnchorKind, 'zeros'>, NamedTensors][];
  }

  private release(kind: AnchorKind): void {
    const old = this.anchors.get(kind);
    if (old) for (const t of Object.values(old)) t.dispose();
    this.anchors.delete(kind);
  }

  dispose(): void {
    for (const kind of [...this.anchors.keys()]) this.release(kind);
  }
}
