// The trainer on its own, with a step that records what it is handed: the
// order of epochs and batches, step numbers across phases, logging points,
// resuming within a phase, divergence and interruption — without a model.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';
import { Rng } from '../../src/tensor/rng.js';
import type { RunConfig } from '../../src/contracts/run-config.js';
import type { ScenarioView } from '../../src/contracts/scenario.js';
import type { Sampler } from '../../src/contracts/sampler.js';
import type { Task, TaskStream } from '../../src/contracts/stream.js';
import type { TrainingSet } from '../../src/contracts/strategy.js';
import type { RunEvent } from '../../src/contracts/events.js';
import {
  DivergedError,
  InterruptedError,
  TaskTrainer,
  plannedSteps,
  rowsAt,
  type PhaseRun,
  type PhaseSegment,
} from '../../src/engine/trainer.js';
import type { SampledAt, StepReadout, TrainingStep } from '../../src/engine/step.js';

const EXAMPLES = 10;
const task: Task = {
  index: 0,
  name: 't0',
  classes: [0, 1],
  train: { features: new Float32Array(EXAMPLES * 2), labels: new Int32Array(EXAMPLES), count: EXAMPLES },
  test: { features: new Float32Array(0), labels: new Int32Array(0), count: 0 },
};
// Feature 0 of each example is its index: a batch shows which examples it holds.
const data: TrainingSet = {
  features: Float32Array.from({ length: EXAMPLES * 2 }, (_, i) => (i % 2 === 0 ? i / 2 : 0)),
  labels: Int32Array.from({ length: EXAMPLES }, (_, i) => i % 2),
  taskIds: new Int32Array(EXAMPLES),
  count: EXAMPLES,
};
const stream: TaskStream = { name: 's', featureShape: [2], numClasses: 2, tasks: [task] };
const scenario: ScenarioView = {
  scenario: 'class-il',
  outputs: 2,
  labels: (t, s) => t[s].labels,
  allowedOutputs: () => null,
};
// Epoch e visits the examples rotated by e: orders are told apart without randomness.
const sampler: Sampler = {
  subset: (t) => Int32Array.from({ length: t.train.count }, (_, i) => i),
  order: (sel, epoch) => Int32Array.from(sel, (_, i) => sel[(i + epoch) % sel.length]),
};

function trainerWith(train: Partial<RunConfig['train']>, phases: RunConfig['phases'] = null): TaskTrainer {
  const config = {
    runId: 'r',
    train: { epochs: 1, steps: 0, batchSize: 4, logEvery: 2, ...train },
    phases,
  } as RunConfig;
  return new TaskTrainer(config, scenario, sampler, stream, new Rng(1));
}

/** A step that records each batch's example indices and returns `loss(step)` at logging points. */
class RecordingStep {
  readonly batches: { step: number; log: boolean; examples: number[] }[] = [];
  validationBatches = 0;
  learningRate = 0.1;
  constructor(private readonly loss: (step: number) => number = () => 0.5) {}
  skipValidation(n: number): void {
    this.validationBatches += n;
  }
  async take(at: SampledAt, log: boolean): Promise<StepReadout | undefined> {
    const s = at.slice();
    const first = tf.slice(s.x, [0, 0], [-1, 1]);
    const examples = Array.from(await first.data());
    tf.dispose([first, s.x, s.labels, s.taskIds]);
    this.batches.push({ step: at.step, log, examples });
    return log ? { loss: this.loss(at.step) } : undefined;
  }
}

async function run(
  trainer: TaskTrainer,
  step: RecordingStep,
  segment: Partial<PhaseSegment> & { steps: number },
  extra: Partial<PhaseRun> = {},
): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  const full: PhaseSegment = { phase: 0, offset: 0, globalStep: () => 0, ...segment };
  for await (const e of trainer.train({ task, data, segment: full, step: step as unknown as TrainingStep, ...extra }))
    events.push(e);
  return events;
}

beforeAll(async () => {
  await selectBackend((process.env.ANCHORAGE_BACKEND as 'auto' | undefined) ?? 'auto');
});

