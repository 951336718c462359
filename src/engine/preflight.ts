import type { RunConfig } from '../contracts/run-config.js';
import { ExperimentError, canonicalJson } from '../spec/validate.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { BackendInfo } from '../tensor/backend.js';
import { tf } from '../tensor/tf.js';
import { resolveTokenAsync } from '../contracts/token.js';
import { ComponentError, DatasetCache, createRunContainer } from './container.js';
import { AUGMENTATIONS, COMPONENT, PHASE_OPTIMIZERS, STRATEGIES } from './tokens.js';
import { phaseValidationFraction, planPhases } from './phases.js';
import { COMPONENT_KINDS } from '../plugin/kinds.js';
import { OptionError } from '../plugin/define-plugin.js';
import type { Strategy } from '../contracts/strategy.js';
import type { Problem } from '../plugin/options.js';
import type { Task } from '../contracts/stream.js';
import { featureSize, type Dataset } from '../contracts/data.js';
import type { Model } from '../contracts/model.js';
import { plannedSteps } from './trainer.js';
import { HoldOutError, TaskExamples } from './task-examples.js';
import { disposeRunContainer } from './dispose.js';
import { checkScheduleAgainstRun, type ScalarOrSchedule } from '../optim/schedules.js';

/**
 * A component's failure as a problem at its place in the experiment (down to the option, when the plugin names one).
 */
function problemOf(e: unknown): Problem {
  if (e instanceof ComponentError) {
    const field = e.cause instanceof OptionError ? `.${e.cause.field}` : '';
    return { path: `${e.path}${field}`, message: (e.cause as Error | undefined)?.message ?? e.message };
  }
  return { path: '(components)', message: (e as Error).message };
}

/** Data values a model cannot train on: non-finite features, labels outside the classes. */
function dataProblems(dataset: Dataset): Problem[] {
  const problems: Problem[] = [];
  const size = featureSize(dataset.featureShape);
  for (const [split, ex] of [
    ['train', dataset.train],
    ['test', dataset.test],
  ] as const) {
    // Bytes are always finite.
    const bad = ex.features instanceof Float32Array ? ex.features.findIndex((x) => !Number.isFinite(x)) : -1;
    if (bad >= 0)
      problems.push({
        path: 'dataset',
        message:
          `${split} example ${Math.floor(bad / size)} has a non-finite feature (${ex.features[bad]}) at position ` +
          `${bad % size}`,
      });
    const label = ex.labels.findIndex((l) => l < 0 || l >= dataset.numClasses);
    if (label >= 0)
      problems.push({
        path: 'dataset',
        message: `${split} example ${label} has label ${ex.labels[label]}, outside the ${dataset.numClasses} classes`,
      });
  }
  return problems;
}

/** Parameters that are not finite (a corrupt pre-trained file) would only show as a diverged run. */
function parameterProblems(model: Model): Problem[] {
  const bad = [...model.params].filter(
    ([, p]) => tf.tidy(() => tf.any(tf.logicalNot(tf.isFinite(p))).dataSync()[0]) === 1,
  );
  return bad.length
    ? [
        {
          path: 'model',
          message:
            `parameter${bad.length > 1 ? 's' : ''} ${bad.map(([n]) => n).join(', ')} ` +
            `hold${bad.length > 1 ? '' : 's'} NaN or infinite values`,
        },
      ]
    : [];
}

/**
 * Each task's training selection, as the run will draw it: a sampler that
 * cannot draw it (a k larger than a class, a fraction that leaves fewer
 * examples than classes) is a problem of the experiment, found here.
 */
function plannedTaskExamples(
  config: RunConfig,
  examples: TaskExamples,
  tasks: readonly Task[],
  validationFraction: number,
): { examples: number[]; problems: Problem[] } {
  const steps: number[] = [];
  for (const t of tasks) {
    try {
      steps.push(examples.split(t, validationFraction).train.length);
    } catch (e) {
      return {
        examples: steps,
        problems: [
          { path: e instanceof HoldOutError ? 'select.validation' : 'sampler', message: (e as Error).message },
        ],
      };
    }
  }
  const select = config.select;
  if (select && select.tasks > tasks.length)
    return {
      examples: steps,
      problems: [
        { path: 'select.tasks', message: `${select.tasks} tasks to judge on, but the stream has ${tasks.length}` },
      ],
    };
  if (select && select.metric === 'forgetting' && (select.tasks === 1 || tasks.length < 2))
    return {
      examples: steps,
      problems: [{ path: 'select.tasks', message: 'forgetting needs at least two tasks to judge on' }],
    };
  return { examples: steps, problems: [] };
}

/**
 * What one pass over the stream and continual evaluation need of the data: a continual-evaluation subset each task's
 * test split can give, a batch no larger than what it batches (a task; the whole stream with hidden boundaries), and
 * a gradual transition that fits inside each task.
 */
function onlineProblems(config: RunConfig, tasks: readonly Task[], examples: readonly number[]): Problem[] {
  const problems: Problem[] = [];
  const subset = config.eval.continual?.subset ?? 0;
  const small = tasks.find((t) => t.test.count < subset);
  if (small)
    problems.push({
      path: 'eval.subset',
      message: `${subset} test examples per task, but task ${small.name} has ${small.test.count}`,
    });
  const online = config.online;
  if (!online) return problems;
  const { batchSize } = config.train;
  const total = examples.reduce((a, b) => a + b, 0);
  const fewest = Math.min(...examples);
  const at = examples.indexOf(fewest);
  if (online.boundaries === 'hidden' && batchSize > total)
    problems.push({
      path: 'train.batchSize',
      message: `${batchSize} is larger than the stream: its ${tasks.length} tasks have ${total} training examples`,
    });
  if (online.boundaries === 'given' && batchSize > fewest)
    problems.push({
      path: 'train.batchSize',
      message: `${batchSize} is larger than task ${tasks[at].name}, which has ${fewest} training examples`,
    });
  if (online.transition > fewest)
    problems.push({
      path: 'online.transition',
      message: `a transition of ${online.transition} examples does not fit in task ${tasks[at].name} (${fewest})`,
    });
  return problems;
}

