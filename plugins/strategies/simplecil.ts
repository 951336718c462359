// SimpleCIL (Zhou et al., "Revisiting class-incremental learning with
// pre-trained models", 2023): the pre-trained backbone stays frozen and is
// never trained; after each task every class's prototype is the mean of its
// training examples' features, and prediction is the cosine similarity to the
// prototypes (LAMDA-PILOT's `simplecil`). The baseline every method on a
// pre-trained model is measured against.
import { definePlugin, PrototypeClassifier, pretrainedBackbone, type OptionsInput } from '../../src/plugin-api.js';
import { EMPTY_TRAINING_SET } from '../../src/contracts/strategy.js';

const options = {};

declare module '../../src/plugin/kinds.js' {
  interface StrategyPlugins {
    simplecil: OptionsInput<typeof options>;
  }
}

export default definePlugin({
  kind: 'strategy',
  name: 'simplecil',
  description: 'SimpleCIL: frozen pre-trained backbone, class-mean prototypes, cosine classifier (no training)',
  options,
  roles: ['prediction', 'training-set'],
  async create(_opts, ctx) {
    const model = pretrainedBackbone(await ctx.resolve('model'), 'simplecil');
    const { outputs } = await ctx.problem();
    const prototypes = new PrototypeClassifier(outputs);
    return {
      name: 'simplecil',
      // Nothing trains: the backbone is frozen and the classifier is the prototypes.
      trainingSet: () => EMPTY_TRAINING_SET,
      onTaskEnd({ task, sampledTrainingSet }) {
        prototypes.add(sampledTrainingSet(task), (x) => model.features(x, false));
      },
      predict: ({ x }) => (prototypes.ready ? prototypes.scores(model.features(x, false)) : undefined),
      checkpoint: () => prototypes.snapshot(),
      restore: (s) => prototypes.restore(s),
      dispose: () => prototypes.dispose(),
    };
  },
});
