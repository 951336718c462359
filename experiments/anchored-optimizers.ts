// Compares the anchored optimizers with plain AdamW and SGD on a continual
// sequence: Split MNIST in the domain-incremental scenario (each task: "first
// or second digit of the pair?", one shared 2-way head). Anchored methods
// re-anchor at the start of every task and should forget less than AdamW.
//
//   npx anchorage run experiments/anchored-optimizers.ts
//   npx anchorage run experiments/anchored-optimizers.ts --seeds 0,1,2
import { defineExperiment } from 'anchorage';

const lr = 1e-3;

export default defineExperiment({
  name: 'anchored-optimizers',
  description: 'Split MNIST, domain-IL: adamw, sgd vs ftp, pgd, tpgm, l2sp, spd (anchor: task start)',
  dataset: { name: 'mnist' },
  stream: { name: 'split', tasksOf: 2 },
  scenario: 'domain-il',
  model: { name: 'mlp', hidden: [400, 400] },
  axes: {
    optimizer: [
      { name: 'adamw', lr, weightDecay: 0 },
      { name: 'sgd', lr: 0.05, momentum: 0.9 },
      { name: 'ftp', lr, weightDecay: 0, anchor: 'task-start' },
      { name: 'pgd', lr, weightDecay: 0, anchor: 'task-start', radius: 0.05 },
      { name: 'tpgm', lr, weightDecay: 0, anchor: 'task-start', projEvery: 1, valFraction: 0.1 },
      { name: 'l2sp', lr, weightDecay: 0, anchor: 'task-start', alpha: 1 },
      { name: 'spd', lr, weightDecay: 0, anchor: 'task-start', lambda: 1 },
    ],
  },
  train: { epochs: 1, batchSize: 128, logEvery: 20 },
  seeds: [0],
});
