// APER, adapt and merge (Zhou et al., "Revisiting class-incremental learning
// with pre-trained models: generalizability and adaptivity are all you
// need", 2023; LAMDA-PILOT's `aper_finetune`): the backbone adapts on the
// first task only — the run's optimizer and steps, on every parameter or on
// those `train.params` names (its last block) — then stays frozen; each
// example's embedding is the adapted backbone's features beside the frozen
// pre-trained backbone's, and the classifier is SimpleCIL's: class-mean
// prototypes of that embedding, cosine scores.
import { definePlugin, PrototypeClassifier, pretrainedBackbone, tf, type OptionsInput } from '../../src/plugin-api.js';
import { EMPTY_TRAINING_SET } from '../../src/contracts/strategy.js';

const options = {};

declare module '../../src/plugin/kinds.js' {
  interface StrategyPlugins {
    aper: OptionsInput<typeof options>;
  }
}

export default definePlugin({
  kind: 'strategy',
  name: 'aper',
  description: 'APER: adapt the pre-trained backbone on the first task, merge with the frozen one, prototypes',
  options,
  roles: ['prediction', 'training-set'],
  async create(_opts, ctx) {
    const model = pretrainedBackbone(await ctx.resolve('model'), 'aper');
    const { outputs } = await ctx.problem();
    // The pre-trained weights as the model is built from its file: a resumed run builds the same ones.
    const frozen = Object.fromEntries([...model.params].map(([n, v]) => [n, tf.keep(tf.clone(v))]));
    const prototypes = new PrototypeClassifier(outputs);
    const embed = (x: tf.Tensor) => tf.concat([model.features(x, false), model.features(x, false, frozen)], 1);
    return {
      name: 'aper',
      trainingSet: (c) => (c.task.index === 0 ? c.sampledTrainingSet(c.task) : EMPTY_TRAINING_SET),
      onTaskEnd: ({ task, sampledTrainingSet }) => prototypes.add(sampledTrainingSet(task), embed),
      predict: ({ x }) => (prototypes.ready ? prototypes.scores(embed(x)) : undefined),
      checkpoint: () => prototypes.snapshot(),
      restore: (s) => prototypes.restore(s),
      dispose() {
        prototypes.dispose();
        tf.dispose(Object.values(frozen));
      },
    };
  },
});
