// Each strategy's mechanism against a hand-worked or float64 reference on
// tiny tensors.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import { agemProject } from '../../plugins/strategies/agem.js';
import { gemProject } from '../../plugins/strategies/gem.js';
import { aceMask } from '../../plugins/strategies/er-ace.js';
import { nmeScores } from '../../plugins/strategies/icarl.js';
import { subsets } from '../../src/strategies/gem-qp.js';
import { DeviceReservoir } from '../../src/memory/device.js';
import { Rng } from '../../src/tensor/rng.js';
import si from '../../plugins/strategies/si.js';
import mas from '../../plugins/strategies/mas.js';
import type { Model } from '../../src/contracts/model.js';
import { ImportancePenalty } from '../../src/strategies/penalty.js';
import type { PluginContext } from '../../src/plugin/define-plugin.js';
import type { TaskContext } from '../../src/contracts/strategy.js';

const values = (t: tf.Tensor) => Array.from(t.dataSync());

beforeAll(async () => {
  await selectBackend('auto');
});

describe('quadratic importance penalty', () => {
  it("sums several tasks' terms as one with the value and gradient of the term-by-term sum (float64 reference)", () => {
    const rng = new Rng(7);
    const shape = [5, 3];
    const n = 15;
    const draw = (f: () => number) => Float64Array.from({ length: n }, f);
    // Four tasks' importances (some entries 0 in every task) and anchors, and the current weights.
    const omegas = Array.from({ length: 4 }, (_, k) =>
      draw(() => (rng.uniform(0, 1) < 0.2 ? 0 : rng.uniform(0, 1) * 10 ** (k - 3))),
    );
    for (const o of omegas) o[0] = 0;
    const anchors = Array.from({ length: 4 }, () => draw(() => rng.normal()));
    const theta = draw(() => rng.normal());
    const penalty = new ImportancePenalty();
    for (let k = 0; k < 4; k++) {
      const params = new Map([['w', tf.variable(tf.tensor(Float32Array.from(anchors[k]), shape))]]);
      penalty.consolidate({ w: tf.tensor(Float32Array.from(omegas[k]), shape) }, { params } as unknown as Model, false);
      params.get('w')!.dispose();
    }
    let want = 0;
    const wantGrad = new Float64Array(n);
    for (let k = 0; k < 4; k++) {
      for (let i = 0; i < n; i++) {
        const d = Math.fround(theta[i]) - Math.fround(anchors[k][i]);
        want += Math.fround(omegas[k][i]) * d * d;
        wantGrad[i] += 2 * Math.fround(omegas[k][i]) * d;
      }
    }
    tf.tidy(() => {
      const w = tf.tensor(Float32Array.from(theta), shape);
      const combined = tf.valueAndGrad((x: tf.Tensor) => penalty.term({ w: x }) as tf.Scalar)(w);
      const byTerm = tf.valueAndGrad((x: tf.Tensor) => penalty.termByTerm({ w: x }) as tf.Scalar)(w);
      for (const r of [combined, byTerm]) {
        expect(Math.abs(r.value.dataSync()[0] - want)).toBeLessThan(1e-5 * want);
        const g = r.grad.dataSync();
        for (let i = 0; i < n; i++)
          expect(Math.abs(g[i] - wantGrad[i])).toBeLessThan(1e-5 * Math.max(1e-3, Math.abs(wantGrad[i])));
      }
    });
    penalty.dispose();
  });
});

describe('A-GEM projection', () => {
  it('leaves a gradient that agrees with the reference alone, projects one that conflicts (hand-worked)', () => {
    tf.tidy(() => {
      const ref = { w: tf.tensor1d([1, 0]), b: tf.tensor1d([0]) };
      const agree = agemProject({ w: tf.tensor1d([1, 2]), b: tf.tensor1d([3]) }, ref);
      expect(values(agree.w)).toEqual([1, 2]);
      expect(values(agree.b)).toEqual([3]);
      // g = (−2, 1 | 1), g·ref = −2, ref·ref = 1 → g − (−2)·ref = (0, 1 | 1): orthogonal to ref.
      const p = agemProject({ w: tf.tensor1d([-2, 1]), b: tf.tensor1d([1]) }, ref);
      expect(values(p.w)).toEqual([0, 1]);
      expect(values(p.b)).toEqual([1]);
    });
  });

  it('spreads the projection over every parameter tensor (g·ref summed across tensors)', () => {
    tf.tidy(() => {
      const ref = { a: tf.tensor1d([1]), c: tf.tensor1d([1]) };
      // g·ref = −3 + 1 = −2, ref·ref = 2 → g + ref = (−2 | 2); then g·ref = 0.
      const p = agemProject({ a: tf.tensor1d([-3]), c: tf.tensor1d([1]) }, ref);
      expect(values(p.a)[0]).toBeCloseTo(-2, 6);
      expect(values(p.c)[0]).toBeCloseTo(2, 6);
    });
  });
});

