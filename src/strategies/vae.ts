// The generator of generative replay: a variational autoencoder with MLP
// encoder and decoder, as van de Ven et al.'s reference code builds it for
// Split MNIST (`models/vae.py`: encoder input → hidden… → (μ, log σ²) of the
// latent z; decoder z → hidden… → input, sigmoid output; ReLU between). Its
// parameters are plain named tensors so that they can live in a strategy's
// step state (the run loop keeps them, and checkpoints hold them) and be
// trained inside the training step by `vaeAdamStep`. Everything random comes
// from a seed the caller derives from the step, so a resumed run draws the
// same samples.
import { tf } from '../tensor/tf.js';
import type { Rng } from '../tensor/rng.js';

export interface VaeShape {
  /** Features per example (784 for MNIST). */
  readonly input: number;
  /** Hidden widths of the encoder; the decoder mirrors them. */
  readonly hidden: readonly number[];
  /** Latent size. */
  readonly latent: number;
  /** 'bce': sigmoid output, binary cross-entropy per feature (inputs in [0, 1]); 'mse': linear output, squared
   * error. */
  readonly recon: 'bce' | 'mse';
}

export type VaeParams = Record<string, tf.Tensor>;

/** The dense layers in order: [name, in, out]. */
function layersOf(shape: VaeShape): [string, number, number][] {
  const enc = [shape.input, ...shape.hidden];
  const dec = [shape.latent, ...[...shape.hidden].reverse(), shape.input];
  const last = shape.hidden.at(-1) ?? shape.input;
  return [
    ...enc.slice(1).map((n, i): [string, number, number] => [`enc${i}`, enc[i], n]),
    ['mu', last, shape.latent],
    ['logvar', last, shape.latent],
    ...dec.slice(1).map((n, i): [string, number, number] => [`dec${i}`, dec[i], n]),
  ];
}

/** PyTorch's default Linear initialisation: weights and biases uniform in ±1/√fan_in, from `rng`. */
export function initVae(shape: VaeShape, rng: Rng): VaeParams {
  const params: VaeParams = {};
  for (const [name, fanIn, out] of layersOf(shape)) {
    const bound = 1 / Math.sqrt(fanIn);
    params[`${name}.weight`] = tf.tensor2d(
      Float32Array.from({ length: fanIn * out }, () => rng.uniform(-bound, bound)),
      [fanIn, out],
    );
    params[`${name}.bias`] = tf.tensor1d(Float32Array.from({ length: out }, () => rng.uniform(-bound, bound)));
  }
  return params;
}

const dense = (p: VaeParams, name: string, x: tf.Tensor) =>
  tf.add(tf.matMul(x as tf.Tensor2D, p[`${name}.weight`] as tf.Tensor2D), p[`${name}.bias`]);

/** μ and log σ² of q(z | x) for rows x [n, input]. */
export function encode(p: VaeParams, shape: VaeShape, x: tf.Tensor): { mu: tf.Tensor; logvar: tf.Tensor } {
  let h = x;
  shape.hidden.forEach((_, i) => (h = tf.relu(dense(p, `enc${i}`, h))));
  return { mu: dense(p, 'mu', h), logvar: dense(p, 'logvar', h) };
}

/** The decoder's output for latents z [n, latent]: the generated (or reconstructed) rows. */
export function decode(p: VaeParams, shape: VaeShape, z: tf.Tensor): tf.Tensor {
  let h = z;
  const n = shape.hidden.length;
  for (let i = 0; i < n; i++) h = tf.relu(dense(p, `dec${i}`, h));
  const out = dense(p, `dec${n}`, h);
  return shape.recon === 'bce' ? tf.sigmoid(out) : out;
}

/** `n` rows from the prior: decode(z), z ~ N(0, I) drawn from `seed`. */
export function sampleVae(p: VaeParams, shape: VaeShape, n: number, seed: number): tf.Tensor {
  return decode(p, shape, tf.randomNormal([n, shape.latent], 0, 1, 'float32', seed));
}

/**
 * The reference code's loss on rows x: reconstruction (binary cross-entropy or squared error, mean over features
 * and rows) plus KL(q(z|x) ‖ N(0, I)) summed over the latent, averaged over rows and divided by the number of
 * features; z = μ + σ·ε with ε drawn from `seed`.
 */
export function vaeLoss(p: VaeParams, shape: VaeShape, x: tf.Tensor, seed: number): tf.Scalar {
  const { mu, logvar } = encode(p, shape, x);
  const eps = tf.randomNormal(mu.shape, 0, 1, 'float32', seed);
  const z = tf.add(mu, tf.mul(tf.exp(tf.mul(logvar, 0.5)), eps));
  const out = decode(p, shape, z);
  let recon: tf.Scalar;
  if (shape.recon === 'bce') {
    // PyTorch's binary_cross_entropy clamps the log at −100.
    const logP = tf.maximum(tf.log(out), -100);
    const log1mP = tf.maximum(tf.log(tf.sub(1, out)), -100);
    recon = tf.neg(tf.mean<tf.Scalar>(tf.add(tf.mul(x, logP), tf.mul(tf.sub(1, x), log1mP))));
  } else {
    recon = tf.mean<tf.Scalar>(tf.square(tf.sub(x, out)));
  }
  const kl = tf.mul(-0.5, tf.sum(tf.sub(tf.add(1, logvar), tf.add(tf.square(mu), tf.exp(logvar))), 1));
  return tf.add(recon, tf.div(tf.mean(kl), shape.input));
}

/** Adam's state for the generator: moments by parameter name and the step count. */
export interface VaeAdam {
  readonly m: VaeParams;
  readonly v: VaeParams;
  readonly t: tf.Scalar;
}

export function initVaeAdam(p: VaeParams): VaeAdam {
  return {
    m: Object.fromEntries(Object.entries(p).map(([n, t]) => [n, tf.zerosLike(t)])),
    v: Object.fromEntries(Object.entries(p).map(([n, t]) => [n, tf.zerosLike(t)])),
    t: tf.scalar(0),
  };
}

/**
 * One step of PyTorch's Adam (betas 0.9/0.999, ε 1e-8) on `loss(params)`: new parameters and state, created in the
 * caller's tidy.
 */
export function vaeAdamStep(
  p: VaeParams,
  adam: VaeAdam,
  lr: number,
  loss: (params: VaeParams) => tf.Scalar,
): { params: VaeParams; adam: VaeAdam; loss: tf.Scalar } {
  const names = Object.keys(p).sort();
  const f = (...xs: tf.Tensor[]) => loss(Object.fromEntries(names.map((n, i) => [n, xs[i]])));
  const { value: lossValue, grads: g } = tf.valueAndGrads(f)(names.map((n) => p[n]));
  const t = tf.add<tf.Scalar>(adam.t, 1);
  const c1 = tf.sub(1, tf.pow(0.9, t));
  const c2 = tf.sub(1, tf.pow(0.999, t));
  const params: VaeParams = {};
  const m: VaeParams = {};
  const v: VaeParams = {};
  names.forEach((n, i) => {
    m[n] = tf.add(tf.mul(adam.m[n], 0.9), tf.mul(g[i], 0.1));
    v[n] = tf.add(tf.mul(adam.v[n], 0.999), tf.mul(tf.square(g[i]), 0.001));
    const step = tf.div(tf.div(m[n], c1), tf.add(tf.sqrt(tf.div(v[n], c2)), 1e-8));
    params[n] = tf.sub(p[n], tf.mul(step, lr));
  });
  return { params, adam: { m, v, t }, loss: lossValue };
}
