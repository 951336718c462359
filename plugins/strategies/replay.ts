// Experience replay: a buffer of stored training examples, a batch of which
// is mixed into every training step of later tasks ("exact replay" in Hsu et
// al., 2018; van de Ven & Tolias' "replay of stored data").
import { definePlugin } from '../../src/plugin/define-plugin.js';
import { o, type OptionsInput } from '../../src/plugin/options.js';
import { tf } from '../../src/tensor/tf.js';
import type { Rng } from '../../src/tensor/rng.js';
import type { TrainingSet } from '../../src/contracts/strategy.js';

const options = {
  size: o.integer({ description: 'examples kept in the buffer', default: 1000, min: 1 }),
  policy: o.enum(['reservoir', 'class-balanced'], {
    description: "'reservoir': a uniform sample of every example seen; 'class-balanced': an equal share per label",
    default: 'reservoir',
  }),
  batchSize: o.integer({ description: 'replayed examples added to each batch (0: the training batch size)', default: 0, min: 0 }),
};

declare module '../../src/plugin/kinds.js' {
  interface StrategyPlugins {
    replay: OptionsInput<typeof options>;
  }
}

/** The buffer, on the host: entries are copies of training examples with their label and task. */
export class ReplayBuffer {
  features = new Float32Array(0);
  labels: number[] = [];
  taskIds: number[] = [];
  private seen = 0;
  private readonly seenPerLabel = new Map<number, number>();
  private featureSize = 0;

  constructor(
    readonly capacity: number,
    readonly policy: 'reservoir' | 'class-balanced',
    private readonly rng: Rng,
  ) {}

  get count(): number {
    return this.labels.length;
  }

  private row(data: TrainingSet, i: number): Float32Array {
    return data.features.subarray(i * this.featureSize, (i + 1) * this.featureSize);
  }

  add(data: TrainingSet): void {
    if (data.count === 0) return;
    this.featureSize = data.features.length / data.count;
    if (this.features.length === 0) this.features = new Float32Array(this.capacity * this.featureSize);
    if (this.policy === 'reservoir') this.addReservoir(data);
    else this.addBalanced(data);
  }

  private put(slot: number, data: TrainingSet, i: number): void {
    this.features.set(this.row(data, i), slot * this.featureSize);
    this.labels[slot] = data.labels[i];
    this.taskIds[slot] = data.taskIds[i];
  }

  /** Vitter's algorithm R over the stream of examples, in a seeded order. */
  private addReservoir(data: TrainingSet): void {
    for (const i of this.rng.permutation(data.count)) {
      this.seen += 1;
      if (this.count < this.capacity) this.put(this.count, data, i);
      else {
        const j = this.rng.int(this.seen);
        if (j < this.capacity) this.put(j, data, i);
      }
    }
  }

  /**
   * Equal share per label, and within a label a uniform sample of every
   * example of it seen so far (a reservoir per label): old labels give up
   * entries to new ones, and in domain-IL, where every task has the same
   * labels, later tasks still get their share.
   */
  private addBalanced(data: TrainingSet): void {
    const entries = new Map<number, { features: Float32Array; label: number; task: number }[]>();
    this.labels.forEach((l, i) => {
      const list = entries.get(l) ?? [];
      list.push({ features: this.features.slice(i * this.featureSize, (i + 1) * this.featureSize), label: l, task: this.taskIds[i] });
      entries.set(l, list);
    });
    for (const l of new Set(data.labels)) if (!entries.has(l)) entries.set(l, []);
    const quota = Math.floor(this.capacity / entries.size);
    for (const [label, list] of entries) {
      // Shrink to the new quota by a uniform random subsample.
      while (list.length > quota) list.splice(this.rng.int(list.length), 1);
      entries.set(label, list);
    }
    for (const i of this.rng.permutation(data.count)) {
      const label = data.labels[i];
      const seen = (this.seenPerLabel.get(label) ?? 0) + 1;
      this.seenPerLabel.set(label, seen);
      const list = entries.get(label)!;
      const entry = { features: this.row(data, i).slice(), label, task: data.taskIds[i] };
      if (list.length < quota) list.push(entry);
      else {
        const j = this.rng.int(seen);
        if (j < quota) list[j] = entry;
      }
    }
    this.labels = [];
    this.taskIds = [];
    let slot = 0;
    for (const label of [...entries.keys()].sort((a, b) => a - b)) {
      for (const e of entries.get(label)!) {
        this.features.set(e.features, slot * this.featureSize);
        this.labels[slot] = e.label;
        this.taskIds[slot] = e.task;
        slot += 1;
      }
    }
  }
}

export default definePlugin({
  kind: 'strategy',
  name: 'replay',
  description: 'a buffer of stored examples (reservoir or class-balanced) mixed into every batch of later tasks',
  options,
  create(opts, ctx) {
    const buffer = new ReplayBuffer(opts.size, opts.policy, ctx.rng('buffer'));
    const sampling = ctx.rng('replay-batches');
    let device: { x: tf.Tensor2D; y: tf.Tensor1D; ids: tf.Tensor1D; order: tf.Tensor2D } | undefined;
    let perStep = 0;
    const release = () => {
      if (device) tf.dispose([device.x, device.y, device.ids, device.order]);
      device = undefined;
    };
    return {
      name: 'replay',
      onTaskStart({ steps, batchSize }) {
        release();
        if (buffer.count === 0 || steps === 0) return;
        perStep = Math.min(opts.batchSize || batchSize, buffer.count);
        const size = buffer.features.length / buffer.capacity;
        // Every step's replay indices drawn now, uploaded once: steps only slice.
        const order = new Int32Array(steps * perStep);
        for (let i = 0; i < order.length; i++) order[i] = sampling.int(buffer.count);
        device = {
          x: tf.tensor2d(buffer.features.subarray(0, buffer.count * size), [buffer.count, size]),
          y: tf.tensor1d(buffer.labels, 'int32'),
          ids: tf.tensor1d(buffer.taskIds, 'int32'),
          order: tf.tensor2d(order, [steps, perStep], 'int32'),
        };
      },
      extraBatch(step) {
        if (!device) return undefined;
        const idx = tf.reshape(tf.slice(device.order, [step - 1, 0], [1, perStep]), [perStep]);
        return { x: tf.gather(device.x, idx), y: tf.gather(device.y, idx), taskIds: tf.gather(device.ids, idx) };
      },
      onTaskEnd({ trained }) {
        release();
        buffer.add(trained);
      },
      dispose: release,
    };
  },
});
