// Pre-trains backbones on MNIST (the source domain) and saves them as
// TensorFlow.js Layers models under the results folder, so the fine-tuning
// experiments have real pre-trained models without any download:
//   results/pretrained/mlp/model.json, results/pretrained/cnn/model.json
//
//   npx anchorage run experiments/pretrain-mnist.ts
import { defineExperiment } from 'anchorage';

export default defineExperiment({
  name: 'pretrain-mnist',
  description: 'MNIST, all ten digits, one task: the source models for robust-finetune',
  dataset: { name: 'mnist' },
  stream: { name: 'split', tasksOf: 10 },
  axes: {
    model: [
      { name: 'mlp', hidden: [400, 400] },
      { name: 'cnn', channels: [16, 32], hidden: 128 },
    ],
  },
  optimizer: { name: 'adamw', lr: 1e-3, weightDecay: 0 },
  train: { epochs: 3, batchSize: 128, logEvery: 50 },
  saveModel: 'pretrained/{model}',
  seeds: [0],
});
