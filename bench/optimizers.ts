// npm run bench — median time per training step of every optimizer on the
// Split-MNIST MLP (784-400-400-10, batch 128), in one process per backend (native TensorFlow and wasm, or --backend),
// interleaved in rounds so that drift on a shared machine hits all alike;
// plus a bare tfjs loop (hand-written AdamW, no framework) for the framework's
// own overhead. Prints a table and one JSON line. Not part of `npm test`.
import { lastValueFrom, toArray } from 'rxjs';
import { builtinPlugins } from '../plugins/index.js';
import { PluginRegistry } from '../src/plugin/registry.js';
import { validateExperiment } from '../src/spec/validate.js';
import { runEvents } from '../src/engine/session.js';
import { selectBackend, type BackendChoice, type BackendInfo } from '../src/tensor/backend.js';
import { tf } from '../src/tensor/tf.js';
import { Rng } from '../src/tensor/rng.js';
import { renderTable } from '../src/report/format.js';
import type { RunEvent } from '../src/contracts/events.js';
import { KERNELS_ENV, rowKernels } from '../src/native/kernels.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const rounds = Number(args.get('rounds') ?? 3);
const EPOCHS = 3; // the first of each run is warm-up
const TRAIN = 5120; // 40 steps of 128 per epoch

// Weight decay 0 throughout: the anchored methods' base then is exactly the adamw row's rule.
const OPTIMIZERS: Record<string, Record<string, unknown>> = {
  adamw: { name: 'adamw', lr: 1e-3, weightDecay: 0 },
  sgd: { name: 'sgd', lr: 0.05, momentum: 0.9 },
  ftp: { name: 'ftp', lr: 1e-3, weightDecay: 0 },
  tpgm: { name: 'tpgm', lr: 1e-3, weightDecay: 0, projEvery: 1, valFraction: 0.1 },
  pgd: { name: 'pgd', lr: 1e-3, weightDecay: 0, radius: 0.1 },
  l2sp: { name: 'l2sp', lr: 1e-3, weightDecay: 0, alpha: 0.01 },
  spd: { name: 'spd', lr: 1e-3, weightDecay: 0, lambda: 0.1 },
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const registry = new PluginRegistry(builtinPlugins);

async function frameworkMsPerStep(backend: BackendInfo, optimizer: Record<string, unknown>): Promise<number[]> {
  const spec = {
    name: 'bench',
    dataset: {
      name: 'mnist',
      trainLimit: TRAIN + (optimizer.name === 'tpgm' ? Math.ceil(TRAIN / 9) : 0),
      testLimit: 500,
    },
    stream: { name: 'split', tasksOf: 10 },
    model: { name: 'mlp', hidden: [400, 400] },
    optimizer,
    train: { epochs: EPOCHS, batchSize: 128, logEvery: 1_000_000 },
  };
  const [config] = validateExperiment(spec, registry, `${process.cwd()}/bench/virtual.ts`);
  const events: RunEvent[] = await lastValueFrom(runEvents(config, registry, backend).pipe(toArray()));
  const end = events.at(-1) as Extract<RunEvent, { type: 'run-end' }>;
  if (end.status !== 'completed') throw new Error(`${String(optimizer.name)}: ${end.error}`);
  return events.flatMap((e) => (e.type === 'epoch-end' && e.epoch > 0 ? [(1000 * e.seconds) / e.steps] : []));
}

/** The same model and batches with no framework: variables, variableGrads, hand-written AdamW. */
function bareMsPerStep(): number[] {
  const rng = new Rng(0);
  const sizes = [784, 400, 400, 10];
  const vars: tf.Variable[] = [];
  for (let i = 0; i < 3; i++) {
    const bound = 1 / Math.sqrt(sizes[i]);
    vars.push(
      tf.tidy(() =>
        tf.variable(
          tf.tensor2d(
            Float32Array.from({ length: sizes[i] * sizes[i + 1] }, () => rng.uniform(-bound, bound)),
            [sizes[i], sizes[i + 1]],
          ),
        ),
      ),
    );
    vars.push(tf.tidy(() => tf.variable(tf.zeros([sizes[i + 1]]))));
  }
  const m = vars.map((v) => tf.variable(tf.zerosLike(v)));
  const v2 = vars.map((v) => tf.variable(tf.zerosLike(v)));
  const x = tf.randomUniform([TRAIN, 784]);
  const y = tf.randomUniform([TRAIN], 0, 10, 'int32');
  const out: number[] = [];
  let t = 0;
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    const start = performance.now();
    const steps = TRAIN / 128;
    for (let s = 0; s < steps; s++) {
      t++;
      tf.tidy(() => {
        const xb = tf.slice(x, [s * 128, 0], [128, 784]);
        const yb = tf.oneHot(tf.slice(y, [s * 128], [128]), 10);
        const { grads } = tf.variableGrads(() => {
          let h: tf.Tensor = xb;
          for (let l = 0; l < 3; l++) {
            h = tf.add(tf.matMul(h, vars[2 * l]), vars[2 * l + 1]);
            if (l < 2) h = tf.relu(h);
          }
          return tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(yb, h);
        }, vars);
        vars.forEach((p, i) => {
          const g = grads[p.name];
          m[i].assign(tf.add(tf.mul(m[i], 0.9), tf.mul(g, 0.1)));
          v2[i].assign(tf.add(tf.mul(v2[i], 0.999), tf.mul(tf.square(g), 0.001)));
          const update = tf.div(tf.div(m[i], 1 - 0.9 ** t), tf.add(tf.sqrt(tf.div(v2[i], 1 - 0.999 ** t)), 1e-8));
          p.assign(tf.sub(p, tf.mul(update, 1e-3)));
        });
      });
    }
    if (epoch > 0) out.push((performance.now() - start) / steps);
  }
  tf.dispose([...vars, ...m, ...v2, x, y]);
  return out;
}

