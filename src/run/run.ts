import { resolve } from 'node:path';
import { Observable } from 'rxjs';
import { saveLayersModel } from '../models/layers-file.js';
import type { Model } from '../contracts/model.js';
import { tf } from '../tensor/tf.js';
import type { RunConfig } from '../spec/spec.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { BackendInfo } from '../tensor/backend.js';
import { Optimizer } from '../optim/optimizer.js';
import { expandModelTemplate } from '../spec/model-path.js';
import { DatasetCache, createRunContainer } from './container.js';
import { Evaluator } from './evaluate.js';
import type { RunEvent, RunStatus } from './events.js';
import { DivergedError, InterruptedError, TaskTrainer } from './train-task.js';
import { ANCHORS, AUGMENTATIONS, COMPONENT, PHASE_OPTIMIZERS, SCENARIO, STRATEGIES } from './tokens.js';
import { phaseValidationFraction, planPhases } from './phases.js';
import type { TaskContext } from '../contracts/strategy.js';
import { StrategyPipeline } from './pipeline.js';
import { strategyLabel } from '../spec/strategy-label.js';
import type { Task } from '../contracts/stream.js';
import { resolveToken, resolveTokenAsync } from '../contracts/token.js';
import type { CheckpointStore } from '../checkpoint/store.js';
import type { Snapshot } from '../contracts/snapshot.js';
import type { SavedOptimizerState } from '../optim/optimizer.js';
import { RunCheckpointer, release, type ResumePoint } from './checkpointing.js';
import type { TrainHooks } from './train-task.js';
import { optimizerKey, whyNotTogether, type Lane } from './together.js';

