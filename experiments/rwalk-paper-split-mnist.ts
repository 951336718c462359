// RWalk on the RWalk paper's Split MNIST protocol, multi-head, as its
// authors' code runs it (facebookresearch/agem at 77046e6…4d10684,
// fc_split_mnist.py and model/model.py): five tasks of two digits (0-1 … 8-9)
// trained and scored on their own outputs, inputs in [0, 1], MLP 784-256-256,
// Adam lr 1e-3, batch 16, 5,000 steps per task, α 0.9, the score updated every
// Δt = 10 steps with ε = 1e-3, the Fisher and the score each scaled to a
// largest entry of 1. The code's cross-validation grid for λ runs 0.1 … 10⁴;
// three points of it here, beside fine-tuning.
//
//   npx anchorage run experiments/rwalk-paper-split-mnist.ts --workers 2
//   npx anchorage compare results/rwalk-paper-split-mnist --by strategy,config
import { defineExperiment } from 'anchorage';

const rwalk = (lambda: number) => ({ name: 'rwalk' as const, lambda, alpha: 0.9, epsilon: 1e-3, interval: 10 });

export default defineExperiment({
  name: 'rwalk-paper-split-mnist',
  description: "Split MNIST multi-head: RWalk on its authors' protocol, three strengths, beside fine-tuning",
  dataset: { name: 'mnist' },
  stream: { name: 'split', tasksOf: 2 },
  scenario: 'task-il',
  model: { name: 'mlp', hidden: [256, 256] },
  optimizer: { name: 'adamw', lr: 1e-3, weightDecay: 0 },
  train: { steps: 5000, batchSize: 16, logEvery: 500 },
  axes: {
    strategy: [{ name: 'naive' }, rwalk(1), rwalk(100), rwalk(10000)],
  },
  seeds: [1, 2, 3],
});
