// The group step on its own: three small models, each with its own
// optimizer, stepped as one must end where each ends stepped alone
// (AloneExecutor); a run whose own part throws fails alone; a run that
// leaves lets the others go on; runs that cannot be stacked are refused.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/tensor/tf.js';
import { Rng } from '../../src/tensor/rng.js';
import { selectBackend } from '../../src/tensor/backend.js';
import type { LayerSpec } from '../../src/contracts/layers.js';
import type { Model } from '../../src/contracts/model.js';
import type { RunConfig } from '../../src/contracts/run-config.js';
import { describeLayers, initParams } from '../../src/models/layer-graph.js';
import { layerModel } from '../../src/models/layer-model.js';
import { Optimizer } from '../../src/optim/optimizer.js';
import { AnchorStore } from '../../src/optim/anchors.js';
import { adamwRule } from '../../plugins/optimizers/adamw.js';
import { AloneExecutor, type StepDone, type StepExecutor, type StepRequest } from '../../src/engine/executor.js';
import { StepGroup } from '../../src/together/group.js';

beforeAll(async () => {
  await selectBackend((process.env.ANCHORAGE_BACKEND as 'auto' | undefined) ?? 'auto');
});

const LAYERS: LayerSpec[] = [
  { type: 'dense', name: 'fc1', units: 6, activation: 'relu', useBias: true },
  { type: 'dense', name: 'head', units: 3, activation: 'linear', useBias: true },
];
const CONFIG = { components: { model: { name: 'mlp', options: {} } } } as unknown as RunConfig;

function model(seed: number, layers = LAYERS): Model {
  return layerModel({
    kind: 'mlp',
    layers,
    inputShape: [4],
    params: initParams(describeLayers(layers, [4]).params, new Rng(seed)),
  });
}

function optimizer(m: Model, lr: number): Optimizer {
  const rule = adamwRule({ lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decayExclude: [] });
  return new Optimizer({ rule, learningRate: lr, description: 'adamw' }, m.params, new AnchorStore(), m.rowAxis);
}

/**
 * A run's step: its own rows (a batch of `rows` from the seed) and the cross-entropy on its labels; reads back the
 * loss.
 */
function request(seed: number, rows: number, extra: Partial<StepRequest<tf.Tensor[]>> = {}): StepRequest<tf.Tensor[]> {
  return {
    // Seeds from 1: tfjs draws a random seed for 0.
    rows: () => tf.randomNormal([rows, 4], 0, 1, 'float32', seed + 1),
    loss: (raw) => {
      const labels = tf.tensor1d(
        Int32Array.from({ length: rows }, (_, i) => (i + seed) % 3),
        'int32',
      );
      return tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(tf.oneHot(labels, 3), raw);
    },
    keepLogits: true,
    afterStep: ({ rawLogits, grads }) => [tf.clone(rawLogits!), tf.clone(grads['head.bias'])],
    readout: (loss) => tf.reshape(loss, [1]),
    ...extra,
  };
}

const values = (m: Model) => Object.fromEntries([...m.params].map(([n, v]) => [n, Array.from(v.dataSync())]));

function close(a: Record<string, number[]>, b: Record<string, number[]>): void {
  for (const name of Object.keys(b))
    a[name].forEach((x, i) => expect(Math.abs(x - b[name][i]), name).toBeLessThan(1e-6));
}

async function take(
  executor: StepExecutor,
  req: StepRequest<tf.Tensor[]>,
): Promise<{ loss: number; logits: number[]; grad: number[] }> {
  const done: StepDone<tf.Tensor[]> = await executor.step(req);
  const out = {
    loss: done.readout!.dataSync()[0],
    logits: Array.from(done.after[0].dataSync()),
    grad: Array.from(done.after[1].dataSync()),
  };
  tf.dispose([done.readout!, ...done.after]);
  return out;
}

