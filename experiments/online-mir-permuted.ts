// Online continual learning on Permuted MNIST as Aljundi et al. (NeurIPS
// 2019, MIR) run it in their reference code (Scripts/ER_experiments.sh,
// er_main.py): ten tasks (the first unpermuted), 1,000 training examples per
// task seen once in minibatches of 10, MLP 784-400-400-10, SGD lr 0.05, a
// memory of 50 examples per class (500) replayed 10 rows per step; MIR
// scores 50 memory candidates per step.
//
//   npx anchorage run experiments/online-mir-permuted.ts --seeds 0,1,2,3,4
//   npx anchorage compare results/online-mir-permuted --by strategy
import { defineExperiment } from 'anchorage';

// As the reference code replays: only earlier tasks' rows, their mean cross-entropy added to the incoming rows'.
const reference = { from: 'earlier-tasks', memoryLoss: 'separate' } as const;

export default defineExperiment({
  name: 'online-mir-permuted',
  description:
    'Permuted MNIST online (10 tasks x 1,000 examples, one pass, batch 10): fine-tune, iid, ER, MIR, GEM, GSS',
  dataset: { name: 'mnist' },
  stream: { name: 'permuted', tasks: 10 },
  sampler: { name: 'per-class', k: 100 },
  model: { name: 'mlp', hidden: [400, 400] },
  optimizer: { name: 'sgd', lr: 0.05 },
  train: { batchSize: 10, logEvery: 50 },
  online: { boundaries: 'given' },
  axes: {
    strategy: [
      { name: 'naive' },
      { name: 'joint' },
      { name: 'replay', fill: 'online', size: 500, batchSize: 10, ...reference },
      { name: 'mir', size: 500, batchSize: 10, candidates: 50, lr: 0.05, ...reference },
      { name: 'gem', size: 500, margin: 0.5 },
      { name: 'gss', size: 500, batchSize: 10, candidates: 10 },
    ],
  },
  seeds: [0, 1, 2, 3, 4],
});
