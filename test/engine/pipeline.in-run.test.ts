// The step pipeline's contract: hooks run in the documented order, for each
// strategy in the listed order; what they return is combined; step state is
// owned by the loop; a user's strategy plugin uses exactly these hooks.
import { beforeAll, describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import { join } from 'node:path';
import { runEvents } from '../../src/engine/session.js';
import { selectBackend, type BackendInfo } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import { builtinPlugins } from '../../plugins/index.js';
import { PluginRegistry } from '../../src/plugin/registry.js';
import { definePlugin } from '../../src/plugin/define-plugin.js';
import { o } from '../../src/plugin/options.js';
import { validateExperiment } from '../../src/spec/validate.js';
import type { RunEvent } from '../../src/contracts/events.js';
import { ROOT, TINY_SPEC } from '../helpers.js';

let backend: BackendInfo;
beforeAll(async () => {
  backend = await selectBackend('auto');
});

function recorder(log: string[]) {
  return definePlugin({
    kind: 'strategy',
    name: 'recorder',
    description: 'records its hook calls',
    options: {
      tag: o.string({ description: 'label in the log', default: 'r' }),
      extra: o.number({ description: 'constant loss term', default: 0, min: 0 }),
    },
    create: (opts) => ({
      name: 'recorder',
      onTaskStart: ({ task, model }) => {
        log.push(`${opts.tag}:taskStart:${task.index}`);
        return { state: { steps: tf.scalar(0), probe: tf.zerosLike(model.params.get('head.bias')!) } };
      },
      trainingSet: (ctx) => {
        log.push(`${opts.tag}:trainingSet:${ctx.task.index}`);
        return ctx.sampledTrainingSet(ctx.task);
      },
      onTrainingStart: ({ task, steps }) => void log.push(`${opts.tag}:trainingStart:${task.index}:${steps}`),
      composeBatch: (batch) => {
        if (batch.step === 1) log.push(`${opts.tag}:compose`);
        return {
          rows: {
            x: tf.slice(batch.x, [0, 0], [1, -1]),
            labels: tf.slice(batch.labels, [0], [1]),
            taskIds: tf.slice(batch.taskIds, [0], [1]),
            weight: 0,
          },
        };
      },
      loss: ({ step, own, sampled, replayed, x }) => {
        if (step === 1)
          log.push(
            `${opts.tag}:loss:own@${own[0].start}+${own[0].count}:` +
              `sampled=${sampled}:rows=${x.shape[0]}:replayed=${replayed.shape[0]}`,
          );
        return opts.extra ? tf.scalar(opts.extra) : undefined;
      },
      gradients: ({ step, grads }) => {
        if (step === 1) log.push(`${opts.tag}:gradients`);
        return grads;
      },
      afterStep: ({ step, state }) => {
        if (step === 1) log.push(`${opts.tag}:afterStep`);
        return { steps: tf.add(state.steps, 1), probe: state.probe };
      },
      onTaskEnd: ({ task, state }) =>
        void log.push(`${opts.tag}:taskEnd:${task.index}:steps=${state.steps.dataSync()[0]}`),
    }),
  });
}

async function runWith(log: string[], strategies: object[]) {
  const registry = new PluginRegistry([...builtinPlugins, recorder(log)]);
  const [config] = validateExperiment({ ...TINY_SPEC, strategies }, registry, join(ROOT, 'test', 'virtual.ts'));
  const before = tf.memory().numTensors;
  const events: RunEvent[] = await lastValueFrom(runEvents(config, registry, backend).pipe(toArray()));
  expect(events.at(-1)).toMatchObject({ type: 'run-end', status: 'completed' });
  expect(tf.memory().numTensors).toBe(before);
  return events;
}

describe('step pipeline', () => {
  it(
    "calls every hook in the documented order, strategy by strategy in the listed order, and places each one's " +
      'rows',
    async () => {
      const log: string[] = [];
      const events = await runWith(log, [
        { name: 'recorder', tag: 'a' },
        { name: 'recorder', tag: 'b' },
      ]);
      const steps = (events.find((e) => e.type === 'task-start') as { steps: number }).steps;
      const task0 = log.slice(0, log.indexOf('a:taskStart:1'));
      expect(task0).toEqual([
        'a:taskStart:0',
        'b:taskStart:0',
        'a:trainingSet:0',
        'b:trainingSet:0',
        `a:trainingStart:0:${steps}`,
        `b:trainingStart:0:${steps}`,
        'a:compose',
        'b:compose',
        // TINY_SPEC: batch 16; a's extra row sits at 16, b's at 17.
        'a:loss:own@16+1:sampled=16:rows=18:replayed=18',
        'b:loss:own@17+1:sampled=16:rows=18:replayed=18',
        'a:gradients',
        'b:gradients',
        'a:afterStep',
        'b:afterStep',
        // The step state went through every step of the task, kept and freed by the loop.
        `a:taskEnd:0:steps=${steps}`,
        `b:taskEnd:0:steps=${steps}`,
      ]);
    },
  );

  it("adds strategies' loss terms to the logged loss", async () => {
    const loss = async (extra: number) => {
      const events = await runWith([], [{ name: 'recorder', extra }]);
      return (events.find((e) => e.type === 'step') as { loss: number }).loss;
    };
    expect((await loss(5)) - (await loss(0))).toBeCloseTo(5, 4);
  });
});
