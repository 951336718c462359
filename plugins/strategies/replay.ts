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

  /** Equal share per label: old labels give up entries to make room for new ones. */
  private addBalanced(data: TrainingSet): void {
    const byLabel = new Map<number, { source: 'buffer' | 'new'; i: number }[]>();
    this.labels.forEach((l, i) => byLabel.set(l, [...(byLabel.get(l) ?? []), { source: 'buffer', i }]));
    for (const i of this.rng.permutation(data.count)) {
      const l = data.labels[i];
      const list = byLabel.get(l) ?? [];
      list.push({ source: 'new', i });
      byLabel.set(l, list);
    }
    const quota = Math.floor(this.capacity / byLabel.size);
    const keep = [...byLabel.entries()].sort((a, b) => a[0] - b[0]).flatMap(([, list]) => list.slice(0, quota));
    const old = { features: this.features.slice(), labels: [...this.labels], taskIds: [...this.taskIds] };
    this.labels = [];
    this.taskIds = [];
    keep.forEach((e, slot) => {
      if (e.source === 'new') this.put(slot, data, e.i);
      else {
        this.features.set(old.features.subarray(e.i * this.featureSize, (e.i + 1) * this.featureSize), slot * this.featureSize);
        this.labels[slot] = old.labels[e.i];
        this.taskIds[slot] = old.taskIds[e.i];
      }
    });
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
