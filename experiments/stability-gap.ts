// The stability gap (De Lange, van de Ven & Tuytelaars, ICLR 2023) on Split
// MNIST, class-incremental, with the settings of their reference code
// (reproduce/configs/splitmnist_ER.yaml and main.py's defaults): inputs
// normalised by MNIST's mean and std, MLP 784-400-400-10, SGD lr 0.01 with
// momentum 0.9, batch 256, 10 epochs per task; ER with a class-balanced memory of 2,000
// filled at each task's end, a replayed batch as large as the new one, the
// new rows' loss weighted Lw_new = 0.3 (here: replayed rows weigh 7/3 of a new
// one); every task's 1,000-example test subset scored after every step.
//
//   npx anchorage run experiments/stability-gap.ts
//   npx anchorage compare results/stability-gap --by strategy
//   npx anchorage report results/stability-gap
import { defineExperiment } from 'anchorage';

export default defineExperiment({
  name: 'stability-gap',
  description: 'Split MNIST class-IL, continual evaluation after every step: fine-tuning and ER (De Lange et al.)',
  dataset: { name: 'mnist' },
  stream: { name: 'split', tasksOf: 2 },
  model: { name: 'mlp', hidden: [400, 400] },
  augment: [{ name: 'normalize', mean: [0.1307], std: [0.3081] }],
  optimizer: { name: 'sgd', lr: 0.01, momentum: 0.9 },
  train: { epochs: 10, batchSize: 256, logEvery: 47 },
  eval: { every: 1, subset: 1000 },
  axes: {
    strategy: [
      { name: 'naive' },
      { name: 'replay', size: 2000, policy: 'class-balanced', batchSize: 256, weight: 7 / 3 },
    ],
  },
  seeds: [0, 1, 2, 3, 4],
});