/**
 * Schedules checked against the run's planned steps (each task's own
 * training examples; strategies that change the training set, e.g. joint,
 * are not foreseen): a warm-up longer than the run it warms up.
 */
function scheduleProblems(config: RunConfig, registry: PluginRegistry, examples: readonly number[]): Problem[] {
  const phases = config.phases ?? [
    { optimizer: config.components.optimizer, steps: config.train.steps, epochs: config.train.epochs },
  ];
  return phases.flatMap((phase, i) => {
    const schema = registry.get('optimizer', phase.optimizer.name).options;
    const options = phase.optimizer.options;
    const taskSteps = examples.map((n) =>
      plannedSteps(n, { steps: phase.steps, epochs: phase.epochs, batchSize: config.train.batchSize }),
    );
    const path = config.phases ? `phases[${i}].optimizer` : 'optimizer';
    return Object.entries(schema)
      .filter(([, f]) => f.kind === 'schedule')
      .flatMap(([key]) => checkScheduleAgainstRun(options[key] as ScalarOrSchedule, `${path}.${key}`, taskSteps));
  });
}

/**
 * Builds every component of each distinct configuration once, before any
 * run trains, so that problems only visible with the data and the model in
 * hand (a malformed data file, an `exclude` pattern that matches no
 * parameter, a class that does not exist) stop the experiment up front.
 */
export async function preflight(
  configs: readonly RunConfig[],
  registry: PluginRegistry,
  backend: BackendInfo,
  datasets?: DatasetCache,
): Promise<void> {
  const seen = new Set<string>();
  // A data set shared by several configurations (the cache hands out one object) is scanned once.
  const checkedData = new WeakSet<Dataset>();
  // Configurations that differ only in strategy, scenario or optimizer look at one copy of their tasks.
  const shared = (datasets ?? new DatasetCache()).sharingStreams();
  for (const config of configs) {
    const key = canonicalJson({
      c: config.components,
      st: config.strategies,
      s: config.scenario,
      a: config.augment,
      p: config.phases,
      t: config.train.params ?? null,
      b: config.train.batchSize,
      e: config.eval.continual ?? null,
      o: config.online ?? null,
    });
    if (seen.has(key)) continue;
    seen.add(key);
    const before = tf.memory().numTensors;
    const container = createRunContainer(config, registry, backend, shared);
    let strategies: Strategy[] = [];
    try {
      for (const token of [AUGMENTATIONS, ...COMPONENT_KINDS.map((k) => COMPONENT[k]), STRATEGIES, PHASE_OPTIMIZERS]) {
        try {
          const built = await resolveTokenAsync<unknown>(container, token);
          if (token === STRATEGIES) strategies = built as Strategy[];
        } catch (e) {
          throw new ExperimentError(config.experimentFile, [problemOf(e)]);
        }
      }
      const stream = await resolveTokenAsync(container, COMPONENT.stream);
      const examples = await container.getAsync(TaskExamples);
      const dataset = await resolveTokenAsync(container, COMPONENT.dataset);
      if (!checkedData.has(dataset)) {
        checkedData.add(dataset);
        const bad = dataProblems(dataset);
        if (bad.length) throw new ExperimentError(config.experimentFile, bad);
      }
      const badParams = parameterProblems(await resolveTokenAsync(container, COMPONENT.model));
      if (badParams.length) throw new ExperimentError(config.experimentFile, badParams);
      let validationFraction: number;
      try {
        // Trainable-parameter patterns need the model's names; the phases must agree on their hold-out.
        validationFraction = phaseValidationFraction(
          planPhases(
            config,
            await resolveTokenAsync(container, COMPONENT.model),
            await resolveTokenAsync(container, PHASE_OPTIMIZERS),
          ),
        );
      } catch (e) {
        throw new ExperimentError(config.experimentFile, [problemOf(e)]);
      }
      const planned = plannedTaskExamples(config, examples, stream.tasks, validationFraction);
      const problems = [
        ...planned.problems,
        ...(planned.problems.length ? [] : scheduleProblems(config, registry, planned.examples)),
        ...(planned.problems.length ? [] : onlineProblems(config, stream.tasks, planned.examples)),
      ];
      if (problems.length) throw new ExperimentError(config.experimentFile, problems);
      const needsImages = config.eval.ood.filter((o) => o.corruption === 'blur' || o.corruption === 'rotation');
      if (needsImages.length && stream.featureShape.length !== 3) {
        throw new ExperimentError(config.experimentFile, [
          {
            path: 'eval.ood',
            message:
              `${needsImages.map((o) => o.corruption).join(', ')} need images [height, width, channels]; examples ` +
              `have shape [${stream.featureShape}]`,
          },
        ]);
      }
    } finally {
      for (const st of strategies) st.dispose?.();
      await disposeRunContainer(container);
    }
    // Reached only when nothing else went wrong: a plugin that fails after making tensors is seen
    // with its own message, never behind a leak report.
    const leaked = tf.memory().numTensors - before;
    if (leaked > 0) throw new Error(`internal error: preflight leaked ${leaked} tensors`);
  }
}