describe('TaskTrainer', () => {
  it(
    'walks the epochs in the sampler order, batch by batch, the last batch of an epoch short, and logs every ' +
      'logEvery steps and at the end',
    async () => {
      const step = new RecordingStep();
      const before = tf.memory().numTensors;
      const events = await run(trainerWith({ epochs: 2 }), step, {
        steps: plannedSteps(EXAMPLES, { epochs: 2, steps: 0, batchSize: 4 }),
      });
      expect(tf.memory().numTensors).toBe(before);
      expect(step.batches.map((b) => b.examples)).toEqual([
        [0, 1, 2, 3],
        [4, 5, 6, 7],
        [8, 9],
        [1, 2, 3, 4],
        [5, 6, 7, 8],
        [9, 0],
      ]);
      expect(step.batches.map((b) => b.step)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(step.batches.filter((b) => b.log).map((b) => b.step)).toEqual([2, 4, 6]);
      expect(events.map((e) => e.type)).toEqual(['step', 'epoch-end', 'step', 'step', 'epoch-end']);
      expect(events.filter((e) => e.type === 'epoch-end').map((e) => (e as { steps: number }).steps)).toEqual([3, 3]);
      expect(loggedSteps(events)).toEqual([2, 4, 6]);
    },
  );

  it(
    'train.steps cuts the last epoch short; a phase numbers ' + 'its steps on from its offset and announces itself',
    async () => {
      const step = new RecordingStep();
      const events = await run(trainerWith({ steps: 5 }, []), step, {
        phase: 1,
        offset: 3,
        steps: 5,
        announce: { name: 'ft', optimizer: 'adamw', trainable: ['w'], frozen: 0 },
      });
      expect(events[0]).toMatchObject({ type: 'phase-start', phase: 1, firstStep: 4, steps: 5 });
      expect(step.batches.map((b) => b.step)).toEqual([4, 5, 6, 7, 8]);
      // Steps are logged at multiples of logEvery and at the phase's last step; with phases, each says its phase.
      expect(
        events
          .filter((e) => e.type === 'step')
          .map((e) => [(e as { step: number }).step, (e as { phase?: number }).phase]),
      ).toEqual([
        [4, 1],
        [6, 1],
        [8, 1],
      ]);
    },
  );

  it(
    'resumes within a phase: epochs before the checkpoint are passed over, the step restores first, and training ' +
      'goes on from the next step',
    async () => {
      const whole = new RecordingStep();
      await run(trainerWith({ epochs: 3 }), whole, { steps: 9 });
      const resumed = new RecordingStep();
      const order: string[] = [];
      await run(
        trainerWith({ epochs: 3 }),
        resumed,
        { steps: 9 },
        { resumeAt: { step: 5, validationBatches: 2, restore: () => order.push('restore') } },
      );
      expect(order).toEqual(['restore']);
      expect(resumed.validationBatches).toBe(2);
      expect(resumed.batches).toEqual(whole.batches.slice(5));
      await expect(
        run(
          trainerWith({ epochs: 3 }),
          new RecordingStep(),
          { steps: 9 },
          { resumeAt: { step: 12, validationBatches: 0, restore: () => {} } },
        ),
      ).rejects.toThrow(/checkpoint is at step 12 of task t0, outside steps 0..9/);
    },
  );

  it(
    'asks afterStep after every step with the position, ' + 'and stops at an aborted signal or a non-finite loss',
    async () => {
      const positions: number[] = [];
      const controller = new AbortController();
      const afterStep = async (p: { step: number }) => {
        positions.push(p.step);
        if (p.step === 3) controller.abort();
      };
      const trainer = trainerWith({ epochs: 2 });
      await expect(
        run(trainer, new RecordingStep(), { steps: 6 }, { afterStep, signal: controller.signal }),
      ).rejects.toThrow(InterruptedError);
      expect(positions).toEqual([1, 2, 3]);
      expect(trainer.position).toMatchObject({ task: 0, step: 3 });
      await expect(
        run(trainerWith({ epochs: 2 }), new RecordingStep((s) => (s === 4 ? NaN : 1)), { steps: 6 }),
      ).rejects.toThrow(DivergedError);
    },
  );

  it('refuses labels outside the outputs, and trains nothing on an empty task', async () => {
    const bad = { ...data, labels: Int32Array.from(data.labels, (l, i) => (i === 3 ? 2 : l)) };
    const step = new RecordingStep();
    const t = trainerWith({});
    await expect(
      (async () => {
        for await (const _ of t.train({
          task,
          data: bad,
          segment: { phase: 0, offset: 0, steps: 3, globalStep: () => 0 },
          step: step as unknown as TrainingStep,
        }))
          void _;
      })(),
    ).rejects.toThrow(/label 2 is outside the model's 2 outputs/);
    const empty = { features: new Float32Array(0), labels: new Int32Array(0), taskIds: new Int32Array(0), count: 0 };
    const events: RunEvent[] = [];
    for await (const e of t.train({
      task,
      data: empty,
      segment: { phase: 0, offset: 0, steps: 0, globalStep: () => 0 },
      step: step as unknown as TrainingStep,
    }))
      events.push(e);
    expect(events).toEqual([]);
    expect(step.batches).toEqual([]);
  });

  it('rowsAt gives the sampled rows of each step, each phase starting its own passes over the data', () => {
    const rows = rowsAt(10, 4, [5, 4]);
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map(rows)).toEqual([4, 4, 2, 4, 4, 4, 4, 2, 4]);
  });
});

function loggedSteps(events: RunEvent[]): number[] {
  return events.filter((e) => e.type === 'step').map((e) => (e as { step: number }).step);
}
