// RanPAC (McDonnell et al., NeurIPS 2023): the pre-trained backbone's features
// through a fixed random ReLU projection, and a ridge classifier on them
// solved in closed form after each task, λ chosen per task as the paper's code
// does (src/strategies/ridge-classifier.ts). Optionally the backbone first
// adapts on the first task (the run's optimizer and steps: the paper's
// first-session adaptation), then stays frozen.
import { definePlugin, o, type OptionsInput, pretrainedBackbone, RidgeClassifier, tf } from '../../src/plugin-api.js';
import { EMPTY_TRAINING_SET } from '../../src/contracts/strategy.js';
import { featureSize } from '../../src/contracts/data.js';

const options = {
  projection: o.integer({
    description: 'width M of the random projection (the paper: 10,000 on ViT-B features)',
    default: 1000,
    min: 1,
  }),
  ridge: o.number({
    description:
      "λ of the ridge classifier; 0: chosen at each task on a held-out fifth of it, as the paper's code does",
    default: 0,
    min: 0,
  }),
  adapt: o.boolean({
    description: "first-session adaptation: train on the first task (the run's optimizer and steps), then freeze",
    default: false,
  }),
};

declare module '../../src/plugin/kinds.js' {
  interface StrategyPlugins {
    ranpac: OptionsInput<typeof options>;
  }
}

export default definePlugin({
  kind: 'strategy',
  name: 'ranpac',
  description: 'RanPAC: frozen pre-trained features, random ReLU projection, closed-form ridge classifier',
  options,
  roles: ['prediction', 'training-set'],
  async create(opts, ctx) {
    const model = pretrainedBackbone(await ctx.resolve('model'), 'ranpac');
    const { outputs, featureShape } = await ctx.problem();
    const dim = tf.tidy(() => model.features(tf.zeros([1, featureSize(featureShape)]), false).shape[1]!);
    const classifier = new RidgeClassifier(dim, opts.projection, outputs, opts.ridge, ctx.rng('ranpac'));
    const embed = (x: tf.Tensor) => model.features(x, false);
    return {
      name: 'ranpac',
      trainingSet: (c) => (opts.adapt && c.task.index === 0 ? c.sampledTrainingSet(c.task) : EMPTY_TRAINING_SET),
      onTaskEnd: ({ task, sampledTrainingSet }) => classifier.add(sampledTrainingSet(task), embed, `task${task.index}`),
      predict: ({ x }) => (classifier.ready ? classifier.scores(embed(x)) : undefined),
      checkpoint: () => classifier.snapshot(),
      restore: (s) => classifier.restore(s),
      dispose: () => classifier.dispose(),
    };
  },
});