/** The GEM dual in float64 by brute force over active sets (Gaussian elimination with pivoting). */
function gemReference(G: number[][], g: number[], margin: number, eps: number): number[] {
  const t = G.length;
  const P = G.map((a) => G.map((b) => a.reduce((s, x, i) => s + x * b[i], 0)));
  for (let i = 0; i < t; i++) P[i][i] += eps;
  const q = G.map((a) => a.reduce((s, x, i) => s + x * g[i], 0));
  if (q.every((x) => x >= 0)) return g;
  const c = q.map((qi, i) => qi + margin * P[i].reduce((s, x) => s + x, 0));
  let best: number[] | undefined;
  let bestObj = Infinity;
  for (let mask = 0; mask < 1 << t; mask++) {
    const S = [...Array(t).keys()].filter((i) => (mask >> i) & 1);
    const u = new Array(t).fill(0);
    if (S.length) {
      const A = S.map((i) => [...S.map((j) => P[i][j]), -c[i]]);
      for (let k = 0; k < S.length; k++) {
        let piv = k;
        for (let r = k + 1; r < S.length; r++) if (Math.abs(A[r][k]) > Math.abs(A[piv][k])) piv = r;
        [A[k], A[piv]] = [A[piv], A[k]];
        for (let r = 0; r < S.length; r++) {
          if (r === k) continue;
          const f = A[r][k] / A[k][k];
          for (let col = k; col <= S.length; col++) A[r][col] -= f * A[k][col];
        }
      }
      S.forEach((i, k) => (u[i] = A[k][S.length] / A[k][k]));
    }
    if (u.some((x) => x < -1e-12)) continue;
    const obj =
      0.5 * u.reduce((s, ui, i) => s + ui * P[i].reduce((a, p, j) => a + p * u[j], 0), 0) +
      u.reduce((s, ui, i) => s + ui * c[i], 0);
    if (obj < bestObj) {
      bestObj = obj;
      best = u;
    }
  }
  const v = best!.map((x) => x + margin);
  return g.map((gi, k) => gi + v.reduce((s, vi, i) => s + vi * G[i][k], 0));
}

describe('GEM quadratic program', () => {
  it('matches a float64 brute-force solution of the dual on random small cases (t = 1…4)', () => {
    const rng = new Rng(11);
    let checked = 0;
    for (let trial = 0; trial < 40; trial++) {
      const t = 1 + (trial % 4);
      const p = 6;
      const G = Array.from({ length: t }, () => Array.from({ length: p }, () => rng.normal()));
      const g = Array.from({ length: p }, () => rng.normal());
      const margin = trial % 2 ? 0.5 : 0;
      const expected = gemReference(G, g, margin, 1e-3);
      const got = tf.tidy(() => {
        const masks = tf.tensor2d(subsets(t), [1 << t, t]);
        const refs = G.map((row) => ({ w: tf.tensor1d(row.slice(0, 4)), b: tf.tensor1d(row.slice(4)) }));
        const out = gemProject(
          { w: tf.tensor1d(g.slice(0, 4)), b: tf.tensor1d(g.slice(4)) },
          refs,
          margin,
          1e-3,
          masks,
        );
        return [...values(out.w), ...values(out.b)];
      });
      const scale = Math.max(1, ...expected.map(Math.abs));
      for (let k = 0; k < p; k++) expect(Math.abs(got[k] - expected[k]) / scale).toBeLessThan(1e-3);
      checked += 1;
    }
    expect(checked).toBe(40);
  });

  it('the projected gradient no longer points against any memory gradient', () => {
    tf.tidy(() => {
      const masks = tf.tensor2d(subsets(2), [4, 2]);
      const refs = [{ w: tf.tensor1d([1, 0, 0]) }, { w: tf.tensor1d([0, 1, 0]) }];
      const out = gemProject({ w: tf.tensor1d([-1, -2, 3]) }, refs, 0, 0, masks);
      const w = values(out.w);
      // Hand-worked: the closest vector with w0 ≥ 0 and w1 ≥ 0 is (0, 0, 3).
      expect(w[0]).toBeCloseTo(0, 4);
      expect(w[1]).toBeCloseTo(0, 4);
      expect(w[2]).toBeCloseTo(3, 5);
    });
  });
});

