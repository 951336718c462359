// TensorBoard event files through tfjs-node's summary writer: the loss and
// learning rate per logged step, accuracy on every task after every task, and
// for anchored optimizers each tensor's constraint and distance from the
// anchor. One log folder per run: `tensorboard --logdir results/<exp>/tensorboard`.
import { definePlugin, o, summaryFileWriter, type OptionsInput } from '../../src/plugin-api.js';
import { join } from 'node:path';
import type { RunEvent } from '../../src/contracts/events.js';

const options = {
  dir: o.string({
    description: 'log folder under <out>/<experiment>/ (one subfolder per run)',
    default: 'tensorboard',
    nonEmpty: true,
  }),
};

declare module '../../src/plugin/kinds.js' {
  interface ReporterPlugins {
    tensorboard: OptionsInput<typeof options>;
  }
}

export default definePlugin({
  kind: 'reporter',
  name: 'tensorboard',
  description:
    'TensorBoard event files (loss, learning rate, accuracies, constraints) per run; needs the native ' +
    'TensorFlow backend',
  options,
  create(opts, ctx) {
    if (ctx.backend.name !== 'tensorflow') {
      throw new Error(
        `the tensorboard reporter writes event files with tfjs-node's summary writer, which needs the native ` +
          `TensorFlow backend; this sweep runs on ${ctx.backend.name} (set it up with \`anchorage setup native\`, ` +
          `then --backend tensorflow)`,
      );
    }
    const root = join(ctx.out, ctx.experiment, opts.dir);
    return {
      name: 'tensorboard',
      onRun(events, config) {
        // Flushed every 10 s and at the run's end, so TensorBoard follows a long run as it trains.
        const writer = summaryFileWriter(join(root, config.runId), 100, 10_000);
        const seen = new Map<string, number[]>();
        return new Promise<void>((resolve, reject) => {
          events.subscribe({
            next(e: RunEvent) {
              switch (e.type) {
                case 'step':
                  writer.scalar('train/loss', e.loss, e.globalStep);
                  writer.scalar('train/learning_rate', e.learningRate, e.globalStep);
                  break;
                case 'constraints':
                  for (const t of e.tensors) {
                    if (Number.isFinite(t.constraint))
                      writer.scalar(`constraint/${t.tensor}`, t.constraint, e.globalStep);
                    writer.scalar(`distance/${t.tensor}`, t.distance, e.globalStep);
                  }
                  break;
                case 'eval': {
                  // Step = tasks trained so far (0: the untrained model).
                  writer.scalar(`accuracy_${e.evalSet}/task_${e.evalTask}`, e.accuracy, e.trainedTask + 1);
                  const key = `${e.evalSet}|${e.trainedTask}`;
                  const accs = [...(seen.get(key) ?? []), e.accuracy];
                  seen.set(key, accs);
                  break;
                }
                case 'task-end':
                  for (const [key, accs] of seen) {
                    const [set, trained] = key.split('|');
                    if (Number(trained) === e.task)
                      writer.scalar(
                        `accuracy_${set}/mean_all_tasks`,
                        accs.reduce((a, b) => a + b, 0) / accs.length,
                        e.task + 1,
                      );
                  }
                  break;
                case 'run-end':
                  writer.flush();
                  break;
              }
            },
            error: reject,
            complete: () => {
              writer.flush();
              resolve();
            },
          });
        });
      },
    };
  },
});
