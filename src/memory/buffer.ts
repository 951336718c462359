// Episodic memory on the host: stored training examples with their label and
// task, filled by a storage policy. Every memory-based strategy (replay,
// A-GEM, GEM, iCaRL, GDumb) keeps its examples in one of these; user plugins
// use it the same way (it is exported from 'anchorage').
import type { TrainingSet } from '../contracts/strategy.js';
import { commonFeatures, copyFeatures, type FeatureArray } from '../contracts/data.js';
import type { Rng } from '../tensor/rng.js';
import { herdingOrder } from './herding.js';
import type { Snapshot } from '../contracts/snapshot.js';

export const STORAGE_POLICIES = ['reservoir', 'class-balanced', 'herding', 'greedy-balanced', 'per-task'] as const;
/**
 * - `reservoir`: a uniform sample of every example seen (Vitter's algorithm R);
 * - `class-balanced`: an equal share per label, a reservoir within each label;
 * - `herding`: an equal share per label, chosen by herding on the model's
 *   features (iCaRL); a label's list is a priority order, shrunk from its end;
 * - `greedy-balanced`: GDumb's greedy sampler (take while there is room, else
 *   evict a random example of the largest class when this one's class is under its share);
 * - `per-task`: an equal share per task, a uniform sample of each task (GEM).
 */
export type StoragePolicy = (typeof STORAGE_POLICIES)[number];

export interface MemoryEntry {
  /** Stored as the training set stored it (bytes stay bytes). */
  readonly features: FeatureArray;
  readonly label: number;
  readonly task: number;
}

export interface AddOptions {
  /**
   * Features of each new example under the current model ([count × dim],
   * row-major): what `herding` selects on. Required by that policy only.
   */
  embeddings?: { values: Float32Array; dim: number };
}

export class MemoryBuffer {
  private entries: MemoryEntry[] = [];
  private seen = 0;
  private readonly seenPerLabel = new Map<number, number>();

  constructor(
    readonly capacity: number,
    readonly policy: StoragePolicy,
    private readonly rng: Rng,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new Error(`memory capacity must be an integer >= 1, got ${capacity}`);
  }

  get count(): number {
    return this.entries.length;
  }

  /** The stored examples, in a stable order (by label for the per-label policies). */
  get all(): readonly MemoryEntry[] {
    return this.entries;
  }

  labels(): number[] {
    return [...new Set(this.entries.map((e) => e.label))].sort((a, b) => a - b);
  }

  /** The stored examples, counters and generator position, for a checkpoint. */
  snapshot(): Snapshot {
    const set = this.toTrainingSet();
    return {
      capacity: this.capacity,
      policy: this.policy,
      features: set.features,
      labels: set.labels,
      tasks: set.taskIds,
      seen: this.seen,
      seenPerLabel: [...this.seenPerLabel].flat(),
      rng: this.rng.state(),
    };
  }

  /** Replaces the contents with a `snapshot()` of a memory of the same capacity and policy. */
  restore(s: Snapshot): void {
    if (s.capacity !== this.capacity || s.policy !== this.policy)
      throw new Error(
        `memory snapshot of capacity ${JSON.stringify(s.capacity)} (${JSON.stringify(s.policy)}) ` +
          'does not fit a memory of ' +
          `${this.capacity} (${this.policy})`,
      );
    const labels = s.labels as Int32Array;
    const tasks = s.tasks as Int32Array;
    const features = s.features as FeatureArray;
    const size = labels.length ? features.length / labels.length : 0;
    this.entries = Array.from(labels, (label, i) => ({
      features: features.slice(i * size, (i + 1) * size),
      label,
      task: tasks[i],
    }));
    this.seen = s.seen as number;
    const pairs = s.seenPerLabel as number[];
    this.seenPerLabel.clear();
    for (let i = 0; i < pairs.length; i += 2) this.seenPerLabel.set(pairs[i], pairs[i + 1]);
    this.rng.setState(s.rng as number[]);
  }

  /** Adds the examples of a training set according to the policy. */
  add(data: TrainingSet, options: AddOptions = {}): void {
    if (data.count === 0) return;
    const size = data.features.length / data.count;
    const row = (i: number): MemoryEntry => ({
      features: data.features.slice(i * size, (i + 1) * size),
      label: data.labels[i],
      task: data.taskIds[i],
    });
    switch (this.policy) {
      case 'reservoir':
        return this.addReservoir(data.count, row);
      case 'class-balanced':
        return this.addBalanced(data, row);
      case 'herding':
        return this.addHerding(data, row, options);
      case 'greedy-balanced':
        return this.addGreedy(data, row);
      case 'per-task':
        return this.addPerTask(data, row);
    }
  }

  /** Vitter's algorithm R over the stream of examples, in a seeded order. */
  private addReservoir(count: number, row: (i: number) => MemoryEntry): void {
    for (const i of this.rng.permutation(count)) {
      this.seen += 1;
      if (this.entries.length < this.capacity) this.entries.push(row(i));
      else {
        const j = this.rng.int(this.seen);
        if (j < this.capacity) this.entries[j] = row(i);
      }
    }
  }

  private byLabel(extra: Iterable<number>): Map<number, MemoryEntry[]> {
    const groups = new Map<number, MemoryEntry[]>();
    for (const e of this.entries) {
      const list = groups.get(e.label) ?? [];
      list.push(e);
      groups.set(e.label, list);
    }
    for (const l of extra) if (!groups.has(l)) groups.set(l, []);
    return groups;
  }

