// The README's demo: Split MNIST, class-incremental, plain AdamW.
// Five tasks of two digits; one shared 10-way head; no task id at test time.
import { defineExperiment } from 'anchorage';

export default defineExperiment({
  name: 'split-mnist',
  description: 'Split MNIST (5 x 2 digits), class-incremental, MLP 784-400-400-10, AdamW',
  dataset: { name: 'mnist' },
  stream: { name: 'split', tasksOf: 2 },
  scenario: 'class-il',
  model: { name: 'mlp', hidden: [400, 400] },
  optimizer: { name: 'adamw', lr: 1e-3, weightDecay: 0 },
  train: { epochs: 1, batchSize: 128, logEvery: 20 },
  seeds: [0],
});