describe('ER-ACE mask', () => {
  it('lets only the classes present in the batch, and classes not seen yet, compete (hand-worked)', () => {
    tf.tidy(() => {
      const classes = tf.range(0, 6, 1, 'int32');
      // Seen before: up to class 3. Batch labels {2, 4}: present 2, 4; at or above max(3, 4) = 4: 4, 5.
      const m = values(aceMask(tf.tensor1d([4, 2, 4], 'int32'), 6, 3, classes));
      expect(m.map((v) => (v === 0 ? 'on' : 'off'))).toEqual(['off', 'off', 'on', 'off', 'on', 'on']);
    });
  });
});

describe('iCaRL nearest mean of exemplars', () => {
  it('scores −‖φ(x) − μ‖² up to a constant and never picks a class without exemplars (hand-worked)', () => {
    tf.tidy(() => {
      const means = tf.tensor2d([1, 0, 0, 1, 0.6, 0.8], [3, 2]);
      const absent = tf.tensor1d([0, 0, -1e9]);
      // x = (3, 4) → φ = (0.6, 0.8): nearest mean is class 2, but it has no exemplars; then class 1 (0.4 vs 0.8
      // away).
      const s = values(nmeScores(tf.tensor2d([3, 4, 10, 1], [2, 2]), means, absent));
      const phi = [0.6, 0.8];
      expect(s[0]).toBeCloseTo(-((phi[0] - 1) ** 2 + phi[1] ** 2) + 1, 5);
      expect(s[1]).toBeCloseTo(-(phi[0] ** 2 + (phi[1] - 1) ** 2) + 1, 5);
      expect(s[1]).toBeGreaterThan(s[0]);
      const pred = values(tf.argMax(nmeScores(tf.tensor2d([3, 4, 10, 1], [2, 2]), means, absent), 1));
      expect(pred).toEqual([1, 0]);
    });
  });
});

describe('DER memory on the backend', () => {
  it('stores the rows with the logits of their step and replays only rows stored before the step', () => {
    const reservoir = new DeviceReservoir(4, true, new Rng(3));
    let state: Record<string, tf.Tensor> = reservoir.initialState(2, 3);
    reservoir.planTask(3, 2, () => 2, 2);
    expect(reservoir.filled(1)).toBe(0);
    expect(reservoir.filled(2)).toBe(2);
    expect(reservoir.filled(3)).toBe(4);
    for (const step of [1, 2]) {
      const next = tf.tidy(() =>
        reservoir.insert(
          {
            step,
            size: 2,
            x: tf.tensor2d([step, 0, step, 1], [2, 2]),
            labels: tf.tensor1d([step, step], 'int32'),
            taskIds: tf.tensor1d([0, 0], 'int32'),
            logits: tf.tensor2d([step * 10, 0, 0, step * 10, 1, 1], [2, 3]),
          },
          state,
        ),
      );
      tf.dispose(Object.values(state).filter((t) => !Object.values(next).includes(t)));
      state = next;
    }
    // The first four rows fill slots 0..3 in order; each row keeps its own logits.
    expect(values(state.labels).slice(0, 4)).toEqual([1, 1, 2, 2]);
    expect(values(state.logits).slice(0, 12)).toEqual([10, 0, 0, 10, 1, 1, 20, 0, 0, 20, 1, 1]);
    const drawn = tf.tidy(() => {
      const d = reservoir.sample(3, state)!;
      return { x: values(d.x), logits: values(d.logits!), labels: values(d.labels) };
    });
    // Whatever rows were drawn, each comes with the logits stored for it.
    for (let r = 0; r < 2; r++) {
      const step = drawn.labels[r];
      expect(drawn.x[r * 2]).toBe(step);
      expect([step * 10, 0].includes(drawn.logits[r * 3])).toBe(true);
    }
    tf.dispose(Object.values(state));
    reservoir.dispose();
  });
});

/** A linear model y = x·W over 2 features and 2 outputs, for the importance estimators. */
let models = 0;
function linearModel(w: number[]): Model & { w: tf.Variable } {
  const v = tf.variable(tf.tensor2d(w, [2, 2]), true, `linear-${(models += 1)}`);
  return {
    w: v,
    params: new Map([['w', v]]),
    rowAxis: { w: 1 },
    forward: (x) => tf.matMul(x, v),
    apply: (p, x) => tf.matMul(x, p.w),
    describe: () => 'linear',
    dispose: () => v.dispose(),
  };
}

