// The baselines on Permuted MNIST in domain-IL (10 tasks, every task
// permuted), on the protocol of Buzzega et al. (2020) and mammoth's perm-mnist
// best_args: MLP 784-100-100-10, SGD, batch 128, one epoch per task, replay
// minibatches of 128, buffers of 200 and 500. (The paper's sequence has 20
// tasks; this one has 10, as van de Ven & Tolias' — see docs/reproductions.md.)
//
//   npx anchorage run experiments/baselines-permuted.ts --seeds 0,1,2
//   npx anchorage compare results/baselines-permuted --by strategy
import { defineExperiment } from 'anchorage';

const sgd = (lr: number) => ({ name: 'sgd' as const, lr });

export default defineExperiment({
  name: 'baselines-permuted',
  description: 'Permuted MNIST (10 tasks) domain-IL: the baselines with a memory and without',
  dataset: { name: 'mnist' },
  stream: { name: 'permuted', tasks: 10, permuteFirst: true },
  scenario: 'domain-il',
  model: { name: 'mlp', hidden: [100, 100] },
  variants: [
    { strategy: { name: 'naive' }, optimizer: sgd(0.2) },
    { strategy: { name: 'joint' }, optimizer: sgd(0.2) },
    {
      strategy: { name: 'ewc', online: true, lambda: 1.4, gamma: 1, empirical: true, fisherSamples: 1000 },
      optimizer: sgd(0.1),
    },
    { strategy: { name: 'si', c: 0.5, xi: 1 }, optimizer: sgd(0.1) },
    { strategy: { name: 'mas', lambda: 0.01 }, optimizer: sgd(0.1) },
    { strategy: { name: 'replay', size: 200, batchSize: 128 }, optimizer: sgd(0.2) },
    { strategy: { name: 'replay', size: 500, batchSize: 128 }, optimizer: sgd(0.2) },
    { strategy: { name: 'agem', size: 200, refBatchSize: 128 }, optimizer: sgd(0.1) },
    { strategy: { name: 'agem', size: 500, refBatchSize: 128 }, optimizer: sgd(0.1) },
    { strategy: { name: 'gem', size: 200, margin: 0.5 }, optimizer: sgd(0.1) },
    { strategy: { name: 'gem', size: 500, margin: 0.5 }, optimizer: sgd(0.1) },
    { strategy: { name: 'der', size: 200, alpha: 1, batchSize: 128 }, optimizer: sgd(0.2) },
    { strategy: { name: 'der', size: 500, alpha: 1, batchSize: 128 }, optimizer: sgd(0.2) },
    { strategy: { name: 'derpp', size: 200, alpha: 1, beta: 1, batchSize: 128 }, optimizer: sgd(0.1) },
    { strategy: { name: 'derpp', size: 500, alpha: 1, beta: 0.5, batchSize: 128 }, optimizer: sgd(0.2) },
    { strategy: { name: 'er-ace', size: 200, batchSize: 128 }, optimizer: sgd(0.2) },
    { strategy: { name: 'er-ace', size: 500, batchSize: 128 }, optimizer: sgd(0.2) },
  ],
  train: { epochs: 1, batchSize: 128, logEvery: 100 },
  seeds: [0, 1, 2],
});
