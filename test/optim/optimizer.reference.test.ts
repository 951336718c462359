// Independent float64 references (plain loops, written from the papers and
// torch's documented update rules) for the optimizers that have no recorded
// golden trace, and for FTP on a transposed layout.
import { beforeAll, describe, expect, it } from 'vitest';
import { builtinPlugins } from '../../plugins/index.js';
import { PluginRegistry } from '../../src/plugin/registry.js';
import { relativeError, replayTrace, type OptimizerTrace } from '../../src/optim/replay.js';
import { selectBackend } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import { Rng } from '../../src/tensor/rng.js';
import { Optimizer } from '../../src/optim/optimizer.js';
import { AnchorStore } from '../../src/optim/anchors.js';
import ftp from '../../plugins/optimizers/ftp.js';
import { resolveOptions } from '../../src/plugin/options.js';

const registry = new PluginRegistry(builtinPlugins);
beforeAll(async () => {
  await selectBackend('auto');
});

type P = { name: string; shape: number[]; init: number[] };
const PARAMS: P[] = (() => {
  const rng = new Rng(11);
  const mk = (name: string, shape: number[]) => ({
    name,
    shape,
    init: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * 0.5),
  });
  return [mk('fc1.weight', [5, 4]), mk('fc1.bias', [5]), mk('head.weight', [3, 5])];
})();
function grads(steps: number, seed: number) {
  const rng = new Rng(seed);
  return Array.from({ length: steps }, () =>
    Object.fromEntries(PARAMS.map((p) => [p.name, p.init.map(() => rng.normal())])),
  );
}
const l2 = (x: number[]) => Math.sqrt(x.reduce((a, b) => a + b * b, 0));

/** torch.optim.AdamW / SGD in float64, one tensor at a time; `extra(name, w)` is added to the gradient. */
function baseRef(kind: 'adamw' | 'sgd', cfg: Record<string, unknown>) {
  const m: Record<string, number[]> = {};
  const v: Record<string, number[]> = {};
  return (name: string, w: number[], g: number[], t: number): number[] => {
    if (kind === 'adamw') {
      const [lr, wd, b1, b2, eps] = [cfg.lr as number, (cfg.wd as number) ?? 0, 0.9, 0.999, 1e-8];
      m[name] ??= w.map(() => 0);
      v[name] ??= w.map(() => 0);
      return w.map((wi, i) => {
        m[name][i] = b1 * m[name][i] + (1 - b1) * g[i];
        v[name][i] = b2 * v[name][i] + (1 - b2) * g[i] * g[i];
        const mh = m[name][i] / (1 - b1 ** t);
        const vh = v[name][i] / (1 - b2 ** t);
        return wi * (1 - lr * wd) - (lr * mh) / (Math.sqrt(vh) + eps);
      });
    }
    const [lr, wd, mom, damp, nest] = [
      cfg.lr as number,
      (cfg.wd as number) ?? 0,
      (cfg.momentum as number) ?? 0,
      (cfg.dampening as number) ?? 0,
      !!cfg.nesterov,
    ];
    const d = g.map((gi, i) => gi + wd * w[i]);
    let step = d;
    if (mom) {
      m[name] = m[name] ? m[name].map((b, i) => mom * b + (1 - damp) * d[i]) : [...d];
      step = nest ? d.map((di, i) => di + mom * m[name][i]) : m[name];
    }
    return w.map((wi, i) => wi - lr * step[i]);
  };
}

function runRef(
  steps: Record<string, number[]>[],
  update: (name: string, w: number[], g: number[], t: number, w0: number[]) => number[],
): Record<string, number[]>[] {
  const w = Object.fromEntries(PARAMS.map((p) => [p.name, [...p.init]]));
  return steps.map((g, k) => {
    for (const p of PARAMS) w[p.name] = update(p.name, w[p.name], g[p.name], k + 1, p.init);
    return Object.fromEntries(PARAMS.map((p) => [p.name, [...w[p.name]]]));
  });
}