const only = args.get('only')?.split(',');
for (const name of Object.keys(OPTIMIZERS)) if (only && !only.includes(name)) delete OPTIMIZERS[name];

/** One backend: interleaved rounds, a table, and one JSON line. */
async function benchOn(backend: BackendInfo): Promise<void> {
  const samples: Record<string, number[]> = { bare: [] };
  // On native TensorFlow with the fused kernels, FTP a second time through tfjs ops: what the kernels save.
  const loops = Object.entries(OPTIMIZERS).flatMap(([name, spec]) => [
    { name, spec, ops: false },
    ...(name === 'ftp' && rowKernels() ? [{ name: 'ftp_ops', spec, ops: true }] : []),
  ]);
  for (const { name } of loops) samples[name] = [];
  for (let r = 0; r < rounds; r++) {
    samples.bare.push(...bareMsPerStep());
    for (const { name, spec, ops } of loops) {
      if (ops) process.env[KERNELS_ENV] = '0';
      try {
        samples[name].push(...(await frameworkMsPerStep(backend, spec)));
      } finally {
        delete process.env[KERNELS_ENV];
      }
      process.stderr.write(`${backend.name} round ${r + 1}/${rounds}: ${name} done\n`);
    }
  }
  const ms = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
  const ratios = Object.fromEntries(
    (
      [
        ['ftp_over_adamw', ms.ftp / ms.adamw],
        ['ftp_ops_over_adamw', ms.ftp_ops / ms.adamw],
        ['tpgm_over_ftp', ms.tpgm / ms.ftp],
        ['l2sp_over_adamw', ms.l2sp / ms.adamw],
        ['spd_over_adamw', ms.spd / ms.adamw],
        ['pgd_over_adamw', ms.pgd / ms.adamw],
        ['framework_adamw_over_bare', ms.adamw / ms.bare],
      ] as [string, number][]
    ).filter(([, v]) => Number.isFinite(v)),
  );
  console.log(
    `backend: ${backend.name} (${backend.detail}); MLP 784-400-400-10, batch 128; median of ` +
      `${samples.bare.length} epochs of ${TRAIN / 128} steps per optimizer\n`,
  );
  console.log(
    renderTable([
      ['loop', 'ms/step', 'steps'],
      ...Object.entries(ms).map(([k, v]) => [k, v.toFixed(2), String(samples[k].length * (TRAIN / 128))]),
    ]),
  );
  console.log('');
  console.log(renderTable([['ratio', 'value'], ...Object.entries(ratios).map(([k, v]) => [k, v.toFixed(3)])]));
  console.log(
    JSON.stringify({
      bench: 'optimizers',
      backend: backend.name,
      backendDetail: backend.detail,
      ...ratios,
      msPerStep: ms,
      rounds,
      stepsPerSample: TRAIN / 128,
    }),
  );
}

// Every backend that loads (native TensorFlow, wasm), or the one named by --backend.
const choices = (args.get('backend') ? [args.get('backend')] : ['tensorflow', 'wasm']) as BackendChoice[];
for (const choice of choices) {
  let backend: BackendInfo;
  try {
    backend = await selectBackend(choice);
  } catch (e) {
    process.stderr.write(`${choice}: not available (${(e as Error).message.split('\n')[0]})\n`);
    continue;
  }
  await benchOn(backend);
}
