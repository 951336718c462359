// The three continual-learning scenarios on Split MNIST, with the protocol of
// van de Ven & Tolias (2019, "Three scenarios for continual learning"):
// MLP 784-400-400-10, Adam (lr 1e-3, betas 0.9/0.999), batch 128, 2000
// iterations per task. Strategies: plain fine-tuning (their "None"), EWC, and
// exact replay of stored data (Hsu et al., 2018). The class order is theirs:
// for seed s their code draws np.random.seed(s); np.random.permutation(10)
// (seed 0 keeps 0,1,…,9), and `classOrder: 'van-de-ven'` reproduces it exactly,
// so seed s here splits the digits as their seed s does. The same protocol
// runs on Split Fashion-MNIST as a second data set (Debian's
// dataset-fashion-mnist; EWC's λ is MNIST's, not tuned for it).
//
//   npx anchorage run experiments/three-scenarios.ts --seeds 1,2,3
//   npx anchorage compare results/three-scenarios --by dataset,scenario,strategy
import { defineExperiment } from 'anchorage';

export default defineExperiment({
  name: 'three-scenarios',
  description: 'Split MNIST in task-IL, domain-IL and class-IL: naive vs EWC vs replay',
  stream: { name: 'split', tasksOf: 2, classOrder: 'van-de-ven' },
  model: { name: 'mlp', hidden: [400, 400] },
  optimizer: { name: 'adamw', lr: 1e-3, beta1: 0.9, beta2: 0.999, weightDecay: 0 },
  axes: {
    dataset: [{ name: 'mnist' }, { name: 'fashion-mnist' }],
    scenario: ['task-il', 'domain-il', 'class-il'],
    strategy: [
      { name: 'naive' },
      { name: 'ewc', lambda: 1e7, fisherSamples: 1000 },
      { name: 'replay', size: 4400, policy: 'class-balanced' },
    ],
  },
  train: { steps: 2000, batchSize: 128, logEvery: 100 },
  seeds: [1, 2, 3],
});
