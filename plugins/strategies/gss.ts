// GSS-greedy — Gradient-based Sample Selection (Aljundi et al., NeurIPS
// 2019), the greedy variant of their Algorithm 2. Each incoming example is
// scored c = 1 + max cosine similarity of its gradient with the gradients of
// `candidates` random memory rows (1 while the memory is empty). While the
// memory is not full it is added with its score; once full, an example with
// c < 1 may replace a stored row i drawn with probability C_i / Σ C, with
// probability C_i / (C_i + c) — so the memory keeps gradient-diverse rows.
// Replay is a uniform memory batch joining each step's mean cross-entropy
// (as Mammoth's gss.py trains). All on the backend: the host draws the
// random numbers before the task and reads nothing back. No boundaries.
import {
  definePlugin,
  o,
  requireReservoirMemory,
  type OptionsInput,
  type Rng,
  tf,
  cosineSimilarities,
  exampleGradients,
  parameterList,
  type ParameterList,
} from '../../src/plugin-api.js';
import type { Snapshot } from '../../src/contracts/snapshot.js';
import type { StepBatch, StrategyState } from '../../src/contracts/strategy.js';
import { featureSize } from '../../src/contracts/data.js';

const options = {
  size: o.integer({ description: 'examples kept in the memory', default: 500, min: 1 }),
  batchSize: o.integer({
    description: 'memory rows replayed per step (0: the training batch size)',
    default: 0,
    min: 0,
  }),
  candidates: o.integer({
    description: "memory rows whose gradients each step's examples are compared with",
    default: 10,
    min: 1,
  }),
};

declare module '../../src/plugin/kinds.js' {
  interface StrategyPlugins {
    gss: OptionsInput<typeof options>;
  }
}

/** What the host decides for one task before it trains: per step and row, a slot to fill or a draw to make. */
interface Plan {
  /** Per step: rows in memory before it. */
  filledBefore: number[];
  /** Per step and row: the free slot it fills, or -1: it competes for a stored row. */
  fills: Int32Array[];
  /** The same on the backend, [steps, batch] ([1] slices taken in the step: nothing uploaded there). */
  slots: tf.Tensor2D;
  /** [1]: the row that takes what is not kept. */
  trash: tf.Tensor1D;
  /** [steps, batch, 2]: the uniforms of the competition (which stored row, whether it is replaced). */
  uniforms: tf.Tensor3D;
  /** [steps, candidates] and [steps, replayed] row indices into the memory. */
  compare: tf.Tensor2D;
  replay: tf.Tensor2D;
}

/** The GSS-greedy memory on the backend (exported for its tests). */
export class GssMemory {
  private seen = 0;
  private plan?: Plan;

  constructor(
    readonly capacity: number,
    private readonly candidates: number,
    private readonly rng: Rng,
  ) {}

  initialState(size: number): Record<string, tf.Tensor> {
    const rows = this.capacity + 1; // the last row takes what is not kept
    return {
      x: tf.zeros([rows, size]),
      labels: tf.zeros([rows], 'int32'),
      taskIds: tf.zeros([rows], 'int32'),
      scores: tf.zeros([rows]),
    };
  }

  planTask(steps: number, batchSize: number, rowsAt: (step: number) => number, replayed: number): void {
    this.dispose();
    const n = Math.max(steps, 1);
    const filledBefore: number[] = [];
    const fills: Int32Array[] = [];
    const uniforms = new Float32Array(n * batchSize * 2);
    const compare = new Int32Array(n * this.candidates);
    const replay = new Int32Array(n * replayed);
    const draw = (filled: number, m: number, out: Int32Array, at: number) => {
      if (filled >= m) this.rng.distinct(filled, m, out, at);
      else for (let k = 0; k < m; k++) out[at + k] = this.rng.int(filled);
    };
    for (let s = 0; s < steps; s++) {
      const filled = Math.min(this.seen, this.capacity);
      filledBefore.push(filled);
      if (filled > 0) {
        draw(filled, this.candidates, compare, s * this.candidates);
        draw(filled, replayed, replay, s * replayed);
      }
      const rows = rowsAt(s + 1);
      const fill = new Int32Array(rows).fill(-1);
      for (let r = 0; r < rows; r++) {
        if (this.seen < this.capacity) fill[r] = this.seen;
        this.seen += 1;
        uniforms[(s * batchSize + r) * 2] = this.rng.next();
        uniforms[(s * batchSize + r) * 2 + 1] = this.rng.next();
      }
      fills.push(fill);
    }
    this.plan = {
      filledBefore,
      fills,
      slots: tf.tensor2d(
        Int32Array.from({ length: n * batchSize }, (_, i) => fills[Math.floor(i / batchSize)]?.[i % batchSize] ?? -1),
        [n, batchSize],
        'int32',
      ),
      trash: tf.tensor1d([this.capacity], 'int32'),
      uniforms: tf.tensor3d(uniforms, [n, batchSize, 2]),
      compare: tf.tensor2d(compare, [n, this.candidates], 'int32'),
      replay: tf.tensor2d(replay, [n, replayed], 'int32'),
    };
  }