describe('StepGroup', () => {
  it('three runs with their own optimizers and batch sizes, stepped as one, end where each ends alone', async () => {
    const before = tf.memory().numTensors;
    const lrs = [0.01, 0.05, 0.1];
    const rows = [5, 3, 5];
    const alone = lrs.map((lr, i) => ({ model: model(i), optimizer: undefined as Optimizer | undefined }));
    const grouped = lrs.map((lr, i) => ({ model: model(i), optimizer: undefined as Optimizer | undefined }));
    const group = new StepGroup(['a', 'b', 'c']);
    const lanes = grouped.map((g, i) => {
      const lane = group.lane(i);
      lane.join({ config: CONFIG, model: g.model, strategies: [] });
      g.optimizer = optimizer(g.model, lrs[i]);
      lane.begin({ optimizer: g.optimizer, variables: [...g.model.params.values()] });
      return lane;
    });
    for (const [i, a] of alone.entries()) a.optimizer = optimizer(a.model, lrs[i]);
    for (let step = 0; step < 3; step++) {
      const together = await Promise.all(lanes.map((lane, i) => take(lane, request(10 * step + i, rows[i]))));
      for (const [i, a] of alone.entries()) {
        const executor = new AloneExecutor(a.model);
        executor.begin({ optimizer: a.optimizer!, variables: [...a.model.params.values()] });
        const mine = await take(executor, request(10 * step + i, rows[i]));
        expect(
          Math.abs(together[i].loss - mine.loss),
          `step ${step} run ${i}: ${together[i].loss} ${mine.loss}`,
        ).toBeLessThan(1e-6);
        // after-step work sees the run's own outputs and gradients.
        expect(together[i].logits).toHaveLength(rows[i] * 3);
        together[i].logits.forEach((x, k) => expect(Math.abs(x - mine.logits[k])).toBeLessThan(1e-5));
        together[i].grad.forEach((x, k) => expect(Math.abs(x - mine.grad[k])).toBeLessThan(1e-6));
        close(values(grouped[i].model), values(a.model));
      }
    }
    for (const lane of lanes) lane.leave();
    for (const r of [...alone, ...grouped]) {
      r.optimizer!.dispose();
      r.model.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a run whose loss throws fails alone; one that leaves lets the others step without it', async () => {
    const models = [model(1), model(2), model(3)];
    const optimizers = models.map((m) => optimizer(m, 0.05));
    const group = new StepGroup(['a', 'b', 'c']);
    const lanes = models.map((m, i) => {
      const lane = group.lane(i);
      lane.join({ config: CONFIG, model: m, strategies: [] });
      lane.begin({ optimizer: optimizers[i], variables: [...m.params.values()] });
      return lane;
    });
    const headBefore = Array.from(models[1].params.get('head.bias')!.dataSync());
    const faulty = request(2, 4, {
      loss: () => {
        throw new Error('a bug in run b');
      },
    });
    const results = await Promise.allSettled(
      lanes.map((lane, i) => (i === 1 ? lane.step(faulty) : take(lane, request(i, 4)))),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/a bug in run b/);
    // The failed run's parameters were not stepped.
    expect(Array.from(models[1].params.get('head.bias')!.dataSync())).toEqual(headBefore);
    lanes[1].leave();
    const next = await Promise.all([take(lanes[0], request(5, 4)), take(lanes[2], request(6, 4))]);
    expect(next.every((r) => Number.isFinite(r.loss))).toBe(true);
    await expect(lanes[1].step(request(7, 4))).rejects.toThrow(/has left it/);
    for (const lane of lanes) lane.leave();
    optimizers.forEach((o) => o.dispose());
    models.forEach((m) => m.dispose());
  });

  it('refuses a run whose model cannot be stacked or differs from the group’s, and a gradient stage', async () => {
    const group = new StepGroup(['a', 'b']);
    const dropout: LayerSpec[] = [LAYERS[0], { type: 'dropout', name: 'drop', rate: 0.5 }, LAYERS[1]];
    const withDropout = layerModel({
      kind: 'mlp',
      layers: dropout,
      inputShape: [4],
      params: initParams(describeLayers(dropout, [4]).params, new Rng(1)),
      rng: new Rng(2),
    });
    expect(() => group.lane(0).join({ config: CONFIG, model: withDropout, strategies: [] })).toThrow(
      /cannot be stacked: its dropout \(drop\) draws masks per model/,
    );
    expect(() =>
      group
        .lane(0)
        .join({ config: CONFIG, model: model(1), strategies: [{ name: 'agem', gradients: ({ grads }) => grads }] }),
    ).toThrow(/strategy agem replaces the gradients/);
    const a = model(1);
    group.lane(0).join({ config: CONFIG, model: a, strategies: [] });
    const wider: LayerSpec[] = [{ ...LAYERS[0], units: 7 } as LayerSpec, LAYERS[1]];
    const b = model(2, wider);
    expect(() => group.lane(1).join({ config: CONFIG, model: b, strategies: [] })).toThrow(/same model architecture/);
    const o = optimizer(a, 0.01);
    group.lane(0).begin({ optimizer: o, variables: [...a.params.values()] });
    group.lane(1).leave();
    await expect(group.lane(0).step(request(1, 4, { gradients: ({ grads }) => grads }))).rejects.toThrow(
      /a gradient stage cannot run in a group/,
    );
    group.lane(0).leave();
    o.dispose();
    [withDropout, a, b].forEach((m) => m.dispose());
  });
});
