// RWalk on Split MNIST, task-incremental, on the settings of Avalanche's
// continual-learning-baselines (experiments/split_mnist/rwalk.py, target 0.92
// in tests/target_results.csv): inputs normalised by MNIST's mean and std,
// MLP 784-256-256 with the task's own outputs (task-IL masking), Adam lr 1e-3,
// batch 64, 10 epochs per task, λ 0.1, α 0.9 (the newest squared gradient's
// weight), the score updated every Δt = 10 steps, the Fisher and the score
// scaled to a largest entry of 1 as its plugin does; beside EWC++ and
// fine-tuning.
//
//   npx anchorage run experiments/rwalk-split-mnist.ts --workers 2
//   npx anchorage compare results/rwalk-split-mnist --by strategy
import { defineExperiment } from 'anchorage';

export default defineExperiment({
  name: 'rwalk-split-mnist',
  description: 'Split MNIST task-IL: RWalk and EWC++ as Avalanche configures them, beside fine-tuning',
  dataset: { name: 'mnist' },
  stream: { name: 'split', tasksOf: 2 },
  scenario: 'task-il',
  augment: [{ name: 'normalize', mean: [0.1307], std: [0.3081] }],
  model: { name: 'mlp', hidden: [256, 256] },
  optimizer: { name: 'adamw', lr: 1e-3, weightDecay: 0 },
  train: { epochs: 10, batchSize: 64, logEvery: 100 },
  axes: {
    strategy: [
      { name: 'naive' },
      { name: 'rwalk', lambda: 0.1, alpha: 0.9, interval: 10, normalize: true },
      { name: 'ewcpp', lambda: 0.2, alpha: 0.9 },
    ],
  },
  seeds: [0, 1, 2],
});
