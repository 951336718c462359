// i-Blurry-50-10 on MNIST (Koh et al., ICLR 2022): five tasks, half the
// digits disjoint, 10 % of each other digit's examples in other tasks; one
// pass with boundaries hidden, batch 10; ER and ER-ACE with a reservoir of
// 500; anytime accuracy over training from each task's 1,000-example test
// subset every 1,000 examples (A_AUC as Koh et al. define it).
//
//   npx anchorage run experiments/blurry-online.ts
//   npx anchorage compare results/blurry-online --by strategy
import { defineExperiment } from 'anchorage';

export default defineExperiment({
  name: 'blurry-online',
  description: 'i-Blurry-50-10 MNIST, online, boundaries hidden: ER and ER-ACE, A_AUC and final accuracy',
  dataset: { name: 'mnist' },
  stream: { name: 'blurry', tasks: 5, disjoint: 50, blurry: 10 },
  model: { name: 'mlp', hidden: [400, 400] },
  optimizer: { name: 'sgd', lr: 0.05 },
  train: { batchSize: 10, logEvery: 500 },
  online: { boundaries: 'hidden' },
  eval: { every: { examples: 1000 }, subset: 1000 },
  axes: {
    strategy: [
      { name: 'naive' },
      { name: 'replay', fill: 'online', size: 500, batchSize: 10 },
      { name: 'er-ace', size: 500, batchSize: 10 },
    ],
  },
  seeds: [0, 1, 2],
});
