// Robust fine-tuning with few labels — the question of the FTP paper: does
// the method keep the pre-trained model's accuracy out of distribution while
// reaching competitive accuracy on the target?
//
// Source: the MLP pre-trained on clean MNIST by experiments/pretrain-mnist.ts.
// Target (in-distribution): inverted MNIST (white background), with 1%, 5%,
// 10% or all of the labels. Out of distribution: the source domain itself
// (inverting the inverted test set gives clean MNIST back), a half-inverted
// version, and noisy target images. Plain fine-tuning on the narrow target
// forgets the source domain; anchored methods should keep more of it.
//
//   npx anchorage run experiments/pretrain-mnist.ts      # once: the backbones
//   npx anchorage run experiments/robust-finetune.ts --workers 2
//   npx anchorage compare results/robust-finetune --by optimizer,labels
import { defineExperiment } from 'anchorage';

const lr = 1e-3;

export default defineExperiment({
  name: 'robust-finetune',
  description: 'MLP pre-trained on MNIST, fine-tuned on inverted MNIST with few labels; OOD = the source domain',
  dataset: { name: 'mnist' },
  stream: { name: 'shifted', shifts: ['inversion-5'] },
  model: { name: 'pretrained', path: '../results/pretrained/mlp', head: 'keep' },
  axes: {
    sampler: [
      { name: 'fraction', fraction: 0.01 },
      { name: 'fraction', fraction: 0.05 },
      { name: 'fraction', fraction: 0.1 },
      { name: 'shuffled' },
    ],
    optimizer: [
      { name: 'adamw', lr, weightDecay: 0 },
      { name: 'l2sp', lr, weightDecay: 0, alpha: 0.1, beta: 0 },
      { name: 'pgd', lr, weightDecay: 0, radius: 0.5 },
      { name: 'tpgm', lr, weightDecay: 0, projEvery: 1, valFraction: 0.1 },
      { name: 'ftp', lr, weightDecay: 0 },
      { name: 'spd', lr, weightDecay: 0, lambda: 1 },
    ],
  },
  eval: {
    ood: [
      { corruption: 'inversion', severity: 5 },
      { corruption: 'inversion', severity: 4 },
      { corruption: 'gaussian-noise', severity: 3 },
    ],
  },
  train: { steps: 1000, batchSize: 64, logEvery: 100 },
  seeds: [0, 1, 2],
});
