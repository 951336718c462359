import { resolve } from 'node:path';
import { Observable } from 'rxjs';
import { saveSequentialModel } from '../models/layers-file.js';
import { tf } from '../tensor/tf.js';
import type { RunConfig } from '../experiment/spec.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { BackendInfo } from '../tensor/backend.js';
import { Optimizer } from '../optim/optimizer.js';
import { expandModelTemplate } from '../experiment/model-path.js';
import { DatasetCache, createRunContainer } from './container.js';
import { Evaluator } from './evaluate.js';
import type { RunEvent, RunStatus } from './events.js';
import { DivergedError, InterruptedError, TaskTrainer, plannedSteps } from './train-task.js';
import { ANCHORS, COMPONENT, SCENARIO, STRATEGIES } from './tokens.js';
import type { TaskContext } from '../contracts/strategy.js';
import { StrategyPipeline } from './pipeline.js';
import { strategyLabel } from '../experiment/strategy-label.js';
import type { Task } from '../contracts/stream.js';
import { resolveToken, resolveTokenAsync } from '../contracts/token.js';

export interface RunOptions {
  /** Aborting stops the run after the current step; it ends as `interrupted`. */
  signal?: AbortSignal;
  /** Results root: where `saveModel` paths are resolved. Default: ./results. */
  out?: string;
  /** Data sets shared with other runs of this process. */
  datasets?: DatasetCache;
}

/** Where a run's trained model is saved: the experiment's template under the results root. */
export function modelPath(config: RunConfig, out: string): string {
  return resolve(out, expandModelTemplate(config));
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * One run as a cold Observable of typed events: subscribing starts it;
 * unsubscribing interrupts it. The run always ends with a `run-end` event
 * (completed, failed, diverged or interrupted), then completes.
 */
export function runEvents(config: RunConfig, registry: PluginRegistry, backend: BackendInfo, options: RunOptions = {}): Observable<RunEvent> {
  return new Observable<RunEvent>((subscriber) => {
    const local = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, local.signal]) : local.signal;
    const emit = (e: RunEvent) => subscriber.next(e);
    execute(config, registry, backend, emit, signal, options.out ?? 'results', options.datasets).then(
      () => subscriber.complete(),
      (e) => subscriber.error(e),
    );
    return () => local.abort();
  });
}

