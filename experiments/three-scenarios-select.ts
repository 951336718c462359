// Choosing EWC's λ for the three-scenarios table on validation data, not on
// the test data: the protocol of experiments/three-scenarios.ts (Split MNIST
// and Split Fashion-MNIST, MLP 400-400, Adam 1e-3, batch 128, 2000
// iterations per task), with 10% of every task's training examples held out
// (seeded, class-stratified) and a grid of λ per data set and scenario.
// `compare --select` picks, per data set and scenario, the λ with the best
// final average accuracy on the held-out examples and reports its test
// metrics; `selection.arrow` records every candidate.
//
//   npx anchorage run experiments/three-scenarios-select.ts
//   npx anchorage compare results/three-scenarios-select --select
import { defineExperiment } from 'anchorage';

export default defineExperiment({
  name: 'three-scenarios-select',
  description:
    'EWC λ chosen on a 10% validation hold-out per data ' + 'set and scenario (Split MNIST, Split Fashion-MNIST)',
  stream: { name: 'split', tasksOf: 2, classOrder: 'van-de-ven' },
  model: { name: 'mlp', hidden: [400, 400] },
  optimizer: { name: 'adamw', lr: 1e-3, beta1: 0.9, beta2: 0.999, weightDecay: 0 },
  axes: {
    dataset: [{ name: 'mnist' }, { name: 'fashion-mnist' }],
    scenario: ['task-il', 'domain-il', 'class-il'],
    strategy: [1e5, 1e6, 1e7, 1e8, 1e9].map((lambda) => ({ name: 'ewc' as const, lambda, fisherSamples: 1000 })),
  },
  train: { steps: 2000, batchSize: 128, logEvery: 100 },
  select: { validation: 0.1, metric: 'acc' },
  seeds: [1],
});
