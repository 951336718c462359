// Class-incremental learning from a pre-trained backbone (LAMDA-PILOT's
// setting at MNIST scale): Split MNIST from a CNN pre-trained on
// Fashion-MNIST, and Split Fashion-MNIST from the same CNN pre-trained on
// MNIST — five tasks of two classes, class-IL, a new head — with the methods
// built for a pre-trained backbone (SimpleCIL, RanPAC with and without
// first-session adaptation, APER, SLCA) beside fine-tuning it with AdamW, FTP
// and L2-SP, replay, and joint training.
//
//   npx anchorage run experiments/pretrain-fashion.ts     # once: the backbones
//   npx anchorage run experiments/pretrain-mnist.ts
//   npx anchorage run experiments/pretrained-cl.ts --workers 2
//   npx anchorage compare results/pretrained-cl --by dataset,strategy,optimizer
import { defineExperiment } from 'anchorage';

const adamw = { name: 'adamw' as const, lr: 1e-3, weightDecay: 0 };
// SLCA's and APER's reference settings: SGD, momentum 0.9, weight decay 5e-4.
const sgd = { name: 'sgd' as const, lr: 0.01, momentum: 0.9, weightDecay: 5e-4 };

const targets = [
  {
    dataset: { name: 'mnist' as const },
    model: { name: 'pretrained' as const, path: '../results/pretrained/fashion-cnn' },
  },
  {
    dataset: { name: 'fashion-mnist' as const },
    model: { name: 'pretrained' as const, path: '../results/pretrained/cnn' },
  },
];

const methods = [
  { strategy: { name: 'naive' as const }, optimizer: adamw },
  { strategy: { name: 'naive' as const }, optimizer: { name: 'ftp' as const, lr: 1e-3, weightDecay: 0 } },
  { strategy: { name: 'naive' as const }, optimizer: { name: 'l2sp' as const, lr: 1e-3, weightDecay: 0, alpha: 0.1 } },
  { strategy: { name: 'replay' as const, size: 500, policy: 'class-balanced' as const }, optimizer: adamw },
  { strategy: { name: 'joint' as const }, optimizer: adamw },
  { strategy: { name: 'simplecil' as const }, optimizer: adamw },
  { strategy: { name: 'ranpac' as const, projection: 1000 }, optimizer: adamw },
  { strategy: { name: 'ranpac' as const, projection: 1000, adapt: true }, optimizer: sgd },
  { strategy: { name: 'aper' as const }, optimizer: sgd },
  { strategy: { name: 'slca' as const }, optimizer: sgd },
  { strategy: { name: 'slca' as const }, optimizer: { ...sgd, name: 'ftp' as const, base: 'sgd' as const } },
];

export default defineExperiment({
  name: 'pretrained-cl',
  description: 'Split MNIST / Split Fashion-MNIST class-IL from a CNN pre-trained on the other data set',
  stream: { name: 'split', tasksOf: 2 },
  variants: targets.flatMap((t) => methods.map((m) => ({ ...t, ...m }))),
  train: { epochs: 1, batchSize: 64, logEvery: 50 },
  seeds: [0, 1, 2],
});