export interface RunOptions {
  /** Aborting stops the run after the current step; it ends as `interrupted`. */
  signal?: AbortSignal;
  /** Results root: where `saveModel` paths are resolved. Default: ./results. */
  out?: string;
  /** Data sets shared with other runs of this process. */
  datasets?: DatasetCache;
  /** Where the run checkpoints, and resumes from when a checkpoint is there; none: no checkpoints. */
  checkpoints?: CheckpointStore;
  /** The run's place in a group of runs trained together (src/run/together.ts); it then writes no checkpoints. */
  lane?: Lane;
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
    execute(config, registry, backend, emit, signal, options.out ?? 'results', options.datasets, options.lane ? undefined : options.checkpoints, options.lane).then(
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
  store: CheckpointStore | undefined,
  lane: Lane | undefined,
): Promise<void> {
  const started = performance.now();
  const runId = config.runId;
  const container = createRunContainer(config, registry, backend, datasets, lane ?? null);
  const rates: number[] = [];
  let status: RunStatus = 'completed';
  let error: string | undefined;
  /** One per phase of a task (one without phases), each with its own state, carried across tasks. */
  let optimizers: Optimizer[] = [];
  /** Steps of optimizers replaced by a model reset. */
  let priorSteps = 0;
  let evaluator: Evaluator | undefined;
  let trainer: TaskTrainer | undefined;
  let pipeline: StrategyPipeline | undefined;
  let steps = 0;
  let interpolationSeconds: number | undefined;
  let startEmitted = false;
  let checkpointer: RunCheckpointer | undefined;
  const numTensorsBefore = tf.memory().numTensors;
  const emitOuter = emit;
  emit = (e: RunEvent) => {
    checkpointer?.track(e);
    emitOuter(e);
  };
  let captureWithin: (() => Snapshot) | undefined;
  const initialBuffers = new Map<string, tf.Tensor>();
  try {
    const stream = await resolveTokenAsync(container, COMPONENT.stream);
    const model = await resolveTokenAsync(container, COMPONENT.model);
    const plans = planPhases(config, model, await resolveTokenAsync(container, PHASE_OPTIMIZERS));
    const phased = config.phases !== null;
    const anchors = resolveToken(container, ANCHORS);
    pipeline = new StrategyPipeline(await resolveTokenAsync(container, STRATEGIES));
    const strategies = pipeline;
    const scenario = await resolveTokenAsync(container, SCENARIO);
    trainer = await container.getAsync(TaskTrainer);
    evaluator = await container.getAsync(Evaluator);
    const selections = stream.tasks.map((t) => trainer!.select(t, phaseValidationFraction(plans)));
    for (const t of stream.tasks) if (selections[t.index].heldOut.length) evaluator.holdOut(t, selections[t.index].heldOut);
    const selection = (t: Task) => trainer!.trainingSet(t, selections[t.index].train);
    const contextOf = (task: Task): Omit<TaskContext, 'state'> => ({ task, stream, model, scenario, selection });
    emit({
      type: 'run-start',
      runId,
      config,
      backend,
      model: model.describe(),
      optimizer: phased ? plans.map((p) => `${p.name}: ${p.component.description}`).join('; ') : plans[0].component.description,
      strategy: strategyLabel(config.strategies),
      tasks: stream.tasks.map((t, i) => ({ index: t.index, name: t.name, classes: t.classes, trainExamples: selections[i].train.length, validationExamples: selections[i].validation.length + selections[i].heldOut.length, testExamples: t.test.count })),
      startedAt: new Date().toISOString(),
      ...(lane ? { together: lane.runs } : {}),
    });
    startEmitted = true;

    anchors.snapshot('initial', model.params);
    for (const [name, b] of model.buffers ?? []) initialBuffers.set(name, tf.clone(b));
    const newOptimizers = () => plans.map((p) => new Optimizer(p.component, p.trainable, anchors, model.rowAxis));
    optimizers = newOptimizers();
    if (lane) {
      const why = whyNotTogether(config, model, plans.map((p) => p.component), strategies.strategies);
      if (why) throw new Error(`this run cannot train together with others: ${why}`);
      lane.join({ params: model.params, layers: model.architecture!.layers, inputShape: model.architecture!.inputShape, rowAxis: model.rowAxis, component: plans[0].component, optimizerKey: optimizerKey(config.components.optimizer, plans[0].component) });
    }
    const runSteps = () => priorSteps + optimizers.reduce((sum, o) => sum + o.stepCount, 0);
    // The first phase's state keeps the key runs without phases always had; later phases' follow.
    const saveOptimizers = (): Snapshot => ({
      optimizer: optimizers[0].save() as unknown as Snapshot,
      ...(optimizers.length > 1 ? { phaseOptimizers: optimizers.slice(1).map((o) => o.save() as unknown as Snapshot) } : {}),
    });
    const loadOptimizers = (saved: Snapshot) => {
      const later = (saved.phaseOptimizers ?? []) as unknown as SavedOptimizerState[];
      if (later.length !== optimizers.length - 1) throw new Error(`checkpoint: it holds ${later.length + 1} phase optimizer states, the run has ${optimizers.length} phases`);
      optimizers[0].load(saved.optimizer as unknown as SavedOptimizerState);
      later.forEach((st, i) => optimizers[i + 1].load(st));
    };

    let resume: ResumePoint | undefined;
    if (store) {
      const unable = strategies.notCheckpointable;
      if (unable.length) emit({ type: 'warning', runId, message: `checkpoints off: strategy ${unable.join(', ')} has no checkpoint()/restore(), so a resumed run could not continue exactly` });
      else {
        checkpointer = new RunCheckpointer(store, config.checkpoint, runId, backend.name, emit);
        try {
          const loaded = checkpointer.load();
          if (loaded) {
            resume = loaded;
            emit({ type: 'resumed', runId, task: loaded.task, step: loaded.mid?.step ?? 0, rows: loaded.rows, checkpoint: store.dir });
          }
        } catch (e) {
          emit({ type: 'warning', runId, message: `the checkpoint does not read back (${(e as Error).message}); the run starts from the beginning` });
          checkpointer = new RunCheckpointer(store, config.checkpoint, runId, backend.name, emit);
        }
      }
    }
    const params = (): Snapshot => Object.fromEntries(model.params);
    const assignParams = (saved: Snapshot) => {
      for (const [name, v] of model.params) {
        const t = saved[name] as tf.Tensor | undefined;
        if (!t || t.shape.join('x') !== v.shape.join('x')) throw new Error(`checkpoint: parameter ${name} is missing or has another shape`);
        v.assign(t);
      }
    };
    const modelState = (): Snapshot => model.snapshot?.() ?? {};
    const restoreModelState = (saved: Snapshot | undefined) => {
      if (saved && model.restore) model.restore(saved);
    };
    const captureBoundary = (): Snapshot => ({ params: params(), model: modelState(), ...saveOptimizers(), pipeline: strategies.checkpoint(), priorSteps });
    captureWithin = () => ({ params: params(), model: modelState(), ...saveOptimizers(), steps: strategies.stepStates() });

    const evaluateAll = async (trainedTask: number) => {
      const predict = strategies.predictor;
      for (const evalSet of evaluator!.setNames) {
        for (const t of stream.tasks) {
          const r = await evaluator!.evaluate(t, evalSet, trainedTask >= 0 ? predict : undefined);
          emit({ type: 'eval', runId, trainedTask, evalTask: t.index, evalSet, ...r });
        }
      }
    };
    if (resume) {
      const b = resume.boundary;
      assignParams(b.params as Snapshot);
      restoreModelState(b.model as Snapshot | undefined);
      loadOptimizers(b);
      strategies.restore(b.pipeline as Snapshot);
      priorSteps = b.priorSteps as number;
      release(b);
    } else {
      // The untrained model's accuracy is the b_j of forward transfer.
      await evaluateAll(-1);
    }
    for (const task of stream.tasks.slice(resume?.task ?? 0)) {
      const resumedHere = resume !== undefined && task.index === resume.task;
      if (checkpointer && !resumedHere) await checkpointer.beforeTask(task.index, captureBoundary());
      if (signal.aborted) throw new InterruptedError('interrupted');
      const taskStart = performance.now();
      if (plans.some((p) => p.component.anchor === 'task-start')) anchors.snapshot('task-start', model.params);
      const ctx = contextOf(task);
      const { resetModel } = await strategies.onTaskStart(ctx);
      if (resetModel) {
        if (lane) throw new Error('a strategy restarted the model from its initial parameters, which runs trained together cannot do');
        // GDumb: the model starts again from the run's initial parameters, with a fresh optimizer.
        const initial = anchors.get('initial', model.params);
        for (const [name, v] of model.params) v.assign(initial[name]);
        for (const [name, b] of model.buffers ?? []) b.assign(initialBuffers.get(name)!);
        priorSteps = runSteps();
        for (const o of optimizers) o.dispose();
        optimizers = newOptimizers();
      }
      for (const o of optimizers) o.onTaskStart();
      const data = strategies.trainingSet(ctx) ?? ctx.selection(task);
      const validation = selections[task.index].validation.length ? trainer.trainingSet(task, selections[task.index].validation) : undefined;
      const phaseSteps = plans.map((p) => (data.count === 0 ? 0 : p.steps(data.count)));
      const taskSteps = phaseSteps.reduce((a, b) => a + b, 0);
      emit({ type: 'task-start', runId, task: task.index, name: task.name, examples: data.count, steps: taskSteps });
      await strategies.onTrainingStart({ ...ctx, data, steps: taskSteps, batchSize: config.train.batchSize, rowsAt: trainer.rowsAt(data.count, phaseSteps) });
      const within = resumedHere ? resume!.mid : undefined;
      const hooks: TrainHooks = {};
      if (within) {
        hooks.resumeAt = {
          step: within.step,
          phases: within.phases,
          restore: () => {
            assignParams(within.state.params as Snapshot);
            restoreModelState(within.state.model as Snapshot | undefined);
            loadOptimizers(within.state);
            strategies.restoreSteps(within.state.steps as Snapshot[]);
            release(within.state);
          },
        };
      }
      if (checkpointer) {
        const cp = checkpointer;
        cp.startTask(within?.step ?? 0);
        hooks.afterStep = async (position) => {
          const reason = cp.due(position);
          if (reason) await cp.within(position, captureWithin!(), reason);
        };
      }
      let offset = 0;
      let pendingResume = within ? hooks.resumeAt : undefined;
      for (const plan of plans) {
        const steps = phaseSteps[plan.index];
        const first = offset;
        offset += steps;
        // Resuming: the phases wholly done before the checkpoint are passed over; the one it is in restores it.
        if (within && within.step > offset) continue;
        const optimizer = optimizers[plan.index];
        const phaseHooks: TrainHooks = { afterStep: hooks.afterStep };
        if (pendingResume) {
          phaseHooks.resumeAt = pendingResume;
          pendingResume = undefined;
        }
        const announce = phased ? { name: plan.name, optimizer: plan.component.description, trainable: [...plan.trainable.keys()], frozen: model.params.size - plan.trainable.size } : undefined;
        const segment = { phase: plan.index, offset: first, steps, variables: [...plan.trainable.values()], globalStep: runSteps, announce };
        for await (const event of trainer.train(task, data, validation, optimizer, strategies, signal, phaseHooks, segment)) {
          if (event.type === 'step') rates.push(event.examplesPerSecond / config.train.batchSize);
          emit(event);
        }
      }
      await strategies.onTaskEnd({ ...ctx, trained: data });
      await evaluateAll(task.index);
      emit({ type: 'task-end', runId, task: task.index, seconds: (performance.now() - taskStart) / 1000 });
    }
    if (config.eval.interpolate?.length) {
      const started = performance.now();
      await evaluateInterpolations(config.eval.interpolate, model, anchors.get('initial', model.params), async (alpha) => {
        for (const evalSet of evaluator!.setNames) {
          for (const t of stream.tasks) {
            // The interpolated model's own outputs: a strategy's prediction (iCaRL's class means) belongs to the final weights.
            const r = await evaluator!.evaluate(t, evalSet);
            emit({ type: 'interpolation-eval', runId, alpha, trainedTask: stream.tasks.length - 1, evalTask: t.index, evalSet, ...r });
          }
        }
      });
      interpolationSeconds = (performance.now() - started) / 1000;
    }
    if (config.saveModel) {
      if (!model.architecture) throw new Error(`model '${config.components.model.name}' cannot be saved as a Layers model (it describes no layer graph)`);
      const values = new Map<string, { shape: number[]; values: Float32Array }>();
      for (const [name, v] of [...model.params, ...(model.buffers ?? [])]) values.set(name, { shape: v.shape, values: (await v.data()) as Float32Array });
      saveLayersModel(modelPath(config, out), model.architecture.layers, model.architecture.inputShape, values);
    }
  } catch (e) {
    status = e instanceof DivergedError ? 'diverged' : e instanceof InterruptedError ? 'interrupted' : 'failed';
    error = (e as Error).message;
    // Stopped within a task: keep the steps done so far (between tasks the boundary checkpoint already holds everything).
    if (status === 'interrupted' && checkpointer && trainer?.position && captureWithin) {
      try {
        await checkpointer.within(trainer.position, captureWithin(), 'interrupt');
      } catch (ce) {
        emit({ type: 'warning', runId, message: `could not write a checkpoint on interrupt: ${(ce as Error).message}` });
      }
    }
    if (!startEmitted) {
      emit({ type: 'run-start', runId, config, backend, model: '', optimizer: '', strategy: '', tasks: [], startedAt: new Date().toISOString() });
    }
  } finally {
    // The others train on without this run (it finished, diverged or failed).
    lane?.leave();
    steps = priorSteps + optimizers.reduce((sum, o) => sum + o.stepCount, 0);
    for (const o of optimizers) o.dispose();
    tf.dispose([...initialBuffers.values()]);
    evaluator?.dispose();
    trainer?.dispose();
    pipeline?.dispose();
    resolveToken(container, ANCHORS).dispose();
    try {
      for (const a of await resolveTokenAsync(container, AUGMENTATIONS)) a.dispose?.();
    } catch {
      /* they never got built */
    }
    if (container.isBound(COMPONENT.model)) {
      try {
        (await resolveTokenAsync(container, COMPONENT.model)).dispose();
      } catch {
        /* the model never got built: nothing to free */
      }
    }
    // Runs trained together share the process's tensor count while they run: their group checks it (schedule.ts).
    const leaked = lane ? 0 : tf.memory().numTensors - numTensorsBefore;
    if (leaked > 0 && status === 'completed') {
      status = 'failed';
      error = `internal error: ${leaked} tensors were not freed by the end of the run`;
    }
  }
  emit({ type: 'run-end', runId, status, error, seconds: (performance.now() - started) / 1000, steps, stepsPerSecond: median(rates), ...(interpolationSeconds !== undefined ? { interpolationSeconds } : {}) });
}

/**
 * WiSE-FT: for each α, the parameters become (1 − α)·anchor + α·final (the
 * products in that order, so α = 0 gives the anchor and α = 1 the final
 * weights bit for bit), `score` evaluates, and the final weights come back.
 * Parameters without an anchor (a fresh head) keep their final value;
 * buffers (batch norm's statistics) keep the final model's.
 */
export async function evaluateInterpolations(alphas: readonly number[], model: Model, anchor: Readonly<Record<string, tf.Tensor>>, score: (alpha: number) => Promise<void>): Promise<void> {
  const final = new Map([...model.params].map(([name, v]) => [name, tf.clone(v)]));
  try {
    for (const alpha of alphas) {
      for (const [name, v] of model.params) {
        if (model.fresh?.has(name)) continue;
        tf.tidy(() => v.assign(tf.add(tf.mul(anchor[name], 1 - alpha), tf.mul(final.get(name)!, alpha))));
      }
      await score(alpha);
    }
  } finally {
    for (const [name, v] of model.params) v.assign(final.get(name)!);
    tf.dispose([...final.values()]);
  }
}
