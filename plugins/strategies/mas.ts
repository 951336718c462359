// MAS — Memory Aware Synapses (Aljundi et al., 2018): a parameter's
// importance is how much the squared L2 norm of the network's output moves
// with it, Ω = mean over examples of |∂‖f(x)‖²/∂θ| (no labels needed); later
// tasks add λ·Σ Ω·(θ − θ*)² to the loss. Importances accumulate over tasks.
import { featureValues } from '../../src/contracts/data.js';
import { definePlugin, ImportancePenalty, o, type OptionsInput, tf, variableGrads } from '../../src/plugin-api.js';
import type { Snapshot } from '../../src/contracts/snapshot.js';
import type { NamedTensors } from '../../src/contracts/optimizer.js';

const options = {
  lambda: o.number({ description: 'strength of the penalty (λ)', default: 1, min: 0 }),
  samples: o.integer({
    description: "training examples whose output sensitivity estimates each task's importance",
    default: 500,
    min: 1,
  }),
  batchSize: o.integer({
    description: 'examples per gradient when estimating importance (1: per example, as in the paper)',
    default: 1,
    min: 1,
  }),
  decay: o.number({
    description: "weight of the importance so far when a new task's is added (1: sum)",
    default: 1,
    min: 0,
    max: 1,
  }),
};

declare module '../../src/plugin/kinds.js' {
  interface StrategyPlugins {
    mas: OptionsInput<typeof options>;
  }
}

export default definePlugin({
  kind: 'strategy',
  name: 'mas',
  description: 'Memory Aware Synapses: importance from the sensitivity of the output norm',
  options,
  create(opts, ctx) {
    const rng = ctx.rng('importance');
    const penalty = new ImportancePenalty();
    return {
      name: 'mas',
      onTaskEnd({ task, model, scenario, trained }) {
        if (trained.count === 0) return;
        const names = [...model.params.keys()];
        const variables = names.map((n) => model.params.get(n)!);
        const size = trained.features.length / trained.count;
        const picks = rng.permutation(trained.count).slice(0, Math.min(opts.samples, trained.count));
        // In task-IL only the task's own outputs are the function being learned.
        const allowed = scenario.allowedOutputs(task);
        const keep = allowed
          ? tf.tensor1d(Array.from({ length: scenario.outputs }, (_, i) => (allowed.includes(i) ? 1 : 0)))
          : undefined;
        let sums: tf.Tensor[] = names.map((n) => tf.zerosLike(model.params.get(n)!));
        for (let start = 0; start < picks.length; start += opts.batchSize) {
          const rows = picks.subarray(start, start + opts.batchSize);
          const next = tf.tidy(() => {
            const x = tf.tensor2d(
              Float32Array.from(
                Array.from(rows).flatMap((i) =>
                  Array.from(featureValues(trained.features.subarray(i * size, (i + 1) * size))),
                ),
              ),
              [rows.length, size],
            );
            const { grads } = variableGrads(() => {
              let out = model.forward(x, false);
              if (keep) out = tf.mul(out, keep);
              return tf.mean<tf.Scalar>(tf.sum(tf.square(out), 1));
            }, variables);
            return variables.map((v, k) => tf.add(sums[k], tf.mul(tf.abs(grads[v.name]), rows.length)));
          });
          tf.dispose(sums);
          sums = next;
        }
        keep?.dispose();
        const importance: NamedTensors = {};
        names.forEach((n, k) => (importance[n] = tf.tidy(() => tf.div(sums[k], picks.length))));
        tf.dispose(sums);
        penalty.consolidate(importance, model, { decay: opts.decay });
      },
      loss({ params }) {
        if (opts.lambda === 0) return undefined;
        const term = penalty.term(params);
        return term ? tf.mul(term, opts.lambda) : undefined;
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
