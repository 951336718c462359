// The baselines' main settings chosen on validation data instead of taken
// from mammoth's best_args: the protocol of experiments/baselines.ts
// (Split MNIST class-IL, MLP 784-100-100-10, SGD, batch 10, one epoch per
// task, buffers of 200), with 10 % of every task's training examples held
// out (seeded, class-stratified) and a small grid around mammoth's setting
// per method. `compare --select` picks each method's setting by final
// average accuracy on the held-out examples and reports its test numbers.
//
//   npx anchorage run experiments/baselines-select.ts --workers 2
//   npx anchorage compare results/baselines-select --select
import { defineExperiment } from 'anchorage';

const sgd = (lr: number, weightDecay = 0) => ({ name: 'sgd' as const, lr, weightDecay });

export default defineExperiment({
  name: 'baselines-select',
  description:
    'Split MNIST class-IL: EWC, SI, LwF, MAS, A-GEM, iCaRL, DER, DER++, ER-ACE settings chosen on a 10% ' +
    'validation hold-out',
  dataset: { name: 'mnist' },
  stream: { name: 'split', tasksOf: 2 },
  scenario: 'class-il',
  model: { name: 'mlp', hidden: [100, 100] },
  variants: [
    ...[18, 180, 1800].map((lambda) => ({
      strategy: { name: 'ewc' as const, online: true, lambda, gamma: 1, empirical: true, fisherSamples: 1000 },
      optimizer: sgd(0.03),
    })),
    ...[0.1, 1, 10].map((c) => ({ strategy: { name: 'si' as const, c, xi: 0.9 }, optimizer: sgd(0.1) })),
    ...[0.3, 1, 3].map((alpha) => ({
      strategy: { name: 'lwf' as const, alpha, temperature: 2 },
      optimizer: sgd(0.03, 5e-4),
    })),
    ...[0.01, 0.1].map((lambda) => ({ strategy: { name: 'mas' as const, lambda }, optimizer: sgd(0.03) })),
    ...[0.03, 0.1].map((lr) => ({
      strategy: { name: 'agem' as const, size: 200, refBatchSize: 128 },
      optimizer: sgd(lr),
    })),
    ...[0.03, 0.1].map((lr) => ({ strategy: { name: 'icarl' as const, size: 200 }, optimizer: sgd(lr) })),
    ...[0.2, 1].map((alpha) => ({
      strategy: { name: 'der' as const, size: 200, alpha, batchSize: 10 },
      optimizer: sgd(0.03),
    })),
    ...[
      [0.2, 1],
      [0.5, 0.5],
      [1, 0.5],
    ].map(([alpha, beta]) => ({
      strategy: { name: 'derpp' as const, size: 200, alpha, beta, batchSize: 128 },
      optimizer: sgd(0.03),
    })),
    ...[0.03, 0.1].map((lr) => ({
      strategy: { name: 'er-ace' as const, size: 200, batchSize: 10 },
      optimizer: sgd(lr),
    })),
  ],
  train: { epochs: 1, batchSize: 10, logEvery: 200 },
  select: { validation: 0.1, metric: 'acc' },
  seeds: [0, 1],
});