  private setGrouped(groups: Map<number, MemoryEntry[]>): void {
    this.entries = [...groups.keys()].sort((a, b) => a - b).flatMap((l) => groups.get(l)!);
  }

  private quota(groups: number): number {
    const q = Math.floor(this.capacity / groups);
    if (q < 1)
      throw new Error(`a memory of ${this.capacity} examples cannot hold one example of each of ${groups} labels`);
    return q;
  }

  /**
   * Equal share per label, and within a label a uniform sample of every
   * example of it seen so far (a reservoir per label): old labels give up
   * entries to new ones, and in domain-IL, where every task has the same
   * labels, later tasks still get their share.
   */
  private addBalanced(data: TrainingSet, row: (i: number) => MemoryEntry): void {
    const groups = this.byLabel(data.labels);
    const quota = this.quota(groups.size);
    for (const list of groups.values()) while (list.length > quota) list.splice(this.rng.int(list.length), 1);
    for (const i of this.rng.permutation(data.count)) {
      const label = data.labels[i];
      const seen = (this.seenPerLabel.get(label) ?? 0) + 1;
      this.seenPerLabel.set(label, seen);
      const list = groups.get(label)!;
      if (list.length < quota) list.push(row(i));
      else {
        const j = this.rng.int(seen);
        if (j < quota) list[j] = row(i);
      }
    }
    this.setGrouped(groups);
  }

  /** iCaRL: old labels keep the head of their herding order; new labels are herded from their examples. */
  private addHerding(data: TrainingSet, row: (i: number) => MemoryEntry, options: AddOptions): void {
    const emb = options.embeddings;
    if (!emb || emb.values.length !== data.count * emb.dim)
      throw new Error('the herding policy needs the features of every new example (AddOptions.embeddings)');
    const groups = this.byLabel(data.labels);
    const quota = this.quota(groups.size);
    const fresh = new Map<number, number[]>();
    for (let i = 0; i < data.count; i++) {
      const l = data.labels[i];
      if (!fresh.has(l)) fresh.set(l, []);
      fresh.get(l)!.push(i);
    }
    for (const [label, list] of groups) {
      const rows = fresh.get(label);
      if (rows) {
        // A label met again (domain-IL) is herded anew from its new examples.
        const feats = new Float32Array(rows.length * emb.dim);
        rows.forEach((r, k) => feats.set(emb.values.subarray(r * emb.dim, (r + 1) * emb.dim), k * emb.dim));
        groups.set(
          label,
          herdingOrder(feats, emb.dim, Math.min(quota, rows.length)).map((k) => row(rows[k])),
        );
      } else list.splice(quota);
    }
    this.setGrouped(groups);
  }

  /** GDumb (Prabhu et al., 2020), its greedy class-balancing sampler, over a seeded order. */
  private addGreedy(data: TrainingSet, row: (i: number) => MemoryEntry): void {
    const counts = new Map<number, number>();
    for (const e of this.entries) counts.set(e.label, (counts.get(e.label) ?? 0) + 1);
    for (const i of this.rng.permutation(data.count)) {
      const label = data.labels[i];
      if (this.entries.length < this.capacity) {
        this.entries.push(row(i));
        counts.set(label, (counts.get(label) ?? 0) + 1);
        continue;
      }
      const classes = new Set([...counts.keys(), label]).size;
      if ((counts.get(label) ?? 0) >= this.capacity / classes) continue;
      let largest = -1;
      for (const [l, c] of counts)
        if (largest < 0 || c > counts.get(largest)! || (c === counts.get(largest)! && l < largest)) largest = l;
      const victims = this.entries.map((e, k) => (e.label === largest ? k : -1)).filter((k) => k >= 0);
      const victim = victims[this.rng.int(victims.length)];
      this.entries[victim] = row(i);
      counts.set(largest, counts.get(largest)! - 1);
      counts.set(label, (counts.get(label) ?? 0) + 1);
    }
    this.entries.sort((a, b) => a.label - b.label);
  }

  /** An equal share per task: earlier tasks give up a uniform part of theirs. */
  private addPerTask(data: TrainingSet, row: (i: number) => MemoryEntry): void {
    const groups = new Map<number, MemoryEntry[]>();
    for (const e of this.entries) groups.set(e.task, [...(groups.get(e.task) ?? []), e]);
    const tasks = new Set([...groups.keys(), ...data.taskIds]);
    const quota = Math.floor(this.capacity / tasks.size);
    if (quota < 1)
      throw new Error(`a memory of ${this.capacity} examples cannot hold one example of each of ${tasks.size} tasks`);
    for (const list of groups.values()) while (list.length > quota) list.splice(this.rng.int(list.length), 1);
    const picks = this.rng.permutation(data.count);
    for (const i of picks) {
      const t = data.taskIds[i];
      const list = groups.get(t) ?? [];
      if (list.length < quota) list.push(row(i));
      groups.set(t, list);
    }
    this.entries = [...groups.keys()].sort((a, b) => a - b).flatMap((t) => groups.get(t)!);
  }

  /** The stored examples as a training set (optionally only those of one task). */
  toTrainingSet(filter?: (e: MemoryEntry) => boolean): TrainingSet {
    const chosen = filter ? this.entries.filter(filter) : this.entries;
    const size = chosen[0]?.features.length ?? 0;
    const features = commonFeatures(chosen, chosen.length * size);
    chosen.forEach((e, i) => copyFeatures(e.features, features, i * size));
    return {
      features,
      labels: Int32Array.from(chosen, (e) => e.label),
      taskIds: Int32Array.from(chosen, (e) => e.task),
      count: chosen.length,
    };
  }
}
