// GSS-greedy on Split MNIST, class-incremental, on the settings of
// Avalanche's continual-learning-baselines (experiments/split_mnist/gss.py,
// target 0.78 in tests/target_results.csv): 1,000 training examples per task
// (here 500 per digit), inputs normalised by MNIST's mean and std, MLP
// 784-100-100-10, SGD lr 0.05, batch 10, 3 epochs per task, a memory of 300,
// each example compared with 10 memory rows.
//
//   npx anchorage run experiments/gss-split-mnist.ts
//   npx anchorage compare results/gss-split-mnist --by strategy
import { defineExperiment } from 'anchorage';

export default defineExperiment({
  name: 'gss-split-mnist',
  description: 'Split MNIST class-IL, 1,000 examples per task: GSS-greedy as Avalanche configures it',
  dataset: { name: 'mnist' },
  stream: { name: 'split', tasksOf: 2 },
  sampler: { name: 'per-class', k: 500 },
  augment: [{ name: 'normalize', mean: [0.1307], std: [0.3081] }],
  model: { name: 'mlp', hidden: [100, 100] },
  optimizer: { name: 'sgd', lr: 0.05 },
  train: { epochs: 3, batchSize: 10, logEvery: 100 },
  strategy: { name: 'gss', size: 300, batchSize: 10, candidates: 10 },
  seeds: [0, 1, 2],
});
