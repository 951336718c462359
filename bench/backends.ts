// npm run bench:backends — ms per training step of the Split-MNIST MLP, the
// small CNN (MNIST, batch 128) and the reduced ResNet-18 (a CIFAR-size batch:
// 32×32×3, batch 32) on every available backend, for a bare tfjs loop
// (variables, variableGrads, hand-written Adam, hand-written batch norm) and
// for anchorage's own loop (events, throttled logging, sampler, optimizer
// runner). Median of ≥ 30 steps after warm-up; a table and one JSON line.
import { selectBackend, type BackendName } from '../src/tensor/backend.js';
import { tf } from '../src/tensor/tf.js';
import { Rng } from '../src/tensor/rng.js';
import { renderTable } from '../src/report/format.js';
import { MODELS, WARMUP, batchOf, frameworkStepTimes, median, type Kind } from './loops.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const STEPS = Number(args.get('steps') ?? 30);
const ROUNDS = Number(args.get('rounds') ?? 2);
/** --framework-only: time anchorage's loop alone (bench/threads.ts compares settings with it). */
const FRAMEWORK_ONLY = args.has('framework-only');
const framework = (backend: BackendName, kind: Kind) => frameworkStepTimes(backend, kind, STEPS);

type Init = (shape: number[], fanIn: number) => tf.Variable;

/**
 * The reduced ResNet-18 written directly in tfjs (PyTorch's padding for the
 * stride-2 convolutions, batch norm with running statistics): the baseline
 * anchorage's layer graph is measured against.
 */
function bareResnet(u: Init): { vars: tf.Variable[]; forward: (x: tf.Tensor) => tf.Tensor; dispose: () => void } {
  const vars: tf.Variable[] = [];
  const stats: tf.Variable[] = [];
  const v = (shape: number[], fanIn: number) => {
    const p = u(shape, fanIn);
    vars.push(p);
    return p;
  };
  const bnParams = (c: number) => {
    const gamma = tf.variable(tf.ones([c]));
    const beta = tf.variable(tf.zeros([c]));
    vars.push(gamma, beta);
    const mean = tf.variable(tf.zeros([c]), false);
    const variance = tf.variable(tf.ones([c]), false);
    stats.push(mean, variance);
    return { gamma, beta, mean, variance };
  };
  const bn = (p: ReturnType<typeof bnParams>, a: tf.Tensor): tf.Tensor => {
    const m = tf.moments(a, [0, 1, 2]);
    const n = a.size / a.shape[3]!;
    tf.tidy(() => {
      p.mean.assign(tf.add(tf.mul(p.mean, 0.9), tf.mul(m.mean, 0.1)));
      p.variance.assign(tf.add(tf.mul(p.variance, 0.9), tf.mul(m.variance, (0.1 * n) / (n - 1))));
    });
    return tf.batchNorm(a, m.mean, m.variance, p.beta, p.gamma, 1e-5);
  };
  const conv = (a: tf.Tensor, w: tf.Variable, stride: number): tf.Tensor =>
    stride === 1
      ? tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, 1, w.shape[0] === 1 ? 'valid' : 'same')
      : w.shape[0] === 1
        ? tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, 2, 'valid')
        : tf.conv2d(
            tf.pad(a as tf.Tensor4D, [
              [0, 0],
              [1, 1],
              [1, 1],
              [0, 0],
            ]),
            w as tf.Tensor4D,
            2,
            'valid',
          );
  const nf = 20;
  const stem = { w: v([3, 3, 3, nf], 27), bn: bnParams(nf) };
  const blocks: {
    stride: number;
    w1: tf.Variable;
    b1: ReturnType<typeof bnParams>;
    w2: tf.Variable;
    b2: ReturnType<typeof bnParams>;
    sw?: tf.Variable;
    sb?: ReturnType<typeof bnParams>;
  }[] = [];
  let cin = nf;
  for (let s = 0; s < 4; s++) {
    const planes = nf * 2 ** s;
    for (let b = 0; b < 2; b++) {
      const stride = b === 0 && s > 0 ? 2 : 1;
      const block = {
        stride,
        w1: v([3, 3, cin, planes], 9 * cin),
        b1: bnParams(planes),
        w2: v([3, 3, planes, planes], 9 * planes),
        b2: bnParams(planes),
      } as (typeof blocks)[number];
      if (stride !== 1 || cin !== planes)
        Object.assign(block, { sw: v([1, 1, cin, planes], cin), sb: bnParams(planes) });
      blocks.push(block);
      cin = planes;
    }
  }
  const head = { w: v([cin, 10], cin), b: v([10], cin) };
  const forward = (x: tf.Tensor): tf.Tensor => {
    let a = tf.relu(bn(stem.bn, conv(tf.reshape(x, [-1, 32, 32, 3]), stem.w, 1)));
    for (const k of blocks) {
      const h = bn(k.b2, conv(tf.relu(bn(k.b1, conv(a, k.w1, k.stride))), k.w2, 1));
      a = tf.relu(tf.add(h, k.sw ? bn(k.sb!, conv(a, k.sw, k.stride)) : a));
    }
    return tf.add(tf.matMul(tf.mean(a, [1, 2]), head.w), head.b);
  };
  return { vars, forward, dispose: () => tf.dispose([...vars, ...stats]) };
}

