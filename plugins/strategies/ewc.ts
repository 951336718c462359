// EWC — Elastic Weight Consolidation (Kirkpatrick et al., 2017), and its
// online variant (Schwarz et al., 2018): after each task, the diagonal Fisher
// information F at the learned weights θ*; later tasks add
// (λ/2) Σ F·(θ − θ*)² to the loss. Online EWC keeps one running F
// (F ← γF + F_new) anchored at the latest θ*; offline EWC one term per task.
import { featureValues } from '../../src/contracts/data.js';
import { definePlugin, ImportancePenalty, o, type OptionsInput, tf, variableGrads } from '../../src/plugin-api.js';
import type { Snapshot } from '../../src/contracts/snapshot.js';
import type { NamedTensors } from '../../src/contracts/optimizer.js';
import { logitMask } from '../../src/contracts/scenario.js';

const options = {
  lambda: o.number({ description: 'strength of the quadratic penalty (λ)', default: 5000, min: 0 }),
  online: o.boolean({
    description: 'online EWC: one running Fisher (decayed by gamma) instead of one penalty per task',
    default: false,
  }),
  gamma: o.number({ description: 'online EWC: decay of the running Fisher', default: 1, min: 0, max: 1 }),
  fisherSamples: o.integer({
    description: "training examples whose gradients estimate each task's Fisher",
    default: 500,
    min: 1,
  }),
  empirical: o.boolean({
    description: "use the true label (empirical Fisher) instead of the model's prediction",
    default: false,
  }),
};

declare module '../../src/plugin/kinds.js' {
  interface StrategyPlugins {
    ewc: OptionsInput<typeof options>;
  }
}

export default definePlugin({
  kind: 'strategy',
  name: 'ewc',
  description: 'Elastic Weight Consolidation (diagonal Fisher), offline or online',
  options,
  create(opts, ctx) {
    const rng = ctx.rng('fisher');
    const penalty = new ImportancePenalty();
    return {
      name: opts.online ? 'ewc-online' : 'ewc',
      onTaskEnd({ task, model, scenario, trained }) {
        if (trained.count === 0) return;
        const names = [...model.params.keys()];
        const variables = names.map((n) => model.params.get(n)!);
        const size = trained.features.length / trained.count;
        const picks = rng.permutation(trained.count).slice(0, Math.min(opts.fisherSamples, trained.count));
        const mask = logitMask(scenario.allowedOutputs(task), scenario.outputs);
        const sums: tf.Tensor[] = names.map((n) => tf.zerosLike(model.params.get(n)!));
        // One example at a time: the Fisher diagonal is the mean of squared per-example gradients.
        for (const i of picks) {
          const next = tf.tidy(() => {
            const x = tf.tensor2d(featureValues(trained.features.subarray(i * size, (i + 1) * size)), [1, size]);
            let logits = model.forward(x, false);
            if (mask) logits = tf.add(logits, mask);
            const label = opts.empirical ? tf.tensor1d([trained.labels[i]], 'int32') : tf.argMax(logits, 1);
            const target = tf.oneHot(label, scenario.outputs);
            const { grads } = variableGrads(() => {
              // In evaluation mode, as the reference implementations compute it: no dropout, batch norm's running
              // statistics.
              let out = model.forward(x, false);
              if (mask) out = tf.add(out, mask);
              return tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(target, out);
            }, variables);
            return variables.map((v, k) => tf.add(sums[k], tf.square(grads[v.name])));
          });
          tf.dispose(sums);
          sums.splice(0, sums.length, ...next);
        }
        mask?.dispose();
        const fisher: NamedTensors = {};
        names.forEach((n, k) => {
          fisher[n] = tf.tidy(() => tf.div(sums[k], picks.length));
        });
        tf.dispose(sums);
        penalty.consolidate(fisher, model, opts.online ? { decay: opts.gamma } : false);
      },
      loss({ params }) {
        if (opts.lambda === 0) return undefined;
        const term = penalty.term(params);
        return term ? tf.mul(term, opts.lambda / 2) : undefined;
      },
      checkpoint: () => ({ penalty: penalty.snapshot(), rng: rng.state() }),
      restore(s) {
        penalty.restore(s.penalty as Snapshot);
        rng.setState(s.rng as number[]);
      },
      dispose: () => penalty.dispose(),
    };
  },
});
