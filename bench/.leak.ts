import { lastValueFrom, toArray } from 'rxjs';
import { builtinPlugins } from '../plugins/index.js';
import { PluginRegistry } from '../src/plugin/registry.js';
import { validateExperiment } from '../src/experiment/validate.js';
import { runEvents } from '../src/run/run.js';
import { selectBackend } from '../src/tensor/backend.js';
import { tf } from '../src/tensor/tf.js';
const backend = await selectBackend((process.argv[2] ?? 'tensorflow') as never);
const registry = new PluginRegistry(builtinPlugins);
const spec = {
  name: 'leak', dataset: { name: 'mnist', trainLimit: 6000, testLimit: 1000 }, stream: { name: 'split', tasksOf: 2 },
  model: { name: 'mlp', hidden: [100, 100] }, optimizer: { name: 'sgd', lr: 0.03 }, strategy: { name: process.argv[3] ?? 'naive' , ...(process.argv[3] && process.argv[3] !== 'naive' ? { size: 200 } : {}) },
  train: { epochs: 1, batchSize: 10, logEvery: 200 },
};
const mb = (x: number) => (x / 2 ** 20).toFixed(0);
for (let i = 0; i < 6; i++) {
  const [config] = validateExperiment({ ...spec, seeds: [i] }, registry, `${process.cwd()}/bench/virtual.ts`);
  const ev = await lastValueFrom(runEvents(config, registry, backend).pipe(toArray()));
  await new Promise((r) => setImmediate(r));
  const m = process.memoryUsage();
  console.log(i, (ev.at(-1) as { status: string }).status, 'rss', mb(m.rss), 'heap', mb(m.heapUsed), 'external', mb(m.external), 'ab', mb(m.arrayBuffers), 'tensors', tf.memory().numTensors, 'tfbytes', mb(tf.memory().numBytes));
}
