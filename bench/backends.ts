// npm run bench:backends — ms per training step of the Split-MNIST MLP and
// the small CNN on every available backend, for a bare tfjs loop (variables,
// variableGrads, hand-written Adam) and for anchorage's own loop (events,
// throttled logging, sampler, optimizer runner). Median of ≥ 30 steps after
// warm-up; a table and one JSON line.
import { lastValueFrom, toArray } from 'rxjs';
import { builtinPlugins } from '../plugins/index.js';
import { PluginRegistry } from '../src/plugin/registry.js';
import { validateExperiment } from '../src/experiment/validate.js';
import { runEvents } from '../src/run/run.js';
import { selectBackend, type BackendName } from '../src/tensor/backend.js';
import { tf } from '../src/tensor/tf.js';
import { Rng } from '../src/tensor/rng.js';
import { renderTable } from '../src/report/format.js';
import type { RunEvent } from '../src/run/events.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const STEPS = Number(args.get('steps') ?? 30);
const WARMUP = 5;
const BATCH = 128;
const MODELS = {
  mlp: { name: 'mlp', hidden: [400, 400] },
  // The width of the PyTorch reference (784-256-256-10), for a like-for-like comparison.
  mlp256: { name: 'mlp', hidden: [256, 256] },
  cnn: { name: 'cnn', channels: [16, 32], hidden: 128 },
} as const;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const registry = new PluginRegistry(builtinPlugins);

/** anchorage's loop: one task of MNIST, every step logged (a read-back per step, as the bare loop does). */
async function framework(backend: BackendName, model: (typeof MODELS)[keyof typeof MODELS]): Promise<number[]> {
  const info = await selectBackend(backend);
  const spec = {
    name: 'bench',
    dataset: { name: 'mnist', trainLimit: BATCH * (STEPS + WARMUP) * 2, testLimit: 200 },
    stream: { name: 'split', tasksOf: 10 },
    model,
    optimizer: { name: 'adamw', lr: 1e-3, weightDecay: 0 },
    train: { steps: STEPS + WARMUP, batchSize: BATCH, logEvery: 1 },
  };
  const [config] = validateExperiment(spec, registry, `${process.cwd()}/bench/virtual.ts`);
  const events: RunEvent[] = await lastValueFrom(runEvents(config, registry, info).pipe(toArray()));
  const end = events.at(-1) as Extract<RunEvent, { type: 'run-end' }>;
  if (end.status !== 'completed') throw new Error(`${model.name} on ${backend}: ${end.error}`);
  return events.flatMap((e) => (e.type === 'step' ? [(BATCH * 1000) / e.examplesPerSecond] : [])).slice(WARMUP);
}

/** The same model and batch with no framework at all. */
async function bare(backend: BackendName, kind: keyof typeof MODELS): Promise<number[]> {
  await selectBackend(backend);
  const rng = new Rng(0);
  const u = (shape: number[], fanIn: number) => tf.tidy(() => tf.variable(tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-1, 1) / Math.sqrt(fanIn)), shape)));
  const w = kind === 'mlp256' ? 256 : 400;
  const vars: tf.Variable[] =
    kind !== 'cnn'
      ? [u([784, w], 784), u([w], 784), u([w, w], w), u([w], w), u([w, 10], w), u([10], w)]
      : [u([3, 3, 1, 16], 9), u([16], 9), u([3, 3, 16, 32], 144), u([32], 144), u([7 * 7 * 32, 128], 1568), u([128], 1568), u([128, 10], 128), u([10], 128)];
  const forward = (x: tf.Tensor): tf.Tensor => {
    if (kind !== 'cnn') {
      let h = x;
      for (let l = 0; l < 3; l++) {
        h = tf.add(tf.matMul(h, vars[2 * l]), vars[2 * l + 1]);
        if (l < 2) h = tf.relu(h);
      }
      return h;
    }
    let a: tf.Tensor = tf.reshape(x, [-1, 28, 28, 1]);
    for (let l = 0; l < 2; l++) a = tf.maxPool(tf.relu(tf.add(tf.conv2d(a as tf.Tensor4D, vars[2 * l] as tf.Tensor4D, 1, 'same'), vars[2 * l + 1])) as tf.Tensor4D, 2, 2, 'same');
    a = tf.relu(tf.add(tf.matMul(tf.reshape(a, [-1, 7 * 7 * 32]), vars[4]), vars[5]));
    return tf.add(tf.matMul(a, vars[6]), vars[7]);
  };
  const m = vars.map((v) => tf.variable(tf.zerosLike(v)));
  const s = vars.map((v) => tf.variable(tf.zerosLike(v)));
  const x = tf.randomUniform([BATCH * 4, 784]);
  const y = tf.randomUniform([BATCH * 4], 0, 10, 'int32');
  const times: number[] = [];
  for (let t = 1; t <= STEPS + WARMUP; t++) {
    const start = performance.now();
    const loss = tf.tidy(() => {
      const k = (t % 4) * BATCH;
      const yb = tf.oneHot(tf.slice(y, [k], [BATCH]), 10);
      const xb = tf.slice(x, [k, 0], [BATCH, 784]);
      const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(yb, forward(xb)) as tf.Scalar, vars);
      vars.forEach((p, i) => {
        const g = grads[p.name];
        m[i].assign(tf.add(tf.mul(m[i], 0.9), tf.mul(g, 0.1)));
        s[i].assign(tf.add(tf.mul(s[i], 0.999), tf.mul(tf.square(g), 0.001)));
        p.assign(tf.sub(p, tf.mul(tf.div(tf.div(m[i], 1 - 0.9 ** t), tf.add(tf.sqrt(tf.div(s[i], 1 - 0.999 ** t)), 1e-8)), 1e-3)));
      });
      return value;
    });
    await loss.data();
    loss.dispose();
    if (t > WARMUP) times.push(performance.now() - start);
  }
  tf.dispose([...vars, ...m, ...s, x, y]);
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
const results: { backend: string; model: string; bareMs: number; frameworkMs: number; ratio: number }[] = [];
for (const backend of backends.filter((b) => !only || only.includes(b))) {
  for (const kind of (Object.keys(MODELS) as (keyof typeof MODELS)[]).filter((k) => !args.get('models') || args.get('models')!.split(',').includes(k))) {
    const b = median(await bare(backend, kind));
    const f = median(await framework(backend, MODELS[kind]));
    results.push({ backend, model: kind, bareMs: b, frameworkMs: f, ratio: f / b });
    process.stderr.write(`${backend} ${kind}: bare ${b.toFixed(2)} ms, framework ${f.toFixed(2)} ms\n`);
  }
}
console.log(`median ms/step over ${STEPS} steps after ${WARMUP} warm-up steps; batch ${BATCH}; Adam\n`);
console.log(renderTable([['backend', 'model', 'bare tfjs', 'anchorage', 'anchorage/bare'], ...results.map((r) => [r.backend, r.model, r.bareMs.toFixed(2), r.frameworkMs.toFixed(2), r.ratio.toFixed(3)])]));
console.log(JSON.stringify({ bench: 'backends', steps: STEPS, batch: BATCH, results }));