/** The same model and batch with no framework at all. */
async function bare(backend: BackendName, kind: Kind): Promise<number[]> {
  await selectBackend(backend);
  const rng = new Rng(0);
  const BATCH = batchOf(kind);
  const u: Init = (shape, fanIn) =>
    tf.tidy(() =>
      tf.variable(
        tf.tensor(
          Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-1, 1) / Math.sqrt(fanIn)),
          shape,
        ),
      ),
    );
  const w = kind === 'mlp256' ? 256 : 400;
  const resnet = kind === 'resnet18' ? bareResnet(u) : undefined;
  const vars: tf.Variable[] = resnet
    ? resnet.vars
    : kind !== 'cnn'
      ? [u([784, w], 784), u([w], 784), u([w, w], w), u([w], w), u([w, 10], w), u([10], w)]
      : [
          u([3, 3, 1, 16], 9),
          u([16], 9),
          u([3, 3, 16, 32], 144),
          u([32], 144),
          u([7 * 7 * 32, 128], 1568),
          u([128], 1568),
          u([128, 10], 128),
          u([10], 128),
        ];
  const inputSize = resnet ? 32 * 32 * 3 : 784;
  const forward = (x: tf.Tensor): tf.Tensor => {
    if (resnet) return resnet.forward(x);
    if (kind !== 'cnn') {
      let h = x;
      for (let l = 0; l < 3; l++) {
        h = tf.add(tf.matMul(h, vars[2 * l]), vars[2 * l + 1]);
        if (l < 2) h = tf.relu(h);
      }
      return h;
    }
    let a: tf.Tensor = tf.reshape(x, [-1, 28, 28, 1]);
    for (let l = 0; l < 2; l++)
      a = tf.maxPool(
        tf.relu(
          tf.add(tf.conv2d(a as tf.Tensor4D, vars[2 * l] as tf.Tensor4D, 1, 'same'), vars[2 * l + 1]),
        ) as tf.Tensor4D,
        2,
        2,
        'same',
      );
    a = tf.relu(tf.add(tf.matMul(tf.reshape(a, [-1, 7 * 7 * 32]), vars[4]), vars[5]));
    return tf.add(tf.matMul(a, vars[6]), vars[7]);
  };
  const m = vars.map((v) => tf.variable(tf.zerosLike(v)));
  const s = vars.map((v) => tf.variable(tf.zerosLike(v)));
  const x = tf.randomUniform([BATCH * 4, inputSize]);
  const y = tf.randomUniform([BATCH * 4], 0, 10, 'int32');
  const times: number[] = [];
  for (let t = 1; t <= STEPS + WARMUP; t++) {
    const start = performance.now();
    const loss = tf.tidy(() => {
      const k = (t % 4) * BATCH;
      const yb = tf.oneHot(tf.slice(y, [k], [BATCH]), 10);
      const xb = tf.slice(x, [k, 0], [BATCH, inputSize]);
      const { value, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(yb, forward(xb)),
        vars,
      );
      vars.forEach((p, i) => {
        const g = grads[p.name];
        m[i].assign(tf.add(tf.mul(m[i], 0.9), tf.mul(g, 0.1)));
        s[i].assign(tf.add(tf.mul(s[i], 0.999), tf.mul(tf.square(g), 0.001)));
        p.assign(
          tf.sub(
            p,
            tf.mul(tf.div(tf.div(m[i], 1 - 0.9 ** t), tf.add(tf.sqrt(tf.div(s[i], 1 - 0.999 ** t)), 1e-8)), 1e-3),
          ),
        );
      });
      return value;
    });
    await loss.data();
    loss.dispose();
    if (t > WARMUP) times.push(performance.now() - start);
  }
  tf.dispose([...(resnet ? [] : vars), ...m, ...s, x, y]);
  resnet?.dispose();
  return times;
}

const backends: BackendName[] = [];
for (const b of ['tensorflow', 'wasm'] as BackendName[]) {
  try {
    await selectBackend(b);
    backends.push(b);
  } catch (e) {
    process.stderr.write(`${b}: not available (${(e as Error).message.split('\n')[0]})\n`);
  }
}
const only = args.get('backends')?.split(',');
const results: { backend: string; model: string; batch: number; bareMs: number; frameworkMs: number; ratio: number }[] =
  [];
for (const backend of backends.filter((b) => !only || only.includes(b))) {
  for (const kind of (Object.keys(MODELS) as Kind[]).filter(
    (k) => !args.get('models') || args.get('models')!.split(',').includes(k),
  )) {
    // Interleaved rounds, so that a change in the machine's load hits both loops alike.
    const [bareTimes, frameworkTimes]: number[][] = [[], []];
    for (let r = 0; r < ROUNDS; r++) {
      if (!FRAMEWORK_ONLY) bareTimes.push(...(await bare(backend, kind)));
      frameworkTimes.push(...(await framework(backend, kind)));
    }
    const [b, f] = [FRAMEWORK_ONLY ? NaN : median(bareTimes), median(frameworkTimes)];
    results.push({ backend, model: kind, batch: batchOf(kind), bareMs: b, frameworkMs: f, ratio: f / b });
    process.stderr.write(`${backend} ${kind}: bare ${b.toFixed(2)} ms, framework ${f.toFixed(2)} ms\n`);
  }
}
console.log(
  `median ms/step over ${ROUNDS} interleaved rounds of ${STEPS} steps, each after ${WARMUP} warm-up steps; Adam\n`,
);
console.log(
  renderTable([
    ['backend', 'model', 'batch', 'bare tfjs', 'anchorage', 'anchorage/bare'],
    ...results.map((r) => [
      r.backend,
      r.model,
      String(r.batch),
      r.bareMs.toFixed(2),
      r.frameworkMs.toFixed(2),
      r.ratio.toFixed(3),
    ]),
  ]),
);
console.log(JSON.stringify({ bench: 'backends', steps: STEPS, rounds: ROUNDS, results }));
