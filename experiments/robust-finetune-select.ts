// The robust fine-tuning comparison of FTP's and SPD's papers, with every
// method's main setting chosen on validation data: vanilla fine-tuning,
// linear probing (LP), LP-FT, L2-SP, TPGM, FTP and SPD, plus WiSE-FT of every
// run (weight interpolation towards the pre-trained model) and, afterwards,
// model soups of the vanilla runs.
//
// Protocol of experiments/robust-finetune.ts at 5 % of the labels: the MLP
// pre-trained on clean MNIST (experiments/pretrain-mnist.ts) fine-tuned with
// its own head on inverted MNIST, 1000 steps of batch 64 (LP-FT: 300 steps
// of probing, then 1000 of fine-tuning everything); out of distribution: the
// source domain, an 80 %-inverted version and noisy target images. 10 % of
// the sampled training examples are held out (class-stratified, seeded):
// `compare --select` picks each method's setting by in-distribution accuracy
// on them and reports that setting's test numbers only.
//
//   npx anchorage run experiments/pretrain-mnist.ts        # once: the backbone
//   npx anchorage run experiments/robust-finetune-select.ts
//   npx anchorage compare results/robust-finetune-select --select
//   npx anchorage soup results/robust-finetune-select --by optimizer --greedy
import { defineExperiment } from 'anchorage';

const plain = (lr: number) => ({ name: 'adamw' as const, lr, weightDecay: 0 });
const probe = { name: 'lp', train: ['head.*'] };

export default defineExperiment({
  name: 'robust-finetune-select',
  description:
    'vanilla, LP, LP-FT, L2-SP, TPGM, FTP, SPD on inverted MNIST (5 % labels), settings chosen on validation ' +
    'data; WiSE-FT of every run',
  dataset: { name: 'mnist' },
  stream: { name: 'shifted', shifts: ['inversion-5'] },
  model: { name: 'pretrained', path: '../results/pretrained/mlp', head: 'keep' },
  sampler: { name: 'fraction', fraction: 0.05 },
  variants: [
    ...[3e-4, 1e-3, 3e-3].map((lr) => ({ optimizer: plain(lr) })),
    ...[1e-3, 1e-2].map((lr) => ({ phases: [{ ...probe, optimizer: plain(lr) }] })),
    ...[3e-4, 1e-3].map((lr) => ({
      phases: [
        { ...probe, steps: 300, optimizer: plain(1e-2) },
        { name: 'ft', optimizer: plain(lr) },
      ],
    })),
    ...[0.01, 0.1, 1].map((alpha) => ({
      optimizer: { name: 'l2sp' as const, lr: 1e-3, weightDecay: 0, alpha, beta: 0 },
    })),
    ...[1e-3, 3e-3].map((lr) => ({
      optimizer: { name: 'tpgm' as const, lr, weightDecay: 0, projEvery: 1, valFraction: 0.1 },
    })),
    ...[1e-3, 3e-3].map((lr) => ({ optimizer: { name: 'ftp' as const, lr, weightDecay: 0 } })),
    ...[0.1, 1, 10].map((lambda) => ({ optimizer: { name: 'spd' as const, lr: 1e-3, weightDecay: 0, lambda } })),
  ],
  eval: {
    ood: [
      { corruption: 'inversion', severity: 5 },
      { corruption: 'inversion', severity: 4 },
      { corruption: 'gaussian-noise', severity: 3 },
    ],
    interpolate: [0, 0.25, 0.5, 0.75, 1],
  },
  train: { steps: 1000, batchSize: 64, logEvery: 100 },
  select: { validation: 0.1, metric: 'acc' },
  // The final weights of every run: what `anchorage soup` averages.
  saveModel: 'robust-finetune-select-models/{runId}',
  seeds: [0, 1, 2],
});