async function execute(
  config: RunConfig,
  registry: PluginRegistry,
  backend: BackendInfo,
  emit: (e: RunEvent) => void,
  signal: AbortSignal,
  out: string,
  datasets: DatasetCache | undefined,
): Promise<void> {
  const started = performance.now();
  const runId = config.runId;
  const container = createRunContainer(config, registry, backend, datasets);
  const rates: number[] = [];
  let status: RunStatus = 'completed';
  let error: string | undefined;
  let optimizer: Optimizer | undefined;
  /** Steps of optimizers replaced by a model reset. */
  let priorSteps = 0;
  let evaluator: Evaluator | undefined;
  let trainer: TaskTrainer | undefined;
  let pipeline: StrategyPipeline | undefined;
  let steps = 0;
  let startEmitted = false;
  const numTensorsBefore = tf.memory().numTensors;
  try {
    const stream = await resolveTokenAsync(container, COMPONENT.stream);
    const model = await resolveTokenAsync(container, COMPONENT.model);
    const component = await resolveTokenAsync(container, COMPONENT.optimizer);
    const anchors = resolveToken(container, ANCHORS);
    pipeline = new StrategyPipeline(await resolveTokenAsync(container, STRATEGIES));
    const strategies = pipeline;
    const scenario = await resolveTokenAsync(container, SCENARIO);
    trainer = await container.getAsync(TaskTrainer);
    evaluator = await container.getAsync(Evaluator);
    const selections = stream.tasks.map((t) => trainer!.select(t, component.phase?.validationFraction ?? 0));
    const selection = (t: Task) => trainer!.trainingSet(t, selections[t.index].train);
    const contextOf = (task: Task): Omit<TaskContext, 'state'> => ({ task, stream, model, scenario, selection });
    emit({
      type: 'run-start',
      runId,
      config,
      backend,
      model: model.describe(),
      optimizer: component.description,
      strategy: strategyLabel(config.strategies),
      tasks: stream.tasks.map((t, i) => ({ index: t.index, name: t.name, classes: t.classes, trainExamples: selections[i].train.length, validationExamples: selections[i].validation.length, testExamples: t.test.count })),
      startedAt: new Date().toISOString(),
    });
    startEmitted = true;

    anchors.snapshot('initial', model.params);
    optimizer = new Optimizer(component, model.params, anchors, model.rowAxis);

    const evaluateAll = async (trainedTask: number) => {
      const predict = strategies.predictor;
      for (const evalSet of evaluator!.setNames) {
        for (const t of stream.tasks) {
          const r = await evaluator!.evaluate(t, evalSet, trainedTask >= 0 ? predict : undefined);
          emit({ type: 'eval', runId, trainedTask, evalTask: t.index, evalSet, ...r });
        }
      }
    };
    // The untrained model's accuracy is the b_j of forward transfer.
    await evaluateAll(-1);
    for (const task of stream.tasks) {
      if (signal.aborted) throw new InterruptedError('interrupted');
      const taskStart = performance.now();
      if (component.anchor === 'task-start') anchors.snapshot('task-start', model.params);
      const ctx = contextOf(task);
      const { resetModel } = await strategies.onTaskStart(ctx);
      if (resetModel) {
        // GDumb: the model starts again from the run's initial parameters, with a fresh optimizer.
        const initial = anchors.get('initial', model.params);
        for (const [name, v] of model.params) v.assign(initial[name]);
        priorSteps += optimizer.stepCount;
        optimizer.dispose();
        optimizer = new Optimizer(component, model.params, anchors, model.rowAxis);
      }
      optimizer.onTaskStart();
      const data = strategies.trainingSet(ctx) ?? ctx.selection(task);
      const validation = selections[task.index].validation.length ? trainer.trainingSet(task, selections[task.index].validation) : undefined;
      const taskSteps = plannedSteps(data.count, config.train);
      emit({ type: 'task-start', runId, task: task.index, name: task.name, examples: data.count, steps: taskSteps });
      await strategies.onTrainingStart({ ...ctx, data, steps: taskSteps, batchSize: config.train.batchSize, rowsAt: trainer.rowsAt(data.count) });
      for await (const event of trainer.train(task, data, validation, optimizer, strategies, signal)) {
        if (event.type === 'step') rates.push(event.examplesPerSecond / config.train.batchSize);
        emit(event);
      }
      await strategies.onTaskEnd({ ...ctx, trained: data });
      await evaluateAll(task.index);
      emit({ type: 'task-end', runId, task: task.index, seconds: (performance.now() - taskStart) / 1000 });
    }
    if (config.saveModel) {
      if (!model.architecture) throw new Error(`model '${config.components.model.name}' cannot be saved as a Layers model (it describes no sequential architecture)`);
      const values = new Map<string, { shape: number[]; values: Float32Array }>();
      for (const [name, v] of model.params) values.set(name, { shape: v.shape, values: (await v.data()) as Float32Array });
      saveSequentialModel(modelPath(config, out), model.architecture.layers, model.architecture.inputShape, values);
    }
  } catch (e) {
    status = e instanceof DivergedError ? 'diverged' : e instanceof InterruptedError ? 'interrupted' : 'failed';
    error = (e as Error).message;
    if (!startEmitted) {
      emit({ type: 'run-start', runId, config, backend, model: '', optimizer: '', strategy: '', tasks: [], startedAt: new Date().toISOString() });
    }
  } finally {
    steps = priorSteps + (optimizer?.stepCount ?? 0);
    optimizer?.dispose();
    evaluator?.dispose();
    trainer?.dispose();
    pipeline?.dispose();
    resolveToken(container, ANCHORS).dispose();
    if (container.isBound(COMPONENT.model)) {
      try {
        (await resolveTokenAsync(container, COMPONENT.model)).dispose();
      } catch {
        /* the model never got built: nothing to free */
      }
    }
    const leaked = tf.memory().numTensors - numTensorsBefore;
    if (leaked > 0 && status === 'completed') {
      status = 'failed';
      error = `internal error: ${leaked} tensors were not freed by the end of the run`;
    }
  }
  emit({ type: 'run-end', runId, status, error, seconds: (performance.now() - started) / 1000, steps, stepsPerSecond: median(rates) });
}
