import { lastValueFrom, toArray } from 'rxjs';
import { runEvents } from '../src/run/run.js';
import { selectBackend } from '../src/tensor/backend.js';
import { tf } from '../src/tensor/tf.js';
import { tinyConfigs } from '../test/helpers.js';
import { accuracyMatrix, summarize } from '../src/metrics/continual.js';
const backend = await selectBackend((process.env.ANCHORAGE_BACKEND as any) ?? 'auto');
const BASE = {
  name: 'smoke',
  dataset: { name: 'synthetic', classes: 6, features: 16, trainPerClass: 60, testPerClass: 30, separation: 6 },
  stream: { name: 'split', tasksOf: 2 },
  model: { name: 'mlp', hidden: [32] },
  optimizer: { name: 'sgd', lr: 0.1 },
  train: { epochs: 3, batchSize: 20, logEvery: 5 },
};
const list = process.argv.slice(2);
for (const spec of [{name:'naive'},{name:'si', c: 1},{name:'mas'},{name:'agem', size: 60},{name:'gem', size: 60},{name:'der', size: 60},{name:'derpp', size: 60},{name:'er-ace', size: 60},{name:'icarl', size: 60},{name:'gdumb', size: 60}, {name:'replay', size:60}]) {
  if (list.length && !list.includes(spec.name)) continue;
  const { configs, registry } = tinyConfigs({ ...BASE, strategy: spec });
  const before = tf.memory().numTensors;
  const t0 = performance.now();
  const events: any[] = await lastValueFrom(runEvents(configs[0], registry, backend).pipe(toArray()));
  const end = events.at(-1);
  const rows = events.flatMap((e) => (e.type === 'eval' ? [{ trained_task: e.trainedTask, eval_task: e.evalTask, eval_set: e.evalSet, accuracy: e.accuracy }] : []));
  const m = accuracyMatrix(rows);
  console.log(spec.name, end.status, end.error ?? '', m ? summarize(m.R, m.untrained).acc.toFixed(3) : '', 'leak', tf.memory().numTensors - before, ((performance.now()-t0)/1000).toFixed(1)+'s');
}
