// Deep generative replay and online EWC on Split MNIST against van de Ven et
// al.'s reference code (`--replay=generative`; online EWC: `--weight-penalty
// --importance-weighting fisher`, which is `--ewc` without `--offline`),
// on its protocol: MLP 784-400-400-10, Adam (lr 1e-3), batch 128, 2000
// iterations per task, its class order for each seed (`classOrder:
// 'van-de-ven'`), seeds 1–3; the generator is the reference's VAE (encoder
// 784-400-400, latent 100, mirrored decoder with a sigmoid output, binary
// cross-entropy, Adam 1e-3, trained on the same batches), and online EWC takes
// the reference's λ per scenario (1e5 task-IL, 1e10 domain-IL, 1e9 class-IL),
// γ = 1, the Fisher from 1000 examples with the model's predicted labels.
//
//   npx anchorage run experiments/generative-replay.ts --workers 2
//   npx anchorage compare results/generative-replay --by scenario,strategy,config
import { defineExperiment } from 'anchorage';

const SCENARIOS = ['task-il', 'domain-il', 'class-il'] as const;
const LAMBDA = { 'task-il': 1e5, 'domain-il': 1e10, 'class-il': 1e9 } as const;

export default defineExperiment({
  name: 'generative-replay',
  description:
    'Split MNIST, three scenarios: DGR (hard and distilled targets) and online EWC as the reference runs them',
  dataset: { name: 'mnist' },
  stream: { name: 'split', tasksOf: 2, classOrder: 'van-de-ven' },
  model: { name: 'mlp', hidden: [400, 400] },
  optimizer: { name: 'adamw', lr: 1e-3, beta1: 0.9, beta2: 0.999, weightDecay: 0 },
  variants: SCENARIOS.flatMap((scenario) => [
    { scenario, strategy: { name: 'dgr' as const } },
    { scenario, strategy: { name: 'dgr' as const, targets: 'soft' as const } },
    {
      scenario,
      strategy: { name: 'ewc' as const, online: true, gamma: 1, lambda: LAMBDA[scenario], fisherSamples: 1000 },
    },
  ]),
  train: { steps: 2000, batchSize: 128, logEvery: 100 },
  seeds: [1, 2, 3],
});
