// The generator of generative replay against float64: its loss on a tiny VAE computed by hand from the same
// parameters and noise, and its Adam step against PyTorch's update rule.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import { Rng } from '../../src/tensor/rng.js';
import {
  initVae,
  initVaeAdam,
  sampleVae,
  vaeAdamStep,
  vaeLoss,
  type VaeParams,
  type VaeShape,
} from '../../src/strategies/vae.js';

beforeAll(async () => {
  await selectBackend('auto');
});

const SHAPE: VaeShape = { input: 3, hidden: [2], latent: 1, recon: 'bce' };

const arrays = (p: VaeParams) =>
  Object.fromEntries(Object.entries(p).map(([n, t]) => [n, t.arraySync() as number[] | number[][]]));

/** y = x·W + b for one row in float64. */
function dense(x: number[], w: number[][], b: number[]): number[] {
  return b.map((bias, j) => bias + x.reduce((s, v, i) => s + v * w[i][j], 0));
}

describe('VAE', () => {
  it('initialises every layer uniformly in ±1/√fan_in, the same from the same generator', () => {
    const a = initVae({ input: 784, hidden: [400, 400], latent: 100, recon: 'bce' }, new Rng(1));
    expect(Object.keys(a).sort()).toEqual(
      ['enc0', 'enc1', 'mu', 'logvar', 'dec0', 'dec1', 'dec2'].flatMap((n) => [`${n}.bias`, `${n}.weight`]).sort(),
    );
    expect(a['enc0.weight'].shape).toEqual([784, 400]);
    expect(a['dec2.weight'].shape).toEqual([400, 784]);
    expect(tf.max(tf.abs(a['enc0.weight'])).dataSync()[0]).toBeLessThanOrEqual(1 / Math.sqrt(784));
    expect(tf.max(tf.abs(a['dec0.bias'])).dataSync()[0]).toBeLessThanOrEqual(1 / Math.sqrt(100));
    const b = initVae({ input: 784, hidden: [400, 400], latent: 100, recon: 'bce' }, new Rng(1));
    expect(Array.from(b['mu.weight'].dataSync())).toEqual(Array.from(a['mu.weight'].dataSync()));
    tf.dispose([...Object.values(a), ...Object.values(b)]);
  });

  it('loss: mean binary cross-entropy plus the KL term over the features, as float64 computes it', () => {
    const p = initVae(SHAPE, new Rng(3));
    const x = [
      [0.1, 0.9, 0.5],
      [1, 0, 0.25],
    ];
    const seed = 42;
    const got = tf.tidy(() => vaeLoss(p, SHAPE, tf.tensor2d(x), seed).dataSync()[0]);
    const eps = tf.tidy(() => tf.randomNormal([2, 1], 0, 1, 'float32', seed).arraySync() as number[][]);
    const w = arrays(p) as Record<string, number[][] & number[]>;
    let recon = 0;
    let kl = 0;
    x.forEach((row, r) => {
      const h = dense(row, w['enc0.weight'], w['enc0.bias']).map((v) => Math.max(v, 0));
      const mu = dense(h, w['mu.weight'], w['mu.bias'])[0];
      const logvar = dense(h, w['logvar.weight'], w['logvar.bias'])[0];
      const z = mu + Math.exp(logvar / 2) * eps[r][0];
      const d = dense([z], w['dec0.weight'], w['dec0.bias']).map((v) => Math.max(v, 0));
      const out = dense(d, w['dec1.weight'], w['dec1.bias']).map((v) => 1 / (1 + Math.exp(-v)));
      recon += row.reduce((s, t, i) => s - (t * Math.log(out[i]) + (1 - t) * Math.log(1 - out[i])), 0) / 3;
      kl += -0.5 * (1 + logvar - mu * mu - Math.exp(logvar));
    });
    expect(got).toBeCloseTo(recon / 2 + kl / 2 / 3, 5);
    tf.dispose(Object.values(p));
  });

  it("Adam's step is PyTorch's: bias-corrected moments, betas 0.9/0.999, ε 1e-8", () => {
    const before = tf.memory().numTensors;
    let p: VaeParams = { w: tf.tensor1d([1, -2]) };
    let adam = initVaeAdam(p);
    const lr = 0.1;
    // loss = Σ w²: gradient 2w. Reference values by hand (float64).
    let w = [1, -2];
    let m = [0, 0];
    let v = [0, 0];
    for (let t = 1; t <= 3; t++) {
      const r = tf.tidy(() => {
        const step = vaeAdamStep(p, adam, lr, (q) => tf.sum(tf.square(q.w)));
        return { w: step.params.w, m: step.adam.m.w, v: step.adam.v.w, t: step.adam.t };
      });
      tf.dispose([...Object.values(p), ...Object.values(adam.m), ...Object.values(adam.v), adam.t]);
      p = { w: r.w };
      adam = { m: { w: r.m }, v: { w: r.v }, t: r.t };
      const g = w.map((x) => 2 * x);
      m = m.map((x, i) => 0.9 * x + 0.1 * g[i]);
      v = v.map((x, i) => 0.999 * x + 0.001 * g[i] ** 2);
      w = w.map((x, i) => x - (lr * (m[i] / (1 - 0.9 ** t))) / (Math.sqrt(v[i] / (1 - 0.999 ** t)) + 1e-8));
      Array.from(p.w.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(w[i], 5));
    }
    tf.dispose([...Object.values(p), ...Object.values(adam.m), ...Object.values(adam.v), adam.t]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('samples the same rows from the same seed, in (0, 1) with a sigmoid output', () => {
    const p = initVae(SHAPE, new Rng(4));
    const a = tf.tidy(() => sampleVae(p, SHAPE, 5, 7).arraySync() as number[][]);
    const b = tf.tidy(() => sampleVae(p, SHAPE, 5, 7).arraySync() as number[][]);
    const c = tf.tidy(() => sampleVae(p, SHAPE, 5, 8).arraySync() as number[][]);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    for (const v of a.flat()) expect(v > 0 && v < 1).toBe(true);
    tf.dispose(Object.values(p));
  });
});
