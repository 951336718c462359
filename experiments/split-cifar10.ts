// Split CIFAR-10 (5 tasks of 2 classes) as Mammoth runs it (Buzzega et al.,
// 2020): ResNet-18 trained with SGD, batch 32, 50 epochs per task, random
// crops (padding 4) and horizontal flips, normalised with CIFAR-10's channel
// statistics. Differences, on purpose: the reduced ResNet-18 of GEM (width 20;
// Mammoth's default is 64, set `width: 64` for it), and each method's learning
// rate chosen on a 10% validation hold-out (`select`) instead of taken from a
// table. The data comes from the official binary version, which you download
// once and unpack into experiments/data (nothing downloads at run time):
//   https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz → experiments/data/cifar-10-batches-bin/
//
//   npx anchorage run experiments/split-cifar10.ts --epochs 1     # a first look (about 25 min per run here)
//   npx anchorage run experiments/split-cifar10.ts                # the protocol: 50 epochs per task
//   npx anchorage compare results/split-cifar10 --select
import { defineExperiment } from 'anchorage';

const CIFAR10_MEAN = [0.4914, 0.4822, 0.4465];
const CIFAR10_STD = [0.247, 0.2435, 0.2616];

export default defineExperiment({
  name: 'split-cifar10',
  description: 'Split CIFAR-10, class-IL and task-IL: SGD vs ER vs DER++ on a reduced ResNet-18',
  dataset: { name: 'cifar10', dir: './data/cifar-10-batches-bin' },
  stream: { name: 'split', tasksOf: 2 },
  model: { name: 'resnet18', width: 20 },
  augment: [
    { name: 'random-crop', padding: 4 },
    { name: 'horizontal-flip' },
    { name: 'normalize', mean: CIFAR10_MEAN, std: CIFAR10_STD },
  ],
  axes: {
    scenario: ['class-il', 'task-il'],
    strategy: [
      { name: 'naive' },
      { name: 'replay', size: 500, policy: 'reservoir' },
      { name: 'derpp', size: 500, alpha: 0.1, beta: 0.5 },
    ],
    optimizer: [
      { name: 'sgd', lr: 0.03 },
      { name: 'sgd', lr: 0.1 },
    ],
  },
  select: { validation: 0.1, metric: 'acc' },
  train: { epochs: 50, batchSize: 32, logEvery: 50 },
  seeds: [1, 2, 3],
});
