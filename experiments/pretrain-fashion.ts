// Pre-trains a CNN on Fashion-MNIST (all ten classes) and saves it as a
// TensorFlow.js Layers model under the results folder: the backbone that
// experiments/pretrained-cl.ts learns Split MNIST on, a source domain
// disjoint from its target (its counterpart for Split Fashion-MNIST is the MNIST
// CNN of experiments/pretrain-mnist.ts).
//
//   npx anchorage run experiments/pretrain-fashion.ts
import { defineExperiment } from 'anchorage';

export default defineExperiment({
  name: 'pretrain-fashion',
  description: 'Fashion-MNIST, all ten classes, one task: the source CNN for Split MNIST in pretrained-cl',
  dataset: { name: 'fashion-mnist' },
  stream: { name: 'split', tasksOf: 10 },
  model: { name: 'cnn', channels: [16, 32], hidden: 128 },
  optimizer: { name: 'adamw', lr: 1e-3, weightDecay: 0 },
  train: { epochs: 3, batchSize: 128, logEvery: 50 },
  saveModel: 'pretrained/fashion-cnn',
  seeds: [0],
});
