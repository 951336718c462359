// npm run bench:together — what `--together` buys: an experiment's runs
// (optionally some of its variants), trained one after another and then as
// groups of up to K, in this process, each into a fresh results folder;
// wall-clock seconds of both and their ratio, one JSON line, plus the plan's
// lines (which runs trained alone and why). Rounds alternate the order
// (alone first, then together first). Never part of npm test.
// npm run bench:together -- --experiment=experiments/three-scenarios.ts --only=dataset=mnist --only=scenario=task-il
// --only=strategy=naive,ewc --seeds=1,2,3 --together=6 --backend=tensorflow
//   npm run bench:together -- --steps=200     (fewer steps per task: the per-step ratio in minutes)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinPlugins } from '../plugins/index.js';
import { loadExperiment } from '../src/experiment/load.js';
import { executeRuns } from '../src/experiment/schedule.js';
import { filterRuns } from '../src/experiment/filter-runs.js';
import { DatasetCache } from '../src/engine/container.js';
import { planTogether } from '../src/together/plan.js';
import { selectBackend, type BackendChoice } from '../src/tensor/backend.js';
import { median } from './loops.js';

const argv = process.argv.slice(2).map((a) => /^--([^=]+)=?(.*)$/.exec(a)!.slice(1) as [string, string]);
const args = new Map(argv);
const file = args.get('experiment') ?? 'experiments/three-scenarios.ts';
const k = Number(args.get('together') ?? 3);
const rounds = Number(args.get('rounds') ?? 1);
const seeds = args.get('seeds')?.split(',').map(Number);
const steps = args.has('steps') ? Number(args.get('steps')) : undefined;
// --only as `anchorage run` takes it, repeatable: --only=dataset=mnist --only=strategy=naive,ewc
const only = argv.filter(([k]) => k === 'only').map(([, v]) => v);

const backend = await selectBackend((args.get('backend') ?? 'auto') as BackendChoice);
const loaded = await loadExperiment(file, builtinPlugins, { seeds, steps, checkpoint: { enabled: false } });
const runs = filterRuns(loaded.runs, only);
const datasets = new DatasetCache();
const plan = await planTogether(runs, k, loaded.registry, backend, datasets);
for (const line of plan.notes) process.stderr.write(`${line}\n`);

async function timed(together: boolean): Promise<number> {
  const out = mkdtempSync(join(tmpdir(), `anchorage-together-${together ? 'k' : '1'}-`));
  const start = performance.now();
  const outcomes = await executeRuns(runs, loaded.registry, backend, {
    out,
    rerun: true,
    datasets,
    ...(together ? { together: plan.groups } : {}),
  });
  const seconds = (performance.now() - start) / 1000;
  const failed = outcomes.filter((o) => o.status !== 'completed');
  if (failed.length)
    throw new Error(
      `${failed.length} runs did not complete ` +
        `(${failed.map((o) => `${o.config.runId}: ${o.status}`).join(', ')}); see ${out}`,
    );
  rmSync(out, { recursive: true, force: true });
  process.stderr.write(`${together ? 'together' : 'alone'}: ${seconds.toFixed(1)} s\n`);
  return seconds;
}

const alone: number[] = [];
const together: number[] = [];
for (let r = 0; r < rounds; r++) {
  // Alternate which comes first: the machine's speed drifts over minutes.
  if (r % 2 === 0) {
    alone.push(await timed(false));
    together.push(await timed(true));
  } else {
    together.push(await timed(true));
    alone.push(await timed(false));
  }
}
console.log(
  JSON.stringify({
    experiment: loaded.runs[0].experiment,
    backend: backend.name,
    runs: runs.length,
    together_k: k,
    groups: plan.groups.map((g) => g.length),
    alone_runs: runs.length - plan.groups.reduce((a, g) => a + g.length, 0),
    steps_per_task: steps ?? 'experiment',
    rounds,
    alone_s: median(alone),
    together_s: median(together),
    alone_over_together: median(alone) / median(together),
  }),
);