const pluginCtx = {
  seed: 0,
  rng: (l: string) => new Rng(0).fork(l),
  resolve: async () => {
    throw new Error('unused');
  },
  problem: async () => ({ featureShape: [2], outputs: 2 }),
  resolvePath: (p: string) => p,
} as unknown as PluginContext;

function taskCtx(
  model: Model,
  state: Record<string, tf.Tensor>,
  trained?: { features: number[]; labels: number[] },
): TaskContext & { trained: never } {
  const task = {
    index: 0,
    name: 't0',
    classes: [0, 1],
    train: { features: new Float32Array(0), labels: new Int32Array(0), count: 0 },
    test: { features: new Float32Array(0), labels: new Int32Array(0), count: 0 },
  };
  const set = trained
    ? {
        features: Float32Array.from(trained.features),
        labels: Int32Array.from(trained.labels),
        taskIds: new Int32Array(trained.labels.length),
        count: trained.labels.length,
      }
    : undefined;
  return {
    task,
    stream: { name: 's', featureShape: [2], numClasses: 2, tasks: [task] },
    model,
    scenario: { scenario: 'class-il', outputs: 2, labels: () => Int32Array.from([0, 1]), allowedOutputs: () => null },
    selection: () => set!,
    state,
    trained: set as never,
  };
}

describe('SI importance (path integral)', () => {
  it('accumulates ω = −Σ g·Δθ over steps and gives c·Σ ω/(Δ² + ξ)·(θ − θ*)² (hand-worked)', async () => {
    const model = linearModel([0, 0, 0, 0]);
    const s = await si.create({ c: 2, xi: 0.5 }, pluginCtx);
    let state = (await s.onTaskStart!(taskCtx(model, {})))!.state! as Record<string, tf.Tensor>;
    // Two steps: θ 0 → 1 → 3 on the first weight with gradients −1 and −0.5; others stay.
    const steps = [
      { theta: [1, 0, 0, 0], g: [-1, 0, 0, 0] },
      { theta: [3, 0, 0, 0], g: [-0.5, 0, 0, 0] },
    ];
    for (const { theta, g } of steps) {
      model.w.assign(tf.tensor2d(theta, [2, 2]));
      const next = tf.tidy(() =>
        s.afterStep!({
          step: 1,
          params: { w: model.w },
          grads: { w: tf.tensor2d(g, [2, 2]) },
          batch: {} as never,
          state,
        })!,
      );
      tf.dispose(Object.values(state).filter((t) => !Object.values(next).includes(t)));
      state = next;
    }
    // ω = −(−1·1 + −0.5·2) = 2; Δ = 3 → Ω = 2 / (9 + 0.5).
    expect(values(state['omega/w'])[0]).toBeCloseTo(2, 6);
    await s.onTaskEnd!(taskCtx(model, state));
    const term = tf.tidy(
      () => values(s.loss!({ params: { w: tf.tensor2d([4, 0, 0, 0], [2, 2]) }, state: {} } as never)!)[0],
    );
    // c·Ω·(θ − θ*)² = 2 · (2/9.5) · (4 − 3)².
    expect(term).toBeCloseTo((2 * 2) / 9.5, 5);
    tf.dispose(Object.values(state));
    s.dispose!();
    model.dispose();
  });
});

describe('MAS importance', () => {
  it('is the mean of |∂‖xW‖²/∂W| = |2·xᵀ(xW)| over examples (hand-worked)', async () => {
    const model = linearModel([1, 0, 0, 1]);
    const s = await mas.create({ lambda: 1, samples: 2, batchSize: 1, decay: 1 }, pluginCtx);
    // x1 = (1, 0): xW = (1, 0); grad = 2·x1ᵀ(1,0) = [[2,0],[0,0]]. x2 = (0, −1): xW = (0, −1); grad =
    // 2·x2ᵀ(0,−1) = [[0,0],[0,2]].
    await s.onTaskEnd!(taskCtx(model, {}, { features: [1, 0, 0, -1], labels: [0, 1] }));
    // Ω = ([[2,0],[0,0]] + [[0,0],[0,2]]) / 2 = I. Penalty at W* + 1 everywhere: Σ Ω·1 = 2.
    const term = tf.tidy(
      () => values(s.loss!({ params: { w: tf.tensor2d([2, 1, 1, 2], [2, 2]) }, state: {} } as never)!)[0],
    );
    expect(term).toBeCloseTo(2, 5);
    s.dispose!();
    model.dispose();
  });
});
