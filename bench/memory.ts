// npm run bench:memory — where a run's resident memory goes: RSS, the host's
// typed arrays (`arrayBuffers`) and the JS heap after each stage of one run
// in this process — node with the modules, the backend loaded, the run set up
// (data set and stream built), each task's start and its evaluation — and the
// process's peak (`maxRSS`). The default run is the reference run of the
// performance notes: Split MNIST domain-IL, MLP 784-400-400-10, Adam, batch
// 128, 2,000 steps per task (`--steps` shortens it). Not part of `npm test`.
//
//   npm run bench:memory -- [--backend=tensorflow] [--steps=2000]
import { readFileSync } from 'node:fs';
import { builtinPlugins } from '../plugins/index.js';
import { PluginRegistry } from '../src/plugin/registry.js';
import { validateExperiment } from '../src/spec/validate.js';
import { runEvents } from '../src/engine/session.js';
import { selectBackend, type BackendChoice } from '../src/tensor/backend.js';
import { renderTable } from '../src/report/format.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const backendChoice = (args.get('backend') ?? 'auto') as BackendChoice;
const steps = Number(args.get('steps') ?? 2000);

const SPEC = {
  name: 'bench-memory',
  dataset: { name: 'mnist' },
  stream: { name: 'split', tasksOf: 2 },
  scenario: 'domain-il',
  model: { name: 'mlp', hidden: [400, 400] },
  optimizer: { name: 'adamw', lr: 1e-3, weightDecay: 0 },
  train: { steps, batchSize: 128, logEvery: 100 },
  seeds: [1],
};

const MIB = 1024 * 1024;
const rows: string[][] = [];
/** RssAnon and RssFile of this process, bytes (Linux; zeros elsewhere). */
function residentParts(): [number, number] {
  let status = '';
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    return [0, 0];
  }
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return [kib('RssAnon'), kib('RssFile')];
}

function stage(name: string): void {
  const m = process.memoryUsage();
  const [anon, file] = residentParts();
  const mib = (b: number) => (b / MIB).toFixed(0);
  rows.push([name, mib(m.rss), mib(anon), mib(file), mib(m.arrayBuffers), mib(m.heapUsed)]);
}

stage('node, modules loaded');
const backend = await selectBackend(backendChoice);
stage(`backend loaded (${backend.name})`);
const registry = new PluginRegistry(builtinPlugins);
const [config] = validateExperiment(SPEC, registry, `${process.cwd()}/bench/virtual.ts`);
await new Promise<void>((resolve, reject) =>
  runEvents(config, registry, backend).subscribe({
    next: (e) => {
      if (e.type === 'run-start') stage('run set up (data set, stream, model)');
      else if (e.type === 'task-start') stage(`task ${e.task} starts`);
      else if (e.type === 'task-end') stage(`task ${e.task} trained and evaluated`);
      else if (e.type === 'run-end') {
        if (e.status !== 'completed') reject(new Error(e.error));
        stage('run ended');
      }
    },
    error: reject,
    complete: resolve,
  }),
);
const peak = process.resourceUsage().maxRSS / 1024;
console.log(renderTable([['stage', 'RSS MiB', 'anonymous', 'file-backed', 'typed arrays', 'JS heap'], ...rows]));
console.log(`peak RSS: ${peak.toFixed(0)} MiB`);
console.log(JSON.stringify({ backend: backend.name, steps, peakMiB: Math.round(peak), stages: rows }));
