// npm run bench:threads — native TensorFlow's thread settings and oneDNN,
// measured rather than guessed: anchorage's training step for each model
// (bench/backends.ts --framework-only) in a fresh process per setting
// (TensorFlow reads them once, at start-up), settings interleaved over
// rounds. Prints a table and one JSON line; the fastest deterministic setting
// per model is what `anchorage run` makes the default (src/cli/run-threads.ts).
//   npm run bench:threads -- --rounds=2 --steps=20 [--models=mlp256,mlp,cnn,resnet18]
import { spawnSync } from 'node:child_process';
import { renderTable } from '../src/report/format.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const ROUNDS = Number(args.get('rounds') ?? 2);
const STEPS = Number(args.get('steps') ?? 20);
const MODELS = (args.get('models') ?? 'mlp256,mlp,cnn,resnet18').split(',');
const SETTINGS = [
  { intra: '1', inter: '1', onednn: '0' },
  { intra: '2', inter: '1', onednn: '0' },
  { intra: '2', inter: '2', onednn: '0' },
  { intra: '1', inter: '1', onednn: '1' },
  { intra: '2', inter: '2', onednn: '1' },
];
const label = (s: (typeof SETTINGS)[number]) =>
  `intra ${s.intra}, inter ${s.inter}, oneDNN ${s.onednn === '1' ? 'on' : 'off'}`;
const times = new Map<string, Record<string, number[]>>();
for (let r = 0; r < ROUNDS; r++) {
  for (const s of SETTINGS) {
    const env = {
      ...process.env,
      TF_NUM_INTRAOP_THREADS: s.intra,
      TF_NUM_INTEROP_THREADS: s.inter,
      TF_ENABLE_ONEDNN_OPTS: s.onednn,
    };
    const out = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/backends.ts',
        '--backends=tensorflow',
        `--models=${MODELS.join(',')}`,
        `--steps=${STEPS}`,
        '--rounds=1',
        '--framework-only',
      ],
      { env, encoding: 'utf8' },
    );
    const line = out.stdout.split('\n').find((l) => l.startsWith('{"bench"'));
    if (!line) throw new Error(`${label(s)}: ${out.stderr.slice(-500)}`);
    const row = times.get(label(s)) ?? {};
    for (const res of (JSON.parse(line) as { results: { model: string; frameworkMs: number }[] }).results)
      (row[res.model] ??= []).push(res.frameworkMs);
    times.set(label(s), row);
    process.stderr.write(`round ${r + 1} ${label(s)}: ${line}\n`);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const results = [...times].map(([setting, row]) => ({
  setting,
  ms: Object.fromEntries(MODELS.map((m) => [m, median(row[m])])),
}));
console.log(
  `anchorage's training step on native TensorFlow, ms (median over ${ROUNDS} interleaved rounds of ${STEPS} steps)\n`,
);
console.log(
  renderTable([['setting', ...MODELS], ...results.map((r) => [r.setting, ...MODELS.map((m) => r.ms[m].toFixed(2))])]),
);
console.log(JSON.stringify({ bench: 'threads', rounds: ROUNDS, steps: STEPS, results }));
