// Seeded randomness. Every random choice in anchorage (data order, weight
// initialisation, subsets) goes through an Rng forked from the run's seed by a
// label, so adding a new random consumer never shifts the stream of another.

/** FNV-1a over a string, folded with a seed: stable across platforms. */
export function hashString(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | null = null;

  /** The largest seed: the generator is seeded from 32 bits, so larger seeds would repeat smaller ones. */
  static readonly MAX_SEED = 2 ** 32 - 1;

  constructor(readonly seed: number) {
    // splitmix32 expands the seed into xoshiro128**'s 128-bit state.
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
  }

  /** An independent stream for one consumer, e.g. `rng.fork('init')`. */
  fork(label: string): Rng {
    return new Rng(hashString(label, this.seed ^ 0x9e3779b9));
  }

  /** The generator's position (for checkpoints): restoring it replays the same numbers from here. */
  state(): number[] {
    return [this.a, this.b, this.c, this.d, this.spareNormal ?? NaN];
  }

  /** Puts the generator back where `state()` found it. */
  setState(state: readonly number[]): void {
    if (state.length !== 5 || state.slice(0, 4).some((x) => !Number.isInteger(x) || x < 0 || x > 0xffffffff))
      throw new Error(`not a generator state: ${JSON.stringify(state)}`);
    [this.a, this.b, this.c, this.d] = state;
    this.spareNormal = Number.isNaN(state[4]) ? null : state[4];
  }

  /** Uniform 32-bit unsigned integer (xoshiro128**). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.b << 9) >>> 0;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    this.a >>>= 0;
    this.b >>>= 0;
    this.c >>>= 0;
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fisher–Yates, in place. */
  shuffle<T extends { length: number; [i: number]: unknown }>(items: T): T {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /**
   * Writes `m` distinct indices drawn uniformly from [0, n) into `out` at
   * `offset` (a partial Fisher–Yates shuffle over a sparse swap table: O(m),
   * whatever n). Needs m ≤ n.
   */
  distinct(n: number, m: number, out: Int32Array, offset = 0): void {
    if (m > n) throw new Error(`cannot draw ${m} distinct indices from ${n}`);
    const swapped = new Map<number, number>();
    for (let k = 0; k < m; k++) {
      const j = k + this.int(n - k);
      const atJ = swapped.get(j) ?? j;
      swapped.set(j, swapped.get(k) ?? k);
      out[offset + k] = atJ;
    }
  }

  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    return this.shuffle(out);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