  /** The uniform replay batch of `step` (inside the step), or undefined while the memory is empty. */
  sample(step: number, state: StrategyState): { x: tf.Tensor; labels: tf.Tensor; taskIds: tf.Tensor } | undefined {
    const plan = this.plan!;
    if (plan.filledBefore[step - 1] === 0) return undefined;
    const m = plan.replay.shape[1];
    const idx = tf.reshape(tf.slice(plan.replay, [step - 1, 0], [1, m]), [m]);
    return { x: tf.gather(state.x, idx), labels: tf.gather(state.labels, idx), taskIds: tf.gather(state.taskIds, idx) };
  }

  /** The memory after the step's examples competed for it (inside the step, after the optimizer step). */
  insert(batch: StepBatch, state: StrategyState, params: ParameterList): Record<string, tf.Tensor> {
    const plan = this.plan!;
    const s = batch.step - 1;
    const scores = this.scoresOf(batch, state, params, plan.filledBefore[s] > 0 ? s : -1);
    const u = tf.reshape(tf.slice(plan.uniforms, [s, 0, 0], [1, batch.size, 2]), [batch.size, 2]);
    let { x, labels, taskIds, scores: stored } = state;
    for (let r = 0; r < batch.size; r++) {
      const c = tf.slice(scores, [r], [1]);
      const fill = plan.fills[s][r];
      const slot =
        fill >= 0
          ? tf.reshape(tf.slice(plan.slots, [s, r], [1, 1]), [1])
          : this.competition(stored, c, tf.slice(u, [r, 0], [1, 2]), plan.trash);
      const at = tf.reshape(slot, [1, 1]);
      x = tf.tensorScatterUpdate(x, at, tf.slice(batch.x, [r, 0], [1, -1]));
      labels = tf.tensorScatterUpdate(labels, at, tf.slice(batch.labels, [r], [1]));
      taskIds = tf.tensorScatterUpdate(taskIds, at, tf.slice(batch.taskIds, [r], [1]));
      stored = tf.tensorScatterUpdate(stored, at, c);
    }
    return { x, labels, taskIds, scores: stored };
  }

  /** c = 1 + max cosine similarity of each incoming gradient with the compared memory rows' (1 with none). */
  private scoresOf(batch: StepBatch, state: StrategyState, params: ParameterList, step: number): tf.Tensor {
    if (step < 0) return tf.ones([batch.size]);
    const idx = tf.reshape(tf.slice(this.plan!.compare, [step, 0], [1, this.candidates]), [this.candidates]);
    const stored = exampleGradients(params, tf.gather(state.x, idx), tf.gather(state.labels, idx));
    const incoming = exampleGradients(params, batch.x, batch.labels);
    return tf.add(tf.max(cosineSimilarities(incoming, stored), 1), 1);
  }

  /** The stored row an example of score `c` replaces (drawn ∝ C_i, kept with probability C_i/(C_i + c)), or trash. */
  private competition(stored: tf.Tensor, c: tf.Tensor, u: tf.Tensor, trash: tf.Tensor1D): tf.Tensor {
    const scores = tf.slice(stored, [0], [this.capacity]);
    const cumulative = tf.cumsum(scores);
    const total = tf.slice(cumulative, [this.capacity - 1], [1]);
    const [pick, keep] = tf.split(tf.reshape(u, [2]), 2);
    const below = tf.sum(tf.cast(tf.less(cumulative, tf.mul(pick, total)), 'int32'));
    const i = tf.minimum(below, tf.scalar(this.capacity - 1, 'int32'));
    const ci = tf.gather(scores, tf.reshape(i, [1]));
    const replace = tf.logicalAnd(tf.less(c, 1), tf.less(keep, tf.div(ci, tf.add(ci, c))));
    return tf.where(replace, tf.reshape(i, [1]), trash);
  }

  snapshot(): Snapshot {
    return { capacity: this.capacity, seen: this.seen, rng: this.rng.state() };
  }

  restore(s: Snapshot): void {
    if (s.capacity !== this.capacity)
      throw new Error(`GSS memory snapshot of capacity ${JSON.stringify(s.capacity)} does not fit ${this.capacity}`);
    this.seen = s.seen as number;
    this.rng.setState(s.rng as number[]);
  }

  dispose(): void {
    if (this.plan)
      tf.dispose([this.plan.uniforms, this.plan.compare, this.plan.replay, this.plan.slots, this.plan.trash]);
    this.plan = undefined;
  }
}

export default definePlugin({
  kind: 'strategy',
  name: 'gss',
  description: 'a memory of gradient-diverse examples (GSS-greedy), replayed in every batch',
  options,
  taskFree: true,
  async create(opts, ctx) {
    const stream = await ctx.resolve('stream');
    const size = featureSize(stream.featureShape);
    requireReservoirMemory('size', opts.size, size, 1);
    const memory = new GssMemory(opts.size, opts.candidates, ctx.rng('memory'));
    let params: ParameterList | undefined;
    return {
      name: 'gss',
      onTaskStart({ task, model }) {
        params = parameterList(model);
        return task.index === 0 ? { state: memory.initialState(size) } : undefined;
      },
      onTrainingStart({ steps, batchSize, rowsAt }) {
        memory.planTask(steps, batchSize, rowsAt, opts.batchSize || batchSize);
      },
      composeBatch(batch, state) {
        const drawn = memory.sample(batch.step, state);
        return drawn ? { rows: drawn } : undefined;
      },
      afterStep: ({ batch, state }) => memory.insert(batch, state, params!),
      checkpoint: () => ({ memory: memory.snapshot() }),
      restore(s) {
        memory.restore(s.memory as Snapshot);
      },
      dispose: () => memory.dispose(),
    };
  },
});