async function expectMatches(
  optimizer: string,
  config: Record<string, unknown>,
  expected: Record<string, number[]>[],
  g: Record<string, number[]>[],
) {
  const trace: OptimizerTrace = {
    format: 'optimizer-trace/1',
    optimizer,
    config,
    params: PARAMS,
    steps: g.map((grads) => ({ grads })),
  };
  const result = await replayTrace(trace, registry);
  let worst = 0;
  result.steps.forEach((s, i) => {
    for (const p of PARAMS) worst = Math.max(worst, relativeError(s.params[p.name], expected[i][p.name]));
  });
  expect(worst).toBeLessThan(1e-4);
  return result;
}

describe('optimizers against float64 references', () => {
  it('sgd: momentum, dampening, L2 weight decay', async () => {
    const g = grads(12, 1);
    const cfg = { lr: 0.05, wd: 0.01, momentum: 0.9, dampening: 0.1 };
    const base = baseRef('sgd', cfg);
    await expectMatches(
      'sgd',
      cfg,
      runRef(g, (n, w, gr, t) => base(n, w, gr, t)),
      g,
    );
  });

  it('sgd: Nesterov', async () => {
    const g = grads(12, 2);
    const cfg = { lr: 0.05, momentum: 0.8, nesterov: true };
    const base = baseRef('sgd', cfg);
    await expectMatches(
      'sgd',
      cfg,
      runRef(g, (n, w, gr, t) => base(n, w, gr, t)),
      g,
    );
  });

  it('l2sp on adamw: alpha·(w − w0) for kept tensors, beta·w for excluded ones', async () => {
    const g = grads(15, 3);
    const cfg = { lr: 0.01, wd: 0.001, alpha: 0.5, beta: 0.05, exclude: ['head.weight'] };
    const base = baseRef('adamw', cfg);
    const expected = runRef(g, (n, w, gr, t, w0) => {
      const extra = n === 'head.weight' ? w.map((wi) => cfg.beta * wi) : w.map((wi, i) => cfg.alpha * (wi - w0[i]));
      return base(
        n,
        w,
        gr.map((x, i) => x + extra[i]),
        t,
      );
    });
    await expectMatches('adamw+l2sp', cfg, expected, g);
  });

  it('l2sp on sgd', async () => {
    const g = grads(10, 4);
    const cfg = { lr: 0.1, alpha: 1, beta: 0.1, momentum: 0.9, exclude: ['head.*'] };
    const base = baseRef('sgd', cfg);
    const expected = runRef(g, (n, w, gr, t, w0) => {
      const extra = n.startsWith('head.') ? w.map((wi) => cfg.beta * wi) : w.map((wi, i) => cfg.alpha * (wi - w0[i]));
      return base(
        n,
        w,
        gr.map((x, i) => x + extra[i]),
        t,
      );
    });
    await expectMatches('sgd+l2sp', cfg, expected, g);
  });

  it('spd: pulls back only tensors whose gradient points away from the anchor', async () => {
    const g = grads(20, 5);
    const cfg = { lr: 0.05, lambda: 0.7, exclude: ['head.weight'] };
    const base = baseRef('adamw', { lr: cfg.lr, wd: 0 });
    let pulled = 0;
    const expected = runRef(g, (n, w, gr, t, w0) => {
      const tentative = base(n, w, gr, t);
      if (n === 'head.weight') return tentative;
      const condition = -gr.reduce((a, gi, i) => a + gi * (w[i] - w0[i]), 0);
      if (condition >= 0) return tentative;
      pulled++;
      const off = tentative.map((x, i) => x - w0[i]);
      const dNew = l2(off);
      const r = Math.min(1, Math.max(0, (dNew - l2(w.map((x, i) => x - w0[i]))) / (dNew + 1e-12)));
      return tentative.map((x, i) => x - cfg.lambda * r * off[i]);
    });
    expect(pulled).toBeGreaterThan(5); // the branch is exercised
    await expectMatches('spd', { base: 'adamw', weightDecay: 0, ...cfg }, expected, g);
  });

  it('pgd: rows stay within relative L1 radii of the anchor, except excluded tensors', async () => {
    const g = grads(15, 6);
    const cfg = { lr: 0.1, radius: 0.05, exclude: ['head.*'] };
    const base = baseRef('adamw', { lr: cfg.lr, wd: 0 });
    const rowsOf = (p: P) => (p.shape.length === 1 ? 1 : p.shape[0]);
    const expected = runRef(g, (n, w, gr, t, w0) => {
      const next = base(n, w, gr, t);
      if (n.startsWith('head.')) return next;
      const p = PARAMS.find((q) => q.name === n)!;
      const rows = rowsOf(p);
      const len = w.length / rows;
      for (let r = 0; r < rows; r++) {
        const idx = Array.from({ length: len }, (_, j) => r * len + j);
        const c = idx.map((i) => next[i] - w0[i]);
        const norm = c.reduce((a, x) => a + Math.abs(x), 0) + 1e-8;
        const radius = cfg.radius * (idx.reduce((a, i) => a + Math.abs(w0[i]), 0) + 1e-8);
        const s = Math.min(1, Math.max(0, radius / norm));
        idx.forEach((i, j) => (next[i] = w0[i] + s * c[j]));
      }
      return next;
    });
    await expectMatches('pgd', { weightDecay: 0, ...cfg }, expected, g);
  });

  it('ftp on a [in, out] layout (row axis 1) equals ftp on [out, in] transposed', async () => {
    const g = grads(20, 7);
    const trace: OptimizerTrace = {
      format: 'optimizer-trace/1',
      optimizer: 'adamw+ftp',
      config: { lr: 0.05, k: 0.5, exclude: [] },
      params: PARAMS,
      steps: g.map((grads) => ({ grads })),
    };
    const reference = await replayTrace(trace, registry);
    // The same problem with weights stored transposed, as the MLP stores them.
    const transposeFlat = (x: number[], [rows, cols]: number[]) =>
      Array.from({ length: x.length }, (_, k) => x[(k % rows) * cols + Math.floor(k / rows)]);
    const isMatrix = (p: P) => p.shape.length === 2;
    const params = new Map(
      PARAMS.map((p) => [
        p.name,
        tf.tidy(() =>
          tf.variable(
            isMatrix(p)
              ? tf.tensor(transposeFlat(p.init, p.shape), [p.shape[1], p.shape[0]])
              : tf.tensor(p.init, p.shape),
          ),
        ),
      ]),
    );
    const rowAxis = Object.fromEntries(PARAMS.map((p) => [p.name, isMatrix(p) ? 1 : 0]));
    const model = {
      params,
      rowAxis,
      forward: () => tf.scalar(0),
      describe: () => '',
      dispose: () => params.forEach((v) => v.dispose()),
    };
    const { options } = resolveOptions(ftp.options, { lr: 0.05, k: 0.5 }, 'x');
    const component = await ftp.create(options, {
      seed: 0,
      rng: () => new Rng(0),
      resolve: async () => model as never,
      resolvePath: (p) => p,
      problem: async () => ({ featureShape: [], outputs: 0, batchSize: 1 }),
    });
    const anchors = new AnchorStore();
    anchors.snapshot('initial', params);
    const opt = new Optimizer(component, params, anchors, rowAxis);
    g.forEach((step, i) => {
      tf.tidy(() =>
        opt.step(
          Object.fromEntries(
            PARAMS.map((p) => [
              p.name,
              isMatrix(p)
                ? tf.tensor(transposeFlat(step[p.name], p.shape), [p.shape[1], p.shape[0]])
                : tf.tensor(step[p.name], p.shape),
            ]),
          ),
        ),
      );
      for (const p of PARAMS) {
        const got = Array.from(params.get(p.name)!.dataSync());
        const want = isMatrix(p)
          ? transposeFlat(reference.steps[i].params[p.name], p.shape)
          : reference.steps[i].params[p.name];
        expect(relativeError(got, want)).toBeLessThan(1e-5);
      }
    });
    opt.dispose();
    anchors.dispose();
    model.dispose();
  });
});
